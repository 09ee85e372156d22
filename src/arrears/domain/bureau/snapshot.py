"""A loan's monthly reporting snapshot, from the domain's own state at the month's end.

`build_snapshot(loan, payments, month, previous)` replays the loan with `loan.advance` (so
the balance is the one `loan show` prints for that date) and walks the month event by event:
DPD only grows between events (payments, plans, the write-off), so the worst DPD of the month
is the largest of the DPDs just before each event and at the month's end. The snapshot of the
month before is its only memory: the 24-month history strings are the previous month's
shifted by one, and the first delinquency date is carried while the loan stays delinquent.

Interpretations made here (also in the README):
- The first delinquency date (the first day past due of the episode) never moves while the
  loan stays delinquent: a payment that clears the oldest installment but leaves a later one
  overdue keeps it (US-32: no re-aging by payments), and a plan keeps it for ever
  (`LoanState.delinquent_since`). It ends only when the loan becomes current without a plan.
  The Metro 2 DOFD is that day + 29, the 30th day after the due date (M2-6).
- A loan is reported from the month it is disbursed through the month it closes (settled, or
  written off and recovered in full); a month after that has no record.
- Balance = principal outstanding + overdue interest, fees, penalty and compound (the
  `loan show` figures). Amount past due (Metro 2) = what installments at least 30 days past
  due owe, 0 below 30 DPD (M2-7). Overdue principal is banded by each installment's age.
- Metro 2 history (M2-5) holds the 24 months *before* this one, most recent first, B-filled;
  the PBOC string (CN-25) holds the 24 months *through* this one, oldest first, `/`-filled.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum

from arrears.domain.bureau import codes
from arrears.domain.dates import check_date
from arrears.domain.delinquency import LoanStatus
from arrears.domain.errors import DomainError
from arrears.domain.loan import (
    Loan,
    LoanState,
    Payment,
    Summary,
    advance,
    initial_state,
    owed_on,
    summarize,
)
from arrears.domain.plans import PlanKind

ONE_DAY = timedelta(days=1)
_MONTH_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}")
HISTORY_MONTHS = 24
DOFD_AFTER_FIRST_DAY = 29  # M2-6: DOFD = due date + 30 = first day past due + 29
PAST_DUE_REPORTED_FROM = 30  # M2-7: Amount Past Due counts installments ≥ 30 days late
EXTENSIONS = (PlanKind.DEFERRAL, PlanKind.HOLIDAY, PlanKind.REAGE, PlanKind.REAMORTIZE)


@dataclass(frozen=True, slots=True, order=True)
class Month:
    year: int
    month: int

    @staticmethod
    def parse(text: str, field: str) -> Month:
        """`YYYY-MM` in ASCII digits, within the span of dates accepted (`check_date`)."""
        if not _MONTH_TEXT.fullmatch(text) or not 1 <= int(text[5:]) <= 12:
            raise DomainError(field, f"{text!r} is not a month (YYYY-MM)")
        month = Month(int(text[:4]), int(text[5:]))
        check_date(month.first, field)
        return month

    @staticmethod
    def of(day: date) -> Month:
        return Month(day.year, day.month)

    @property
    def first(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last(self) -> date:
        return self.next().first - ONE_DAY

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> Month:
        return Month(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


class DisputeKind(StrEnum):
    """How an answered dispute or objection ended."""

    VERIFIED = "verified"  # the information was right: the mark is removed
    CORRECTED = "corrected"  # it was wrong: the book was corrected, the months are re-sent


@dataclass(frozen=True, slots=True, kw_only=True)
class BureauDispute:
    """A dispute (US) or objection (异议, CN-23) about a loan's reported information."""

    opened_on: date
    answered_on: date | None = None
    kind: DisputeKind = DisputeKind.VERIFIED
    in_writing: bool = True
    """Only a written US dispute stops collection, furnishing included (US-23); an oral one
    is still reported as disputed (US-27)."""


class DisputeState(StrEnum):
    NONE = ""
    OPEN = "open"  # received, not answered by the month's end
    ANSWERED = "answered"  # answered during the month


