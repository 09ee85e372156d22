"""Typed facts that rules may read, and the per-facts index the frequency rules search.

Facts describe one case at the moment of the decision: the people and how to reach them, the
history of attempts and conversations, consents, cease and opt-out notices, disputes, attorney
representation, notices sent, visit authorizations and credentials. They are built once (by the
codec or a repository) and may serve many decisions; `Facts.index` sorts the history once into
per-bucket timestamp tuples so each decision counts by bisection instead of re-scanning.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum
from typing import TypeVar

from arrears.compliance.model import ActionKind, Purpose, Role, firm_key
from arrears.domain.errors import DomainError
from arrears.domain.money import Money


class Outcome(StrEnum):
    """How an attempt ended."""

    NOT_CONNECTED = "not_connected"  # busy signal or not-in-service: never reached the line
    UNANSWERED = "unanswered"  # rang out
    VOICEMAIL = "voicemail"  # went to voicemail / recorded message
    ANSWERED = "answered"  # picked up or dropped, no conversation about the debt
    CONVERSATION = "conversation"  # a conversation with the person about the debt
    SENT = "sent"  # a message or letter left the collector
    UNDELIVERABLE = "undeliverable"  # a message bounced / letter returned


class Direction(StrEnum):
    OUTBOUND = "outbound"
    INBOUND = "inbound"


class ConsentScope(StrEnum):
    CALLS = "calls"  # calls placed with the person's consent (US-4; CN-2 "unless agreed")
    HOURS = "hours"  # contact outside the default hours (US-7, CN-1)
    THIRD_PARTY = "third_party"  # the consumer lets the collector talk to others (US-13)
    WORK_EMAIL = "work_email"  # email to an employer-provided address (US-10)


class DisputeKind(StrEnum):
    DISPUTE = "dispute"
    ORIGINAL_CREDITOR = "original_creditor"


class NoticeKind(StrEnum):
    ABOUT_DEBT = "about_debt"  # a letter or electronic message about the debt (US-26)
    PRE_REPORT = "pre_report"  # advance notice of a negative credit report (CN-21)


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactPoint:
    id: str
    kind: str
    """cell, home, work, email, app, social, address …"""
    zone: str = ""
    """The zone the number or address puts the person in; '' when unknown."""
    zones: tuple[str, ...] = ()
    """More zones when one is not enough (an area code spanning two zones): the contact must
    be convenient in every one of them (US-8). `zone` and `zones` add up."""
    employer_provided: bool = False
    invalid: bool = False
    """The number is empty/not in service (空号) or the address bounces."""
    consumer_last_used_at: datetime | None = None
    """When the person last texted/emailed the collector from it, or consented to its use."""
    reassigned_check_at: datetime | None = None
    """When a reassigned-number database last said the number still belongs to the person."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Person:
    person_id: str
    role: Role
    zones: tuple[str, ...] = ()
    """Candidate IANA zones (address, each phone's area code, other known locations)."""
    contact_points: tuple[ContactPoint, ...] = ()
    employer_prohibits_contact: bool = False
    pre_agreed_contact: bool = False
    """The borrower named this person in advance as a contact (CN-4)."""
    location_recontact_allowed: bool = False
    """The person asked to be called again, or gave wrong information (US-14 exception)."""

    def contact_point(self, point_id: str) -> ContactPoint | None:
        for point in self.contact_points:
            if point.id == point_id:
                return point
        return None

    def candidate_zones(self) -> tuple[str, ...]:
        """All zones the person may be in: their own plus each contact point's."""
        zones = list(self.zones)
        for point in self.contact_points:
            for name in (point.zone, *point.zones):
                if name and name not in zones:
                    zones.append(name)
        return tuple(zones)


