"""Read side of the collector workbench and the borrower portal: a principal's queue, when each
channel may next be used on a loan and which rule says so, a loan's contact history, and a
call script screened for wording the packs forbid.

The queue is the API's scoped case list (`ApiStore.case_page`, access-logged the same way);
the channel windows are `contact_decisions.decide_contact`, the decision the API and
`arrears compliance may` give; the script screen is the wording screen the engine applies to a
contact's content. Nothing here decides anything of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from arrears.application.access import (
    AccessEntry,
    ApiUnitOfWork,
    NotFound,
    Principal,
    Role,
    check_loan_access,
    open_business_date,
)
from arrears.application.contact_decisions import CHANNELS, case_loan, decide_contact
from arrears.application.ports import LoggedContact, PromiseOnFile, UnitOfWork
from arrears.application.web_users import WebUnitOfWork
from arrears.compliance import packs, wording
from arrears.compliance.model import Decision
from arrears.domain.delinquency import BUCKETS
from arrears.domain.errors import DomainError

QUEUE_LIMIT = 200
QUEUE_CHANNEL = "call"
"""The queue's "may contact now" is about a call, the workbench's main tool."""
CASE_PROMISES = 20
"""The case page lists a loan's latest promises, this many."""
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
BUCKET_ORDER = tuple(bucket.value for bucket in BUCKETS)


