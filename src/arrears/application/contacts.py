"""The compliance view of a contact: who is asked about, through which point, about which debt,
with which words; and the JSON a message keeps so the worker can decide again at send time."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from arrears.application.ports import LoggedContact
from arrears.compliance import codec
from arrears.compliance.facts import (
    Attempt,
    CeaseNotice,
    ContactPoint,
    Credential,
    Debt,
    Dispute,
    Facts,
    InconvenientTime,
    OptOut,
    Outcome,
    Person,
    VisitAuthorization,
)
from arrears.compliance.model import (
    Action,
    ActionKind,
    Actor,
    ActorKind,
    Decision,
    FieldVisit,
    Purpose,
    Recipient,
    Role,
)

LENDER = Actor(actor_id="lender", kind=ActorKind.INTERNAL, organisation="lender",
               collects_in_own_name=True)
"""The lender's own collection team, collecting its own debts in its own name."""

CHANNEL_KINDS: dict[str, ActionKind] = {
    "sms": ActionKind.SMS,
    "email": ActionKind.EMAIL,
    "app_push": ActionKind.APP_PUSH,
    "call": ActionKind.CALL,
    "letter": ActionKind.LETTER,
}
"""Message channels and the compliance action each one is."""

LOGGED_CHANNELS: dict[str, ActionKind] = {**CHANNEL_KINDS, "field_visit": ActionKind.FIELD_VISIT}
"""Channels a contact log row may name."""

CONTACT_OUTCOMES: dict[str, Outcome] = {
    "no_answer": Outcome.UNANSWERED,
    "busy": Outcome.NOT_CONNECTED,
    "voicemail": Outcome.VOICEMAIL,
    "conversation": Outcome.CONVERSATION,
    "refused": Outcome.CONVERSATION,  # a conversation in which the borrower refused to pay
    "wrong_party": Outcome.ANSWERED,  # the line connected, but not to the borrower
}
"""Logged contact outcomes and what the compliance history counts them as (CN-2 counts
`answered` and `conversation` as connected calls)."""

CONTACT_POINTS: dict[ActionKind, str] = {
    ActionKind.CALL: "mobile",
    ActionKind.SMS: "mobile",
    ActionKind.EMAIL: "email",
    ActionKind.APP_PUSH: "app",
    ActionKind.LETTER: "address",
    ActionKind.FIELD_VISIT: "address",
}
"""Which of the debtor's contact points each channel uses."""

AGENCY_PREFIX = "agency:"


def actor_of(actor: str) -> Actor:
    """The compliance actor behind a contact-log actor: an agency (`agency:<ref>`) is its
    own collector; every internal collector acts as the lender, so per-collector counts
    add up to the lender's (Reg F counts per debt collector, not per employee)."""
    if actor.startswith(AGENCY_PREFIX):
        ref = actor.removeprefix(AGENCY_PREFIX)
        return Actor(actor_id=actor, kind=ActorKind.AGENCY, organisation=ref)
    return LENDER


def attempts_from_log(history: Sequence[LoggedContact], person_id: str,
                      debt_ids: tuple[str, ...]) -> tuple[Attempt, ...]:
    """Logged contacts as compliance history (outbound attempts about `debt_ids`), each under
    its collector firm so frequency limits count per firm (US-2, US-5)."""
    return tuple(
        Attempt(at=contact.at, channel=LOGGED_CHANNELS.get(contact.channel, ActionKind.CALL),
                actor_id=actor_of(contact.actor).actor_id,
                organisation=actor_of(contact.actor).organisation, person_id=person_id,
                debt_ids=debt_ids,
                outcome=CONTACT_OUTCOMES.get(contact.outcome, Outcome.UNANSWERED),
                contact_point=CONTACT_POINTS.get(
                    LOGGED_CHANNELS.get(contact.channel, ActionKind.CALL), "mobile"))
        for contact in history)


