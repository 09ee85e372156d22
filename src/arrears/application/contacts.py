"""The compliance view of a contact: who is asked about, through which point, about which debt,
with which words; and the JSON a message keeps so the worker can decide again at send time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from arrears.compliance import codec
from arrears.compliance.facts import Attempt, ContactPoint, Debt, Facts, Outcome, Person
from arrears.compliance.model import (
    Action,
    ActionKind,
    Actor,
    ActorKind,
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


@dataclass(frozen=True, slots=True, kw_only=True)
class Debtor:
    """A borrower as the compliance engine sees them."""

    person_id: str
    zones: tuple[str, ...]
    points: tuple[ContactPoint, ...]
    debts: tuple[Debt, ...]
    attempts: tuple[Attempt, ...] = ()

    def facts(self, *, agency_whitelist: tuple[str, ...] | None = None) -> Facts:
        person = Person(person_id=self.person_id, role=Role.BORROWER, zones=self.zones,
                        contact_points=self.points)
        return Facts(debts=self.debts, people=(person,), attempts=self.attempts,
                     agency_whitelist=agency_whitelist)


def contact_action(
    kind: ActionKind,
    debtor: Debtor,
    *,
    point: str,
    content: str = "",
    purpose: Purpose = Purpose.COLLECTION,
    actor: Actor = LENDER,
    visit: FieldVisit | None = None,
) -> Action:
    return Action(kind=kind, actor=actor,
                  recipient=Recipient(person_id=debtor.person_id, role=Role.BORROWER,
                                      contact_point=point),
                  debt_ids=tuple(d.debt_id for d in debtor.debts), purpose=purpose,
                  content=content, visit=visit)


def compliance_document(action: Action, facts: Facts) -> dict[str, Any]:
    """The codec JSON of an action and its facts (the worker's send-time re-check)."""
    return {"action": codec.to_json(action), "facts": codec.to_json(facts)}


def outbound(kind: ActionKind, debtor: Debtor, at: datetime, point: str,
             purpose: Purpose = Purpose.REMINDER) -> Attempt:
    """A message about to go out, as history for the next decision in the same run."""
    return Attempt(at=at, channel=kind, actor_id=LENDER.actor_id, person_id=debtor.person_id,
                   debt_ids=tuple(d.debt_id for d in debtor.debts), outcome=Outcome.SENT,
                   contact_point=point, purpose=purpose)