@dataclass(frozen=True, slots=True, kw_only=True)
class Blocker:
    rule_id: str
    ref: str
    reason_en: str
    reason_zh: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelWindow:
    """Whether a channel may be used at `at`; if not, why and from when (None: not by
    waiting)."""

    channel: str
    allowed: bool
    next_allowed_at: datetime | None
    blockers: tuple[Blocker, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueRow:
    case_id: int
    borrower_ref: str
    bucket: str
    balance: int
    loan_refs: tuple[str, ...]
    call: ChannelWindow | None
    """The call decision on the case's first active loan (None: no active loan)."""


def window_of(channel: str, decision: Decision) -> ChannelWindow:
    return ChannelWindow(channel=channel, allowed=decision.allowed,
                         next_allowed_at=decision.next_allowed_at,
                         blockers=tuple(Blocker(rule_id=v.rule_id, ref=v.ref,
                                                reason_en=v.reason_en, reason_zh=v.reason_zh)
                                        for v in decision.violations))


def _call_window(uow: UnitOfWork, loan_refs: tuple[str, ...], actor: str | None, at: datetime
                 ) -> ChannelWindow | None:
    for loan_ref in loan_refs:
        try:
            decision = decide_contact(uow, loan_ref, channel=QUEUE_CHANNEL, at=at, actor=actor)
        except DomainError:
            continue  # a paid-off loan of the case is not contacted about
        return window_of(QUEUE_CHANNEL, decision)
    return None


def _priority(row: QueueRow) -> tuple[bool, int, int, int]:
    """Callable now first; then the worst bucket, the largest balance, the oldest case."""
    rank = BUCKET_ORDER.index(row.bucket) if row.bucket in BUCKET_ORDER else 0
    return (not (row.call is not None and row.call.allowed), -rank, -row.balance, row.case_id)


def queue(principal: Principal, at: datetime, *, uow_factory: Callable[[], ApiUnitOfWork]
          ) -> list[QueueRow]:
    """The open cases `principal` works (a collector's assigned cases, an agency's placed ones,
    every case for the whole-book roles), callable now first, then by priority. The borrowers
    listed are access-logged, as the API's case list logs them."""
    with uow_factory() as uow:
        on = open_business_date(uow)
        rows = uow.api.case_page(
            after=0, limit=QUEUE_LIMIT, on=on, queue=None,
            collector_ref=principal.collector_ref if principal.role is Role.COLLECTOR else None,
            agency_ref=principal.agency_ref if principal.role is Role.AGENCY else None)
        listed = [QueueRow(case_id=r.case_id, borrower_ref=r.borrower_ref, bucket=r.bucket,
                           balance=r.balance, loan_refs=r.loan_refs,
                           call=_call_window(uow, r.loan_refs, principal.actor, at))
                  for r in rows]
        uow.api.log_access([AccessEntry(at=at, key_ref=principal.key_ref,
                                        role=principal.role.value, route="web.queue",
                                        loan_ref=None, borrower_ref=r.borrower_ref)
                            for r in rows])
        uow.commit()
    return sorted(listed, key=_priority)


def channel_windows(uow: UnitOfWork, loan_ref: str, actor: str | None, at: datetime
                    ) -> list[ChannelWindow]:
    """For each contact channel, whether `actor` may use it on `loan_ref` at `at`."""
    return [window_of(channel, decide_contact(uow, loan_ref, channel=channel, at=at,
                                              actor=actor))
            for channel in CHANNELS]


def contact_history(uow: UnitOfWork, borrower_id: int) -> list[LoggedContact]:
    """Every logged contact with the borrower, newest first."""
    logged = uow.collections.call_history([borrower_id], EPOCH).get(borrower_id, [])
    return sorted(logged, key=lambda contact: contact.at, reverse=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseView:
    loan_ref: str
    pack: str
    zone: str
    """The borrower's time zone: contact times are judged, and shown, on its clock."""
    windows: tuple[ChannelWindow, ...]
    history: tuple[LoggedContact, ...]
    promises: tuple[PromiseOnFile, ...]
    """The loan's latest promises to pay (at most `CASE_PROMISES`), newest first."""


def case_view(principal: Principal, loan_ref: str, at: datetime, *,
              uow_factory: Callable[[], ApiUnitOfWork]) -> CaseView:
    """A loan with an open case as `principal` may see it (else `NotFound`; the read is
    access-logged): each channel's window for them at `at`, the contact history and the
    loan's promises to pay."""
    with uow_factory() as uow:
        booked = check_loan_access(uow, principal, loan_ref, route="web.case", at=at,
                                   personal=True)
        found = case_loan(uow, loan_ref)
        view = CaseView(loan_ref=loan_ref, pack=found.pack.code, zone=found.row.time_zone,
                        windows=tuple(channel_windows(uow, loan_ref, principal.actor, at)),
                        history=tuple(contact_history(uow, booked.borrower_id)),
                        promises=tuple(uow.collections.promises_of(booked.id,
                                                                   CASE_PROMISES)))
        uow.commit()
    return view


def pack_in_scope(principal: Principal, loan_ref: str, at: datetime, *,
                  uow_factory: Callable[[], ApiUnitOfWork]) -> str:
    """The code of the rule pack a loan `principal` may see answers to (else `NotFound`)."""
    with uow_factory() as uow:
        check_loan_access(uow, principal, loan_ref, route="web.screen", at=at,
                          personal=False)
        return case_loan(uow, loan_ref).pack.code


@dataclass(frozen=True, slots=True, kw_only=True)
class ScriptMatch:
    category: str
    label_en: str
    label_zh: str
    matched: str
    rules: tuple[tuple[str, str], ...]
    """(rule id, ref) of the pack's rules the category serves."""


def screen_script(text: str, pack_code: str) -> list[ScriptMatch]:
    """The forbidden wording in a call script, each match with the pack's rules it breaks."""
    lexicon = wording.default_lexicon()
    pack = packs.get(pack_code)
    found: list[ScriptMatch] = []
    for match in wording.screen(text).matches:
        category = lexicon.category(match.category)
        if category is None or not category.forbidden:
            continue  # markers (mentions the debt, gives an opt-out) are not problems
        found.append(ScriptMatch(
            category=category.name, label_en=category.label_en, label_zh=category.label_zh,
            matched=match.matched,
            rules=tuple((rule.rule_id, rule.ref) for rule in pack.rules
                        if rule.ref in category.refs)))
    return found


@dataclass(frozen=True, slots=True, kw_only=True)
class Portal:
    loan_refs: tuple[str, ...]
    history: tuple[LoggedContact, ...]


def portal(borrower_ref: str, *, uow_factory: Callable[[], WebUnitOfWork]) -> Portal:
    """A signed-in borrower's own loans and every contact logged with them."""
    with uow_factory() as uow:
        found = uow.web.borrower_by_ref(borrower_ref)
        if found is None:
            raise NotFound("borrower_id", "no such borrower")
        return Portal(loan_refs=tuple(uow.web.loans_of(found.borrower_id)),
                      history=tuple(contact_history(uow, found.borrower_id)))