@dataclass(frozen=True, slots=True, kw_only=True)
class Attempt:
    """One past contact or attempt, with its outcome."""

    at: datetime
    channel: ActionKind
    actor_id: str
    person_id: str
    debt_ids: tuple[str, ...]
    outcome: Outcome
    contact_point: str = ""
    direction: Direction = Direction.OUTBOUND
    purpose: Purpose = Purpose.COLLECTION
    organisation: str = ""
    """The collector firm the actor worked for (Reg F counts per debt collector, US-2/US-5);
    '' when not recorded: the attempt then counts for the actor alone, and for the firm of an
    action by that same actor."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Consent:
    person_id: str
    scope: ConsentScope
    given_at: datetime
    valid_from: datetime
    valid_until: datetime
    """Exclusive end of the period the person agreed to."""
    actor_id: str = ""
    """The collector the consent was given to directly; '' if relayed (e.g. by the creditor)."""
    organisation: str = ""
    """The collector firm it was given to directly (US-4: consent to the debt collector covers
    its every agent); '' when not recorded: then it covers `actor_id` alone."""


@dataclass(frozen=True, slots=True, kw_only=True)
class InconvenientTime:
    """A time the person said is inconvenient, in their local time (US-9): [start, end) on
    each of `weekdays`. A window with start >= end crosses midnight and belongs to the day it
    starts on (18:00-09:00 on Friday covers Saturday 08:00); 00:00-00:00 is the whole day."""

    person_id: str
    start: time
    end: time
    contact_point: str = ""
    """Only for this number/address; '' for all."""
    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6)
    """Monday = 0."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CeaseNotice:
    """A request to stop: in writing it ends communication (US-12); oral, it names media not
    to use — an oral "stop calling" is `in_writing: false, channels: [call]` (US-19)."""

    person_id: str
    received_at: datetime
    in_writing: bool = True
    debt_ids: tuple[str, ...] = ()
    """'' means every debt."""
    channels: tuple[ActionKind, ...] = ()
    """Media the person asked the collector to stop using: each is an opt-out (US-19)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OptOut:
    """The person asked not to be contacted through a medium (US-19)."""

    person_id: str
    channel: ActionKind
    at: datetime
    contact_point: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Dispute:
    debt_id: str
    received_at: datetime
    in_writing: bool
    kind: DisputeKind = DisputeKind.DISPUTE
    answered_at: datetime | None = None
    """When verification (or the original creditor's name) was sent."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Representation:
    """The person is represented by an attorney for a debt (US-11)."""

    person_id: str
    debt_id: str
    known_at: datetime
    attorney_name: str = ""
    attorney_address: str = ""
    attorney_consents_direct: bool = False
    attorney_contacted_at: datetime | None = None
    attorney_responded: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Notice:
    debt_id: str
    kind: NoticeKind
    channel: ActionKind
    sent_at: datetime
    undeliverable_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class VisitAuthorization:
    authorization_id: str
    debt_ids: tuple[str, ...]
    collector_ids: tuple[str, ...]
    issued_at: datetime
    valid_until: datetime
    written: bool = True
    legal_review_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Credential:
    collector_id: str
    valid_from: datetime
    valid_until: datetime
    revoked_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Debt:
    debt_id: str
    balance: Money | None = None
    dpd: int = 0
    consumer: bool = True
    time_barred_on: date | None = None
    """First day the statute of limitations has run (US-25)."""
    initial_communication_at: datetime | None = None
    validation_sent_on: date | None = None
    validation_period_end_on: date | None = None
    """The validation-period end date printed on the notice sent. A date later than the one
    computed from `validation_sent_on` extends the period (US-22, US-23); an earlier one
    does not shorten it."""
    paid_in_full_on: date | None = None
    delinquency_commenced_on: date | None = None
    creditor: str = ""
    """Whose debt it is; the CN call caps count per creditor, its own team and agencies
    together (CN-2). '' when not recorded: counted with every creditor's calls."""

    def __post_init__(self) -> None:
        if self.dpd < 0:  # a negative DPD would read as "not yet due" to every rule
            raise DomainError("dpd", f"must not be negative (got {self.dpd})")


_K = TypeVar("_K")

def _frozen(source: dict[_K, list[float]]) -> dict[_K, tuple[float, ...]]:
    return {key: tuple(sorted(values)) for key, values in source.items()}


@dataclass(frozen=True, slots=True)
class FactsIndex:
    """Sorted epoch-second tuples per bucket, built once per `Facts`.

    Collector buckets are keyed by `firm_key`: Reg F counts per debt collector, the firm, not
    per agent (US-2, US-5). The CN buckets are keyed by creditor (CN-2: a lender and its
    agencies together).
    """

    placed_calls: dict[tuple[str, str, str], tuple[float, ...]]
    """(firm, person, debt) -> outbound voice attempts that reached the line (Reg F count)."""
    conversations: dict[tuple[str, str, str], tuple[float, ...]]
    """(firm, person, debt) -> voice conversations, either direction."""
    calls_by_creditor: dict[tuple[str, str, str], tuple[float, ...]]
    """(creditor, person, outcome) -> outbound voice attempts by anyone for that creditor."""
    calls_by_creditor_point: dict[tuple[str, str, str, str], tuple[float, ...]]
    """(creditor, person, contact point, outcome) -> outbound voice attempts."""
    creditors_by_person: dict[str, tuple[str, ...]]
    """person -> creditors whose calls reached them ('' for calls about unknown debts)."""
    calls_by_point: dict[tuple[str, str], tuple[float, ...]]
    """(person, contact point) -> every outbound voice attempt by anyone."""
    unanswered_by_point: dict[tuple[str, str], tuple[float, ...]]
    """(person, contact point) -> outbound voice attempts that rang out or hit voicemail."""
    calls_by_firm_person: dict[tuple[str, str], tuple[float, ...]]
    """(firm, person) -> placed calls about any debt (aggregate-volume flag)."""
    messages_by_person_channel: dict[tuple[str, str], tuple[float, ...]]
    debts: dict[str, Debt]
    people: dict[str, Person]
    opt_outs: tuple[OptOut, ...]
    """The opt-outs on record plus one per medium named by a cease notice (US-19)."""
    zone_cache: dict[str, tuple[object, ...]] = field(default_factory=dict)
    """person id -> resolved candidate zones, filled by the engine on first use."""


def attempt_creditors(debt_ids: tuple[str, ...], debts: dict[str, Debt]) -> tuple[str, ...]:
    """The creditors an attempt or action is for; ('',) when any of its debts is unknown or
    names no creditor (then it counts with every creditor, CN-2)."""
    creditors: list[str] = []
    for debt_id in debt_ids:
        debt = debts.get(debt_id)
        if debt is None or not debt.creditor:
            return ("",)
        if debt.creditor not in creditors:
            creditors.append(debt.creditor)
    return tuple(creditors) or ("",)


def build_index(facts: Facts) -> FactsIndex:
    debts = {debt.debt_id: debt for debt in facts.debts}
    placed: defaultdict[tuple[str, str, str], list[float]] = defaultdict(list)
    talks: defaultdict[tuple[str, str, str], list[float]] = defaultdict(list)
    by_creditor: defaultdict[tuple[str, str, str], list[float]] = defaultdict(list)
    by_point: defaultdict[tuple[str, str, str, str], list[float]] = defaultdict(list)
    creditors_of: defaultdict[str, list[str]] = defaultdict(list)
    by_firm: defaultdict[tuple[str, str], list[float]] = defaultdict(list)
    point_all: defaultdict[tuple[str, str], list[float]] = defaultdict(list)
    point_unanswered: defaultdict[tuple[str, str], list[float]] = defaultdict(list)
    messages: defaultdict[tuple[str, str], list[float]] = defaultdict(list)
    for attempt in facts.attempts:
        ts = attempt.at.timestamp()
        firm = firm_key(attempt.actor_id, attempt.organisation)
        if attempt.channel is ActionKind.CALL:
            if attempt.outcome is Outcome.CONVERSATION:
                for debt in attempt.debt_ids:
                    talks[(firm, attempt.person_id, debt)].append(ts)
            if attempt.direction is not Direction.OUTBOUND:
                continue
            outcome = attempt.outcome.value
            person = attempt.person_id
            for creditor in attempt_creditors(attempt.debt_ids, debts):
                by_creditor[(creditor, person, outcome)].append(ts)
                by_point[(creditor, person, attempt.contact_point, outcome)].append(ts)
                if creditor not in creditors_of[person]:
                    creditors_of[person].append(creditor)
            point_all[(person, attempt.contact_point)].append(ts)
            if attempt.outcome in (Outcome.UNANSWERED, Outcome.VOICEMAIL):
                point_unanswered[(person, attempt.contact_point)].append(ts)
            if attempt.outcome is not Outcome.NOT_CONNECTED:
                by_firm[(firm, person)].append(ts)
                for debt in attempt.debt_ids:
                    placed[(firm, person, debt)].append(ts)
        elif attempt.direction is Direction.OUTBOUND:
            messages[(attempt.person_id, attempt.channel.value)].append(ts)
    derived = tuple(
        OptOut(person_id=notice.person_id, channel=channel, at=notice.received_at)
        for notice in facts.cease_notices
        for channel in notice.channels
    )
    return FactsIndex(
        placed_calls=_frozen(placed),
        conversations=_frozen(talks),
        calls_by_creditor=_frozen(by_creditor),
        calls_by_creditor_point=_frozen(by_point),
        creditors_by_person={person: tuple(found) for person, found in creditors_of.items()},
        calls_by_point=_frozen(point_all),
        unanswered_by_point=_frozen(point_unanswered),
        calls_by_firm_person=_frozen(by_firm),
        messages_by_person_channel=_frozen(messages),
        debts=debts,
        people={person.person_id: person for person in facts.people},
        opt_outs=facts.opt_outs + derived,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Facts:
    debts: tuple[Debt, ...] = ()
    people: tuple[Person, ...] = ()
    attempts: tuple[Attempt, ...] = ()
    consents: tuple[Consent, ...] = ()
    inconvenient_times: tuple[InconvenientTime, ...] = ()
    cease_notices: tuple[CeaseNotice, ...] = ()
    opt_outs: tuple[OptOut, ...] = ()
    disputes: tuple[Dispute, ...] = ()
    representations: tuple[Representation, ...] = ()
    notices: tuple[Notice, ...] = ()
    visit_authorizations: tuple[VisitAuthorization, ...] = ()
    credentials: tuple[Credential, ...] = ()
    agency_whitelist: tuple[str, ...] | None = None
    """Agencies the lender has published as approved (CN-11); None = no list kept."""
    designated_repayment_accounts: tuple[str, ...] = ()
    refused_to_pay_at: datetime | None = None
    """When the borrower last refused to pay on record (a field-visit precondition)."""
    _index: FactsIndex | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def index(self) -> FactsIndex:
        index = self._index
        if index is None:
            index = build_index(self)
            object.__setattr__(self, "_index", index)
        return index

    def person(self, person_id: str) -> Person | None:
        return self.index.people.get(person_id)

    def debt(self, debt_id: str) -> Debt | None:
        return self.index.debts.get(debt_id)
