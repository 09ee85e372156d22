"""Credit reporting: rebuild a month's snapshots from the book, gate first negative records
through the compliance engine, and hand back the records a bureau file is written from.

`build_month` rebuilds every month from the first one missing (or the first loan's) through
the month asked, each from the month before it, in one transaction: a rebuilt month replaces
its rows, so running it twice gives the same snapshots. A loan's first negative record is a
credit-report action the engine decides (CN-21 pre-report notice, US-26 no passive
collection, and every other reporting rule of the loan's pack) at the start of the day after
the month's end; a record the engine refuses is held, listed with its rule ids, and decided
again the next month — it goes out in the first month the gate opens, its history complete
because the snapshots of held months are kept. A dispute answered `corrected` in the month
re-sends the loan's months since the dispute opened, rebuilt from the corrected book, as
correction records.

Rebuilding a month that later months were built after (the book was corrected in the past)
rebuilds those later months too, since their 24-month histories hold the month (M2-5, CN-25):
each later month whose record now reads differently is re-sent as a correction record — Metro 2
Correction Indicator 1, "a replacement update for the same reporting time period" (moov-io
`base_segment.go`, the M2 source of M2-2), the PBOC correction flag (CN-23: "if wrong ->
correct"). A built month counts as reported: its file was written when it was built.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from arrears.application.bureau import (
    BureauNotice,
    BureauRecord,
    BureauUnitOfWork,
    BureauUnitOfWorkFactory,
    Disputes,
    NoDisputes,
)
from arrears.application.contacts import attempts_from_log
from arrears.application.ports import BookedLoan
from arrears.compliance import engine as compliance_engine
from arrears.compliance import packs
from arrears.compliance.facts import Debt, Dispute, Facts, Notice, Person
from arrears.compliance.facts import NoticeKind as FactNotice
from arrears.compliance.model import (
    Action,
    ActionKind,
    Actor,
    ActorKind,
    CreditReport,
    Recipient,
    Role,
)
from arrears.domain.bureau.snapshot import (
    DEFAULT_RULES,
    BureauDispute,
    DisputeKind,
    DisputeState,
    Month,
    MonthSnapshot,
    ReportingRules,
    build_snapshot,
    held,
    needs_gate,
    reported_alike,
)
from arrears.domain.errors import DomainError
from arrears.domain.loan import LoanState, Payment

CHUNK = 1000
NO_DISPUTES = NoDisputes()
NOTICE_TIME = time(12, 0)  # a notice dated only by its day counts as sent at noon
CHANNELS = {"letter": ActionKind.LETTER, "sms": ActionKind.SMS, "email": ActionKind.EMAIL,
            "app_push": ActionKind.APP_PUSH}


@dataclass(frozen=True, slots=True, kw_only=True)
class Held:
    loan_ref: str
    rule_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class MonthRun:
    month: Month
    records: tuple[BureauRecord, ...]
    """The month's records in loan order, then the correction records."""
    held: tuple[Held, ...]
    objections_overdue: tuple[str, ...]
    """Loans whose objection is open past its reply deadline (CN-23)."""


def report_instant(month: Month, zone: str) -> datetime:
    """A month's file is furnished at the start of the day after the month's end."""
    return datetime.combine(month.last + timedelta(days=1), time(0), ZoneInfo(zone))


def build_month(
    month: Month, *, uow_factory: BureauUnitOfWorkFactory, disputes: Disputes = NO_DISPUTES,
    rules: ReportingRules = DEFAULT_RULES, furnisher_collects_in_own_name: bool = False,
    check: Callable[[MonthRun], object] | None = None,
) -> MonthRun:
    """Rebuild the snapshots through `month` and return its records (see the module doc).
    `check` sees the run before it is stored (e.g. formats the file): if it refuses, nothing
    is stored and the month is not counted as reported.

    `furnisher_collects_in_own_name=False` (the default) has the engine treat the lender as a
    debt collector when it furnishes, so US-26 binds it too (house policy; US-1 would exempt
    a creditor collecting in its own name)."""
    with uow_factory() as uow:
        closed = uow.book.closed_through()
        if closed is None or closed < month.last:
            raise DomainError("--month", f"{month} is not closed yet (the book is closed "
                                         f"through {closed or 'no date'})")
        months = uow.bureau.months()
        earlier = [m for m in months if m < month]
        start = earlier[-1].next() if earlier else None
        later = tuple(m for m in months if m > month)
        builder = _Builder(uow, disputes, rules, furnisher_collects_in_own_name)
        run = builder.run(start, month, later)
        if check is not None:
            check(run)
        uow.commit()
    return run


