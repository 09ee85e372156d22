"""The compliance vocabulary: proposed actions, rules, and the decisions the engine returns.

Every value is a frozen, slotted, keyword-only dataclass holding tuples (STYLE §8.2). Instants
are timezone-aware `datetime`s; the engine refuses naive ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from arrears.domain.money import Money

if TYPE_CHECKING:
    from arrears.compliance.engine import Context


class ActionKind(StrEnum):
    """What is being proposed."""

    CALL = "call"
    SMS = "sms"
    EMAIL = "email"
    LETTER = "letter"
    APP_PUSH = "app_push"
    SOCIAL_MEDIA = "social_media"
    FIELD_VISIT = "field_visit"
    CREDIT_REPORT = "credit_report"
    LEGAL_ACTION = "legal_action"
    FEE = "fee"


CONTACT_KINDS: frozenset[ActionKind] = frozenset(
    {
        ActionKind.CALL,
        ActionKind.SMS,
        ActionKind.EMAIL,
        ActionKind.LETTER,
        ActionKind.APP_PUSH,
        ActionKind.SOCIAL_MEDIA,
        ActionKind.FIELD_VISIT,
    }
)
"""Actions that reach a person: subject to hours, cease, attorney and who-may-be-contacted rules."""

ELECTRONIC_KINDS: frozenset[ActionKind] = frozenset(
    {ActionKind.SMS, ActionKind.EMAIL, ActionKind.APP_PUSH, ActionKind.SOCIAL_MEDIA}
)
"""Contacts made to an electronic address or number (opt-out notice rules)."""

ALL_KINDS: frozenset[ActionKind] = frozenset(ActionKind)


class ActorKind(StrEnum):
    INTERNAL = "internal"  # the lender's own collection team
    AGENCY = "agency"  # a licensed third-party collector (委外)


class Role(StrEnum):
    """The recipient's relation to the debt."""

    BORROWER = "borrower"
    GUARANTOR = "guarantor"
    SPOUSE = "spouse"
    ATTORNEY = "attorney"  # the borrower's attorney
    EMERGENCY_CONTACT = "emergency_contact"
    THIRD_PARTY = "third_party"  # anybody else (neighbour, employer, relative …)


class Purpose(StrEnum):
    """Why the action is taken; some rules have exceptions for particular purposes."""

    COLLECTION = "collection"
    REMINDER = "reminder"
    LOCATION_INFO = "location_info"  # asking a third party where the debtor is
    VALIDATION_NOTICE = "validation_notice"
    VERIFICATION = "verification"  # answer to a dispute
    OPT_OUT_CONFIRMATION = "opt_out_confirmation"
    TERMINATION_NOTICE = "termination_notice"  # "we are ending collection efforts"
    REMEDY_NOTICE = "remedy_notice"  # notice of a specified remedy the collector may invoke
    PRE_REPORT_NOTICE = "pre_report_notice"


class Severity(StrEnum):
    BLOCK = "block"
    REVIEW = "review"


def firm_key(actor_id: str, organisation: str) -> str:
    """The history bucket of a record: its collector firm, or the actor alone when the record
    names no firm (documents written before organisations were recorded)."""
    return f"org:{organisation}" if organisation else f"actor:{actor_id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Actor:
    """Who proposes the action."""

    actor_id: str
    kind: ActorKind
    organisation: str = ""
    """The collector firm (agency, or the lender) the actor works for; '' = the actor alone.
    Frequency limits and consents belong to the firm (US-2, US-4, US-5)."""
    collects_in_own_name: bool = False
    """A creditor's employee collecting the creditor's own debt in its own name (US-1)."""
    on_private_channel: bool = False
    """Calling or messaging from a personal phone or social account (CN-6)."""
    private_channel_approved: bool = False

    @property
    def history_keys(self) -> tuple[str, ...]:
        """The history buckets that are this actor's firm's: the firm's own, and this actor's
        records that name no firm."""
        own = firm_key(self.actor_id, "")
        return (firm_key(self.actor_id, self.organisation), own) if self.organisation else (own,)

    @property
    def is_debt_collector(self) -> bool:
        """FDCPA sense: an agency, or a creditor collecting under another name."""
        return self.kind is ActorKind.AGENCY or not self.collects_in_own_name


@dataclass(frozen=True, slots=True, kw_only=True)
class Recipient:
    person_id: str
    role: Role
    contact_point: str = ""
    """Id of the number/address used (facts.people[].contact_points[].id); '' for in person."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldVisit:
    """Details of a proposed in-person visit (CN-9)."""

    collector_ids: tuple[str, ...]
    recording: bool
    authorization_id: str = ""
    enters_premises: bool = False
    premises_consent: bool = False
    misleading_uniform: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class CreditReport:
    """A record about to be furnished to a credit bureau."""

    negative: bool = True
    marked_disputed: bool = False
    first_delinquency_on: date | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FeeCharge:
    amount: Money
    authorized_by_contract: bool = False
    permitted_by_law: bool = False
    in_name_of_collection: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ValidationNoticeContent:
    """The parts of a validation notice the engine can check (US-21, US-22)."""

    period_end_on: date | None
    itemization_amount: Money
    interest: Money
    fees: Money
    payments: Money
    credits: Money
    current_amount: Money


@dataclass(frozen=True, slots=True, kw_only=True)
class Action:
    """A proposed contact, report, legal step or fee. The instant is `decide`'s `at`."""

    kind: ActionKind
    actor: Actor
    recipient: Recipient
    debt_ids: tuple[str, ...]
    purpose: Purpose = Purpose.COLLECTION
    content: str = ""
    voicemail: bool = False
    """A call that leaves a recorded message (limited-content message rules, US-15)."""
    caller_identified: bool = True
    """The caller id / opening states who is calling (US-29, CN-6)."""
    publicly_visible: bool = False
    """Visible to the public or the person's contacts (social media, posted notices)."""
    postcard: bool = False
    repayment_account: str = ""
    visit: FieldVisit | None = None
    report: CreditReport | None = None
    fee: FeeCharge | None = None
    notice: ValidationNoticeContent | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class WordMatch:
    """One phrase of a lexicon found in the message content."""

    category: str
    phrase: str
    matched: str
    """The original text that matched (with whatever spacing or script it used)."""
    start: int
    end: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """What a rule check returns when its rule is not satisfied."""

    detail_en: str
    detail_zh: str
    severity: Severity = Severity.BLOCK
    not_before: datetime | None = None
    """A lower bound on the first instant this rule could pass, if waiting can help."""
    matches: tuple[WordMatch, ...] = ()