@dataclass(frozen=True, slots=True, kw_only=True)
class SpecialEvent:
    """A special transaction (特殊交易): kind, date, amount (minor units), months changed."""

    kind: codes.SpecialKind
    on: date
    amount: int
    months: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class MonthSnapshot:
    """One loan in one month, as reported. Amounts are minor units of `currency`."""

    loan_ref: str
    month: Month
    currency: str
    opened_on: date
    maturity_on: date
    principal: int
    terms: int
    balance: int
    principal_outstanding: int
    past_due: int  # everything overdue installments owe
    past_due_30: int  # Metro 2 Amount Past Due (M2-7)
    overdue_terms: int
    overdue_principal_bands: tuple[int, int, int, int, int]  # 1–30, 31–60, 61–90, 91–180, >180
    dpd: int
    worst_dpd: int
    scheduled_payment: int
    actual_payment: int
    last_payment_on: date | None
    first_delinquency_on: date | None
    restructured: bool
    written_off_on: date | None
    charge_off_amount: int
    closed_on: date | None
    events: tuple[SpecialEvent, ...]
    dispute: DisputeState
    condition_code: codes.ConditionCode
    objection_overdue: bool
    special_comment: str
    metro2_status: str
    payment_rating: str
    metro2_code: str
    metro2_history: str
    pboc_code: str
    pboc_history: str
    account_status: codes.AccountStatus
    loan_class: codes.LoanClass
    negative: bool
    gate_open: bool = False
    """A negative record of this loan was furnished in this month or before (CN-21, US-26)."""
    held_rules: tuple[str, ...] = ()
    """The rules that held this month's record back; () when it went out."""

    @property
    def dofd(self) -> date | None:
        """M2-6: the Metro 2 Date of First Delinquency, for statuses that carry one — and for
        05/13/… whose payment rating is a delinquency (1–6, G, L)."""
        if self.first_delinquency_on is None or not codes.carries_dofd(
                self.metro2_status, self.payment_rating):
            return None
        return self.first_delinquency_on + timedelta(days=DOFD_AFTER_FIRST_DAY)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportingRules:
    """The parameters a snapshot reads: classification and special comments are [U]."""

    classification: codes.Classification = codes.Classification()
    special_comments: Mapping[str, str] | None = None
    objection_days: int = codes.OBJECTION_DAYS

    def comment_for(self, kind: PlanKind) -> str:
        table = codes.SPECIAL_COMMENTS if self.special_comments is None else self.special_comments
        return table.get(kind.value, "")


DEFAULT_RULES = ReportingRules()


class _Walk:
    """The month walked event by event: worst DPD, the delinquency episode, special events."""

    def __init__(self, loan: Loan, state: LoanState, episode: date | None) -> None:
        self.loan = loan
        self.state = state
        self.summary = summarize(loan, state)
        self.worst = 0
        self.episode = episode
        self.ended_episode: date | None = None
        self.events: list[SpecialEvent] = []
        self.charge_off_amount = 0

    def to(self, day: date, payments: Sequence[Payment]) -> Summary:
        if day > self.state.as_of:
            due = [p for p in payments if self.state.as_of < p.on <= day]
            self.state = advance(self.loan, self.state, due, day)[0]
            self.summary = summarize(self.loan, self.state)
        summary = self.summary
        self.worst = max(self.worst, summary.dpd)
        if summary.dpd > 0:
            if self.episode is None:
                self.episode = summary.first_delinquency_on
        elif self.state.delinquent_since is None and self.episode is not None:
            self.ended_episode, self.episode = self.episode, None
        return summary


def balance_of(summary: Summary) -> int:
    return (summary.principal_outstanding + summary.overdue_interest + summary.overdue_fee
            + summary.penalty_interest + summary.compound_interest)


def _closed(summary: Summary, state: LoanState) -> bool:
    return (summary.status is LoanStatus.SETTLED
            or (summary.status is LoanStatus.WRITTEN_OFF and summary.total_due == 0
                and all(row.is_paid for row in state.installments)))


def start_state(loan: Loan, payments: Sequence[Payment], month: Month) -> LoanState:
    """The loan at the end of the day before `month` (or before its disbursement)."""
    before = month.first - ONE_DAY
    if before < loan.disbursed_on:
        return initial_state(loan)
    return advance(loan, initial_state(loan), [p for p in payments if p.on <= before], before)[0]