class _Builder:
    def __init__(self, uow: BureauUnitOfWork, disputes: Disputes, rules: ReportingRules,
                 own_name: bool) -> None:
        self.uow, self.disputes, self.rules = uow, disputes, rules
        self.actor = Actor(actor_id="lender", kind=ActorKind.INTERNAL, organisation="lender",
                           collects_in_own_name=own_name)

    def run(self, start: Month | None, month: Month, later: tuple[Month, ...]) -> MonthRun:
        """`later`: the months built before after `month`, rebuilt with it."""
        records: list[BureauRecord] = []
        corrections: list[BureauRecord] = []
        held_records: list[Held] = []
        overdue: list[str] = []
        through = later[-1] if later else month
        ids = self.uow.bureau.loan_ids()
        for offset in range(0, len(ids), CHUNK):
            chunk = self.uow.book.get_many(ids[offset:offset + CHUNK])
            payments = self.uow.bureau.payments([b.id for b in chunk])
            refs = [b.loan.loan_id for b in chunk]
            subjects = self.uow.bureau.subjects(refs)
            reported = {m: self.uow.bureau.snapshots(m, refs) for m in later}
            rebuilt_snapshots: list[MonthSnapshot] = []
            for booked in chunk:
                ref, paid = booked.loan.loan_id, payments.get(booked.id, [])
                first = start or Month.of(booked.loan.disbursed_on)
                if _closed_before(booked, paid, first):
                    continue
                found = self.disputes.disputes_of(ref)
                snaps = self.chain(booked, paid, found, min(first, month), through)
                fixed_from = _corrected_from(booked, found, month)
                if fixed_from is not None:
                    rebuilt = self.chain(booked, paid, found, fixed_from, through)
                    corrections.extend(
                        BureauRecord(snapshot=s, subject=subjects[ref], correction=True)
                        for m, s in sorted(rebuilt.items()) if m < month and not s.held_rules)
                    snaps.update(rebuilt)
                corrections.extend(
                    BureauRecord(snapshot=s, subject=subjects[ref], correction=True)
                    for s in _changed_later(snaps, {m: reported[m].get(ref) for m in later}))
                rebuilt_snapshots.extend(snaps.values())
                snapshot = snaps.get(month)
                if snapshot is None:
                    continue
                if snapshot.objection_overdue:
                    overdue.append(ref)
                if snapshot.held_rules:
                    held_records.append(Held(loan_ref=ref, rule_ids=snapshot.held_rules))
                else:
                    records.append(BureauRecord(snapshot=snapshot, subject=subjects[ref]))
            self.uow.bureau.put(rebuilt_snapshots)
        return MonthRun(month=month, records=tuple(records + corrections),
                        held=tuple(held_records), objections_overdue=tuple(overdue))

    def chain(self, booked: BookedLoan, payments: Sequence[Payment],
              disputes: Sequence[BureauDispute], first: Month, last: Month
              ) -> dict[Month, MonthSnapshot]:
        """The loan's snapshots for `first` … `last`, each from the one before: the stored
        one before `first`, or, when that month is not stored, from the loan's first month."""
        ref = booked.loan.loan_id
        opened = Month.of(booked.loan.disbursed_on)
        previous = None
        if first > opened:
            previous = self.uow.bureau.snapshots(first.previous(), [ref]).get(ref)
            if previous is None:
                first = opened
        built: dict[Month, MonthSnapshot] = {}
        state: LoanState | None = None
        month = first
        while month <= last:
            snapshot, state = build_snapshot(booked.loan, payments, month, previous,
                                             disputes=disputes, rules=self.rules, state=state)
            if snapshot is not None:
                if needs_gate(snapshot):
                    snapshot = held(snapshot, self.gate(booked, snapshot, disputes))
                built[month] = snapshot
            previous = snapshot or previous
            month = month.next()
        return built

    def gate(self, booked: BookedLoan, snapshot: MonthSnapshot,
             disputes: Sequence[BureauDispute]) -> tuple[str, ...]:
        """The rule ids that refuse the loan's first negative record; () when it may go."""
        loan = booked.loan
        pack = packs.get(loan.product.jurisdiction)
        at = report_instant(snapshot.month, pack.reference_zone)
        zone = ZoneInfo(pack.reference_zone)
        person = f"borrower:{booked.borrower_id}"
        notices = tuple(
            Notice(debt_id=loan.loan_id, kind=FactNotice(n.kind.value),
                   channel=CHANNELS.get(n.channel, ActionKind.LETTER),
                   sent_at=datetime.combine(n.sent_on, NOTICE_TIME, zone),
                   undeliverable_at=(datetime.combine(n.undeliverable_on, NOTICE_TIME, zone)
                                     if n.undeliverable_on else None))
            for n in self.uow.bureau.notices([loan.loan_id]).get(loan.loan_id, []))
        history = self.uow.collections.call_history([booked.borrower_id], datetime.combine(
            loan.disbursed_on, time(0), zone)).get(booked.borrower_id, [])
        facts = Facts(
            debts=(Debt(debt_id=loan.loan_id, dpd=snapshot.dpd, creditor="lender",
                        delinquency_commenced_on=snapshot.first_delinquency_on),),
            people=(Person(person_id=person, role=Role.BORROWER),),
            attempts=attempts_from_log(history, person, (loan.loan_id,)),
            notices=notices,
            disputes=tuple(
                Dispute(debt_id=loan.loan_id, in_writing=d.in_writing,
                        received_at=datetime.combine(d.opened_on, time(0), zone),
                        answered_at=(datetime.combine(d.answered_on, time(0), zone)
                                     if d.answered_on else None))
                for d in disputes),
        )
        action = Action(
            kind=ActionKind.CREDIT_REPORT, actor=self.actor,
            recipient=Recipient(person_id=person, role=Role.BORROWER),
            debt_ids=(loan.loan_id,),
            report=CreditReport(negative=True,
                                marked_disputed=snapshot.dispute is DisputeState.OPEN,
                                first_delinquency_on=snapshot.first_delinquency_on))
        decision = compliance_engine.decide(action, facts, pack, at)
        return () if decision.allowed else tuple(v.rule_id for v in decision.violations)