Check = Callable[["Context"], "Finding | None"]
Scope = Callable[["Context"], bool]


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """One cited, dated rule of a pack."""

    rule_id: str
    ref: str
    """The id in shared/reference/rules.md, e.g. "US-2"."""
    citation: str
    effective_from: date
    reason_en: str
    reason_zh: str
    kinds: frozenset[ActionKind]
    check: Check
    effective_to: date | None = None
    scope: Scope | None = None
    """Whether the rule binds this action at all (e.g. FDCPA: debt collectors only, US-1).
    The engine evaluates each distinct scope once per decision."""
    needs_content: bool = False
    """The rule only reads message content: skipped for actions without any."""
    layer: str = ""
    """Which layer of law the rule comes from (law, regulation, standard, self-regulation)."""

    def in_force(self, on: date) -> bool:
        if on < self.effective_from:
            return False
        return self.effective_to is None or on <= self.effective_to


@dataclass(frozen=True, slots=True, kw_only=True)
class Pack:
    """A jurisdiction's rules and the parameters they were built with."""

    code: str
    name: str
    version: str
    reference_zone: str
    """Zone whose calendar date decides which rules are in force."""
    fallback_zones: tuple[str, ...]
    """Zones assumed when the recipient's location is unknown (all must allow the contact)."""
    rules: tuple[Rule, ...]
    params: object = None
    _by_kind: dict[ActionKind, tuple[Rule, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _in_force: dict[tuple[ActionKind, int, bool], tuple[Rule, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _at_cache: dict[tuple[ActionKind, int, bool], tuple[Rule, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _ids: dict[int, tuple[tuple[Rule, ...], tuple[str, ...]]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.rule_id in seen:
                raise ValueError(f"pack {self.code}: duplicate rule id {rule.rule_id}")
            seen.add(rule.rule_id)
        for kind in ActionKind:
            self._by_kind[kind] = tuple(rule for rule in self.rules if kind in rule.kinds)

    def rules_for(self, kind: ActionKind) -> tuple[Rule, ...]:
        return self._by_kind[kind]

    def in_force(self, kind: ActionKind, on: date, has_content: bool = True) -> tuple[Rule, ...]:
        """Rules for `kind` in force on `on`, without content-only rules when there is no
        content (memoised per kind, day and content)."""
        key = (kind, on.toordinal(), has_content)
        found = self._in_force.get(key)
        if found is None:
            found = tuple(
                rule
                for rule in self._by_kind[kind]
                if rule.in_force(on) and (has_content or not rule.needs_content)
            )
            if len(self._in_force) > 4096:
                self._in_force.clear()
            self._in_force[key] = found
        return found

    def rules_at(self, kind: ActionKind, at: datetime, has_content: bool) -> tuple[Rule, ...]:
        """`in_force` for the reference-zone date of `at`, memoised per quarter hour (every
        zone offset is a multiple of 15 minutes, so the date cannot change inside one)."""
        key = (kind, int(at.timestamp() // 900), has_content)
        found = self._at_cache.get(key)
        if found is None:
            on = at.astimezone(ZoneInfo(self.reference_zone)).date()
            found = self.in_force(kind, on, has_content)
            if len(self._at_cache) > 4096:
                self._at_cache.clear()
            self._at_cache[key] = found
        return found

    def rule_ids(self, rules: tuple[Rule, ...]) -> tuple[str, ...]:
        """The ids of a rule tuple this pack returned (memoised by identity)."""
        found = self._ids.get(id(rules))
        if found is None or found[0] is not rules:  # ids can be reused once a tuple is freed
            found = (rules, tuple(rule.rule_id for rule in rules))
            if len(self._ids) > 4096:
                self._ids.clear()
            self._ids[id(rules)] = found
        return found[1]

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.rule_id == rule_id:
                return rule
        raise KeyError(rule_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class Violation:
    rule_id: str
    ref: str
    citation: str
    reason_en: str
    reason_zh: str
    detail_en: str
    detail_zh: str
    matches: tuple[WordMatch, ...] = ()
    error: bool = False
    """True when the rule raised: the engine failed closed."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Flag:
    """Something a human should review; does not block."""

    rule_id: str
    ref: str
    citation: str
    reason_en: str
    reason_zh: str
    detail_en: str
    detail_zh: str
    matches: tuple[WordMatch, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    allowed: bool
    at: datetime
    pack: str
    pack_version: str
    violations: tuple[Violation, ...] = ()
    flags: tuple[Flag, ...] = ()
    next_allowed_at: datetime | None = None
    """The earliest instant ≥ `at` at which the same action would pass, when waiting helps."""
    evaluated: tuple[str, ...] = ()
    """Rule ids in force whose scope covered the action, in evaluation order."""