def build_snapshot(
    loan: Loan, payments: Sequence[Payment], month: Month, previous: MonthSnapshot | None,
    *, disputes: Sequence[BureauDispute] = (), rules: ReportingRules = DEFAULT_RULES,
    state: LoanState | None = None,
) -> tuple[MonthSnapshot | None, LoanState]:
    """The loan's snapshot for `month` and its state at the month's end; no snapshot when the
    loan is not yet open or closed in an earlier month. `state` (the loan at the end of the
    previous month) saves the replay from disbursement; `payments` are the loan's payments
    in force (reversed ones and reversals left out)."""
    first, last = month.first, month.last
    begin = state if state is not None else start_state(loan, payments, month)
    if loan.disbursed_on > last or (previous is not None and previous.closed_on is not None):
        end = advance(loan, begin, [p for p in payments if begin.as_of < p.on <= last],
                      last)[0] if loan.disbursed_on <= last else begin
        return None, end
    walk = _Walk(loan, begin, previous.first_delinquency_on if previous else None)
    if previous is not None:
        walk.charge_off_amount = previous.charge_off_amount
    in_month = [p for p in payments if first <= p.on <= last]
    write_off = loan.written_off_on
    days = {p.on for p in in_month} | {
        p.effective_on for p in loan.plans if first <= p.effective_on <= last}
    if write_off is not None and first <= write_off <= last:
        days.add(write_off)
    walk.to(max(first - ONE_DAY, begin.as_of), payments)
    for day in sorted(days):
        before = walk.to(day - ONE_DAY, payments)
        prepaid, waived = walk.state.prepaid_principal, walk.state.waived.total()
        after = walk.to(day, payments)
        _events_of_day(walk, day, before, after, prepaid, waived, in_month)
    summary = walk.to(last, payments)
    end_state = walk.state
    closed = _closed(summary, end_state)
    written_off = write_off is not None and write_off <= last
    episode = walk.episode or (walk.ended_episode if closed else None)
    status = codes.metro2_status(summary.dpd, written_off=written_off, closed=closed)
    grace = loan.product.grace_days
    rows = end_state.installments
    due_now = [r for r in rows if r.due_date < last and not r.is_paid]
    next_day = last + ONE_DAY
    ages = [(last - r.due_date).days for r in due_now]
    owed = [sum(owed_on(r, loan.product, next_day).values()) for r in due_now]
    bands = [0, 0, 0, 0, 0]
    for row, age in zip(due_now, ages, strict=True):
        bands[_band(age)] += row.unpaid_principal
    pboc = codes.pboc_code(summary.dpd, closed=closed, written_off=written_off,
                           due_this_month=any(first <= r.due_date <= last for r in rows),
                           grace_days=grace)
    dispute = _dispute_state(disputes, month)
    plan_kinds = [p.kind for p in loan.plans if p.effective_on <= last
                  and p.kind is not PlanKind.RATE_REDUCTION]
    metro2_code = codes.profile_code(status, walk.worst)
    us = loan.product.jurisdiction.upper() == "US"
    negative = (status in codes.DELINQUENT_STATUSES) if us else (pboc in "1234567" or (
        written_off and not closed))
    snapshot = MonthSnapshot(
        loan_ref=loan.loan_id, month=month, currency=loan.currency,
        opened_on=loan.disbursed_on, maturity_on=rows[-1].due_date, principal=loan.principal,
        terms=loan.terms, balance=max(0, balance_of(summary)),
        principal_outstanding=summary.principal_outstanding,
        past_due=sum(owed),
        past_due_30=(sum(o for age, o in zip(ages, owed, strict=True)
                         if age >= PAST_DUE_REPORTED_FROM)
                     if status in codes.DELINQUENT_STATUSES else 0),
        overdue_terms=len(due_now), overdue_principal_bands=(
            bands[0], bands[1], bands[2], bands[3], bands[4]),
        dpd=summary.dpd, worst_dpd=walk.worst,
        scheduled_payment=sum(r.principal + r.interest + r.fee for r in rows
                              if first <= r.due_date <= last),
        actual_payment=sum(p.amount for p in in_month),
        last_payment_on=max((p.on for p in payments if p.on <= last), default=None),
        first_delinquency_on=episode, restructured=summary.restructured,
        written_off_on=write_off if written_off else None,
        charge_off_amount=walk.charge_off_amount if written_off else 0,
        closed_on=max((p.on for p in in_month), default=last) if closed else None,
        events=tuple(walk.events), dispute=dispute,
        condition_code=_condition_code(disputes, month),
        objection_overdue=any(
            d.opened_on + timedelta(days=rules.objection_days) < last
            and (d.answered_on is None or d.answered_on > last) for d in disputes),
        special_comment=rules.comment_for(plan_kinds[-1]) if plan_kinds else "",
        metro2_status=status, payment_rating=codes.payment_rating(status, walk.worst),
        metro2_code=metro2_code,
        metro2_history=(previous.metro2_code + previous.metro2_history[:HISTORY_MONTHS - 1]
                        if previous else codes.NO_HISTORY * HISTORY_MONTHS),
        pboc_code=pboc,
        pboc_history=((previous.pboc_history[1:] if previous
                       else codes.PBOC_NOT_OPEN * (HISTORY_MONTHS - 1)) + pboc),
        account_status=codes.account_status(summary.dpd, closed=closed,
                                            written_off=written_off, grace_days=grace),
        loan_class=rules.classification.of(summary.dpd, written_off=written_off and not closed),
        negative=negative,
        gate_open=previous.gate_open if previous else False,
    )
    return snapshot, end_state