def _changed_later(rebuilt: dict[Month, MonthSnapshot],
                   reported: dict[Month, MonthSnapshot | None]) -> list[MonthSnapshot]:
    """The later months' rebuilt snapshots whose records went out and now read differently."""
    return [snapshot for month, was in sorted(reported.items(), key=lambda item: item[0])
            if was is not None and not was.held_rules
            and (snapshot := rebuilt.get(month)) is not None and not snapshot.held_rules
            and not reported_alike(was, snapshot)]


def _closed_before(booked: BookedLoan, payments: Sequence[Payment], month: Month) -> bool:
    """Paid off (or recovered in full) before `month`: the loan has no record any more."""
    return (all(row.is_paid for row in booked.state.installments)
            and all(p.on < month.first for p in payments))


def _corrected_from(booked: BookedLoan, disputes: Sequence[BureauDispute], month: Month
                    ) -> Month | None:
    """The first month a dispute answered `corrected` in `month` covers, if it is earlier."""
    opened = [Month.of(d.opened_on) for d in disputes
              if d.kind is DisputeKind.CORRECTED and d.answered_on is not None
              and Month.of(d.answered_on) == month]
    if not opened:
        return None
    first = max(min(opened), Month.of(booked.loan.disbursed_on))
    return first if first < month else None


def record_notice(notice: BureauNotice, *, uow_factory: BureauUnitOfWorkFactory) -> bool:
    """Record that a notice went to the borrower; False if it was already on file."""
    if notice.undeliverable_on is not None and notice.undeliverable_on < notice.sent_on:
        raise DomainError("--undeliverable-on", "is before the notice was sent")
    if notice.channel not in CHANNELS:
        raise DomainError("--channel", f"unknown channel {notice.channel!r} (expected one of "
                                       f"{', '.join(CHANNELS)})")
    with uow_factory() as uow:
        booked = uow.book.get(notice.loan_ref)
        if booked is None:
            raise DomainError("loan_id", f"no loan {notice.loan_ref!r}")
        closed = uow.book.closed_through()
        if closed is not None and notice.sent_on > closed + timedelta(days=1):
            raise DomainError("--sent-on", f"{notice.sent_on} is after the open business date "
                                           f"{closed + timedelta(days=1)}")
        if notice.sent_on < booked.loan.disbursed_on:
            raise DomainError("--sent-on", f"{notice.sent_on} is before the loan was "
                                           f"disbursed on {booked.loan.disbursed_on}")
        added = uow.bureau.add_notice(notice)
        uow.commit()
    return added


def loan_history(loan_ref: str, *, uow_factory: BureauUnitOfWorkFactory,
                 disputes: Disputes = NO_DISPUTES, rules: ReportingRules = DEFAULT_RULES,
                 months: int = 24) -> list[MonthSnapshot]:
    """The loan's last `months` monthly snapshots through the last closed month's end,
    computed from the book without storing anything (oldest first)."""
    with uow_factory() as uow:
        booked = uow.book.get(loan_ref)
        if booked is None:
            raise DomainError("loan_id", f"no loan {loan_ref!r}")
        closed = uow.book.closed_through()
        payments = uow.bureau.payments([booked.id]).get(booked.id, [])
    if closed is None:
        raise DomainError("book", "has no business date yet; run `arrears init`")
    last = Month.of(closed) if closed == Month.of(closed).last else Month.of(closed).previous()
    found = disputes.disputes_of(loan_ref)
    built: list[MonthSnapshot] = []
    previous: MonthSnapshot | None = None
    state: LoanState | None = None
    month = Month.of(booked.loan.disbursed_on)
    while month <= last:
        snapshot, state = build_snapshot(booked.loan, payments, month, previous,
                                         disputes=found, rules=rules, state=state)
        if snapshot is not None:
            built.append(snapshot)
        previous = snapshot or previous
        month = month.next()
    return built[-months:]