@dataclass(frozen=True, slots=True, kw_only=True)
class Preferences:
    """What the borrower asked about being contacted, in force at one instant (US-9, US-12,
    US-19; `cn.house.opt_out`)."""

    opt_outs: tuple[OptOut, ...] = ()
    cease_notices: tuple[CeaseNotice, ...] = ()
    inconvenient_times: tuple[InconvenientTime, ...] = ()


NO_PREFERENCES = Preferences()


@dataclass(frozen=True, slots=True, kw_only=True)
class Debtor:
    """A borrower as the compliance engine sees them."""

    person_id: str
    zones: tuple[str, ...]
    points: tuple[ContactPoint, ...]
    debts: tuple[Debt, ...]
    attempts: tuple[Attempt, ...] = ()
    preferences: Preferences = NO_PREFERENCES
    disputes: tuple[Dispute, ...] = ()
    """Disputes about its debts (US-23, US-27; `cn.house.objection_suspends`)."""

    def facts(
        self,
        *,
        agency_whitelist: tuple[str, ...] | None = None,
        refused_to_pay_at: datetime | None = None,
        credentials: tuple[Credential, ...] = (),
        visit_authorizations: tuple[VisitAuthorization, ...] = (),
    ) -> Facts:
        person = Person(person_id=self.person_id, role=Role.BORROWER, zones=self.zones,
                        contact_points=self.points)
        wishes = self.preferences
        return Facts(debts=self.debts, people=(person,), attempts=self.attempts,
                     opt_outs=wishes.opt_outs, cease_notices=wishes.cease_notices,
                     inconvenient_times=wishes.inconvenient_times, disputes=self.disputes,
                     agency_whitelist=agency_whitelist, refused_to_pay_at=refused_to_pay_at,
                     credentials=credentials, visit_authorizations=visit_authorizations)


def contact_action(
    kind: ActionKind,
    debtor: Debtor,
    *,
    point: str,
    content: str = "",
    purpose: Purpose = Purpose.COLLECTION,
    actor: Actor = LENDER,
    visit: FieldVisit | None = None,
    voicemail: bool = False,
) -> Action:
    return Action(kind=kind, actor=actor,
                  recipient=Recipient(person_id=debtor.person_id, role=Role.BORROWER,
                                      contact_point=point),
                  debt_ids=tuple(d.debt_id for d in debtor.debts), purpose=purpose,
                  content=content, visit=visit, voicemail=voicemail)


def compliance_document(action: Action, facts: Facts, *, facts_text: str | None = None
                        ) -> str:
    """The codec JSON text of an action and its facts (the worker's send-time re-check),
    compact (`codec.to_compact_json`); `facts_text` is `compliance_facts_text(facts)` when
    the caller already has it (a loan's facts stand for each of its messages in a strategy
    run)."""
    # The text of {"action": …, "facts": …} with sorted keys, built from its two members so
    # that the facts, the larger part, are written once.
    return (f'{{"action": {_document_text(codec.to_compact_json(action))}, "facts": '
            f'{compliance_facts_text(facts) if facts_text is None else facts_text}}}')


def compliance_facts_text(facts: Facts) -> str:
    return _document_text(codec.to_compact_json(facts))


def _document_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def outbound(kind: ActionKind, debtor: Debtor, at: datetime, point: str,
             purpose: Purpose = Purpose.REMINDER) -> Attempt:
    """A message about to go out, as history for the next decision in the same run."""
    return Attempt(at=at, channel=kind, actor_id=LENDER.actor_id,
                   organisation=LENDER.organisation, person_id=debtor.person_id,
                   debt_ids=tuple(d.debt_id for d in debtor.debts), outcome=Outcome.SENT,
                   contact_point=point, purpose=purpose)


def rule_ids(decision: Decision) -> tuple[str, ...]:
    """The ids of the rules that blocked a decision."""
    return tuple(v.rule_id for v in decision.violations)


def reason(decision: Decision) -> str:
    """`rule id: detail` for every violation, one line."""
    return "; ".join(f"{v.rule_id}: {v.detail_en}" for v in decision.violations)
