"""Whether each approved hardship plan is kept or broken: end-of-day decides, per date, in the
transaction that closes the date (so a re-run date changes nothing).

A plan is broken once the borrower is more than the policy's `broken_after_days` late under
it (days past due counted from the plan's date at the earliest, paused days aside), or a
settlement offer's last day passed unpaid. It is kept once the loan is settled, or once the
borrower is current and `kept_after_payments` installments falling due after its date are
paid. A broken plan keeps its concessions, or under `on_break = revert` is rescinded: the loan
is restated without it, and the ledger posts the difference (what was forgiven is owed again).
Either way collections resume (`collections` only holds back dunning for approved plans).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from arrears.application.plan_policy import PlanPolicy, parse_policy
from arrears.application.ports import (
    BookedLoan,
    Clock,
    Event,
    PlanRecord,
    UnitOfWork,
    WatchedPlan,
)
from arrears.application.transitions import change
from arrears.domain.delinquency import LoanStatus
from arrears.domain.loan import Loan, LoanState, Payment, advance, initial_state, summarize
from arrears.domain.plans import PlanKind, paused_days

ONE_DAY = timedelta(days=1)
APPROVED = "approved"
KEPT = "kept"
BROKEN = "broken"


def outcome(loan: Loan, state: LoanState, record: PlanRecord, policy: PlanPolicy) -> str | None:
    """KEPT, BROKEN, or None while it is too early to say (at the end of `state.as_of`)."""
    summary = summarize(loan, state)
    day = state.as_of
    if summary.status is LoanStatus.SETTLED:
        return KEPT
    if record.kind == PlanKind.SETTLEMENT.value:
        until = date.fromisoformat(record.terms["until"])
        return BROKEN if day > until else None
    earliest = summary.earliest_overdue_due_date
    if summary.dpd > 0 and earliest is not None:
        # Arrears the plan found do not count against it: lateness starts at its date.
        start = max(earliest, record.effective_on - ONE_DAY)
        late = min(summary.dpd, (day - start).days - paused_days(state.pauses, start, day))
        if late > policy.broken_after_days:
            return BROKEN
    paid = sum(1 for row in state.installments
               if record.effective_on < row.due_date <= day and row.is_paid)
    if summary.dpd == 0 and paid >= policy.kept_after_payments:
        return KEPT
    return None


def standing_payments(uow: UnitOfWork, loan_id: int) -> list[Payment]:
    """The loan's payments that stand (neither reversals nor reversed)."""
    return [Payment(key=p.key, on=p.on, amount=p.amount, prepayment=p.prepayment)
            for p in uow.book.payments_of(loan_id) if p.reverses_id is None and not p.reversed]


def without_plan(booked: BookedLoan, plan_ref: str) -> Loan:
    return replace(booked.loan, plans=tuple(p for p in booked.loan.plans
                                            if p.plan_id != plan_ref))


def _may_end(record: WatchedPlan, day: date, policies: dict[str, PlanPolicy],
             product_code: str, due_dates: list[date]) -> bool:
    """Whether `outcome` may decide the plan at the end of `day` for a loan end-of-day left
    as it was: open and nothing unpaid due by `day`, so not settled, no days past due, and
    every installment due by `day` paid."""
    policy = policies.get(product_code)
    if policy is None:
        return False
    if record.kind == PlanKind.SETTLEMENT.value:
        return day > date.fromisoformat(record.terms["until"])
    paid = sum(1 for due in due_dates if record.effective_on < due <= day)
    return paid >= policy.kept_after_payments


def review_plans(uow: UnitOfWork, day: date, clock: Clock) -> tuple[int, int]:
    """Settle the outcome of every approved plan at the end of `day` (after every loan's
    end-of-day for it); returns (kept, broken). A loan end-of-day did not touch is brought
    forward here only to be judged; its stored state stays valid as it is."""
    watched = uow.plans.all_watched()
    if not watched:
        return 0, 0
    policies = {code: parse_policy(doc, f"policy {code}")
                for code, doc in uow.plans.policies().items()}
    untouched = uow.book.untouched_due_dates(sorted({r.loan_id for r in watched}), day)
    # A loan whose every plan is still undecided on what the loan row tells is not loaded.
    judged = sorted({r.loan_id for r in watched if r.loan_id not in untouched
                     or _may_end(r, day, policies, *untouched[r.loan_id])})
    loans = {b.id: b for b in uow.book.get_many(judged, for_update=True)}
    counts = {KEPT: 0, BROKEN: 0}
    for record in sorted(uow.plans.watched(judged), key=lambda r: r.id):
        booked = loans[record.loan_id]
        policy = policies.get(booked.product_code)
        if policy is None:
            continue  # the policy was withdrawn: the plan waits for one to judge it by
        try:
            state = booked.state if booked.state.as_of >= day else advance(
                booked.loan, booked.state, [], day, opened=True)[0]
        except Exception:  # set aside by end-of-day with its error: judged once caught up
            continue
        found = outcome(booked.loan, state, record, policy)
        if found is None:
            continue
        counts[found] += 1
        revert = found == BROKEN and policy.on_break == "revert"
        uow.plans.update(replace(record, status=found, outcome_on=day,
                                 in_force=record.in_force and not revert))
        events = [Event(message_id=f"plan.{found}:{record.plan_ref}", topic=f"plan.{found}",
                        loan_id=booked.id, business_date=day, created_at=clock.now(),
                        payload={"loan_id": booked.loan.loan_id, "plan_id": record.plan_ref,
                                 "kind": record.kind, "reverted": revert})]
        if revert:
            # Written from the state as stored: the entry posts the plan's undoing and any
            # days the loan lagged by together.
            loan = without_plan(booked, record.plan_ref)
            restated = advance(loan, initial_state(loan), standing_payments(uow, booked.id),
                               day)[0]
            moved = change(booked, loan, restated, entry=f"plan-revert:{record.plan_ref}",
                           business_date=day, at=clock.now())
            uow.book.apply([moved.update])
            events.extend(moved.events)
            loans[booked.id] = replace(booked, loan=loan, state=restated)
        uow.book.emit(events)
    return counts[KEPT], counts[BROKEN]