def _band(age: int) -> int:
    return 0 if age <= 30 else 1 if age <= 60 else 2 if age <= 90 else 3 if age <= 180 else 4


def _events_of_day(walk: _Walk, day: date, before: Summary, after: Summary, prepaid: int,
                   waived: int, payments: Sequence[Payment]) -> None:
    """The special transactions of one event day (特殊交易), from the states around it."""
    loan, state = walk.loan, walk.state
    for plan in loan.plans:
        if plan.effective_on == day and plan.kind in EXTENSIONS:
            months = plan.months
            if plan.kind is PlanKind.REAGE:
                months = plan.terms - sum(1 for r in state.installments if not r.is_paid)
            elif plan.kind is PlanKind.HOLIDAY and plan.until is not None:
                months = (plan.until.year - day.year) * 12 + plan.until.month - day.month + 1
            walk.events.append(SpecialEvent(kind=codes.SpecialKind.EXTENSION, on=day,
                                            amount=before.principal_outstanding,
                                            months=max(0, months)))
    relief = state.waived.total() - waived
    if relief > 0:
        walk.events.append(SpecialEvent(kind=codes.SpecialKind.RELIEF, on=day, amount=relief))
    paid = sum(p.amount for p in payments if p.on == day)
    written_off = loan.written_off_on
    if written_off is not None and written_off < day and paid:
        walk.events.append(SpecialEvent(kind=codes.SpecialKind.RECOVERY, on=day, amount=paid))
    elif paid and after.status is LoanStatus.SETTLED and state.installments[-1].due_date > day:
        walk.events.append(SpecialEvent(kind=codes.SpecialKind.PREPAID_IN_FULL, on=day,
                                        amount=paid))
    elif state.prepaid_principal > prepaid:
        walk.events.append(SpecialEvent(kind=codes.SpecialKind.PREPAYMENT, on=day,
                                        amount=state.prepaid_principal - prepaid))
    if written_off == day:
        walk.charge_off_amount = balance_of(after)
        walk.events.append(SpecialEvent(kind=codes.SpecialKind.WRITE_OFF, on=day,
                                        amount=walk.charge_off_amount))


def _dispute_state(disputes: Sequence[BureauDispute], month: Month) -> DisputeState:
    last = month.last
    if any(d.opened_on <= last and (d.answered_on is None or d.answered_on > last)
           for d in disputes):
        return DisputeState.OPEN
    if any(d.answered_on is not None and month.first <= d.answered_on <= last
           for d in disputes):
        return DisputeState.ANSWERED
    return DisputeState.NONE


def _condition_code(disputes: Sequence[BureauDispute], month: Month) -> codes.ConditionCode:
    """M2-8: XB while a dispute is open at the month's end, XH in the month it is answered,
    XR the month after (removing XH), then nothing."""
    state = _dispute_state(disputes, month)
    if state is DisputeState.OPEN:
        return codes.ConditionCode.UNDER_INVESTIGATION
    if state is DisputeState.ANSWERED:
        return codes.ConditionCode.INVESTIGATED
    if _dispute_state(disputes, month.previous()) is DisputeState.ANSWERED:
        return codes.ConditionCode.REMOVE
    return codes.ConditionCode.NONE


def held(snapshot: MonthSnapshot, rule_ids: tuple[str, ...]) -> MonthSnapshot:
    """The snapshot with its record held back by `rule_ids`, or sent when there are none."""
    return replace(snapshot, held_rules=rule_ids,
                   gate_open=snapshot.gate_open or (snapshot.negative and not rule_ids))


def reported_alike(a: MonthSnapshot, b: MonthSnapshot) -> bool:
    """The two print the same record: they differ at most in what no file carries (whether the
    gate is open, the rules that held a record, the objection's reply deadline)."""
    def printed(s: MonthSnapshot) -> MonthSnapshot:
        return replace(s, gate_open=False, held_rules=(), objection_overdue=False)

    return printed(a) == printed(b)


def needs_gate(snapshot: MonthSnapshot) -> bool:
    """The record would be the loan's first negative one (CN-21, US-26)."""
    return snapshot.negative and not snapshot.gate_open
