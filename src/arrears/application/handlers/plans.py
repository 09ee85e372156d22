"""Hardship plans on the book: propose (with a preview), approve or reject (maker-checker),
undo; the lender's plan policy per product.

A proposal is checked against the product's policy (kind, eligibility, limits) and the
jurisdiction's cost cap before anything is stored; approval checks it all again on the loan as
it is then, and that the approver is not the proposer and may approve what it forgives. An
approved plan takes effect at the start of the open business date: the loan is restated with
it (its payments of the day after it), and the ledger posts the difference — concessions and
capitalisation included — as one entry. Undo restates the loan without it, while it is still
the loan's latest event. End-of-day decides whether it is kept or broken (`plan_outcomes`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from arrears.application.access import Role
from arrears.application.handlers.disputes import disputed
from arrears.application.handlers.eod import current_state
from arrears.application.handlers.payments import live_payments, restate
from arrears.application.handlers.plan_outcomes import APPROVED, without_plan
from arrears.application.loan_file import money_text, parse_plan, parse_stored_plan
from arrears.application.plan_documents import forgiven, preview_document
from arrears.application.plan_policy import InvalidPolicy, PlanPolicy, parse_policy
from arrears.application.ports import (
    BookedLoan,
    Clock,
    Event,
    PlanRecord,
    PlanRefTaken,
    UnitOfWork,
)
from arrears.application.transitions import change
from arrears.domain.errors import DomainError
from arrears.domain.loan import Loan, Payment, summarize
from arrears.domain.plan_preview import PlanPreview, preview
from arrears.domain.plans import Plan, PlanKind, check_sequence
from arrears.domain.product import DEFAULT_APR_CAPS
from arrears.domain.schedule import add_months

ONE_DAY = timedelta(days=1)
YEAR = timedelta(days=365)
PROPOSED = "proposed"
REJECTED = "rejected"
UNDONE = "undone"
LAPSED_BY = "book"  # who "decides" a proposal its business date passed by
STRATEGY_PROPOSER = "strategy:"  # an automatic offer: `strategy:<name>`
BORROWER_PROPOSER = "borrower:"  # the borrower's own request: `borrower:<ref>`
# Plans that count against "plans per loan per year": every one the loan was granted.
GRANTED = ("approved", "kept", "broken")
APPROVERS = (Role.COLLECTOR, Role.SUPERVISOR)
MAX_ACTOR = 64
PROPOSE_ATTEMPTS = 3
"""Tries at a free plan ref when concurrent proposals keep taking the one chosen."""
MAX_REASON = 400
# Kinds that set a new first installment, which the policy's minimum applies to.
RESCHEDULING = (PlanKind.REAGE, PlanKind.DEFERRAL, PlanKind.HOLIDAY, PlanKind.REAMORTIZE)


class PlanRefused(DomainError):
    """A plan that a rule refuses: the policy, the cost cap, maker-checker, the loan."""


def set_policies(policies: Mapping[str, Any], *, uow_factory: Callable[[], UnitOfWork]
                 ) -> None:
    """Store the plan policy of each named product (all or none)."""
    parsed = {code: parse_policy(doc, f"policies.{code}") for code, doc in policies.items()}
    with uow_factory() as uow:
        products = uow.book.products()
        for code in parsed:
            if code not in products:
                raise InvalidPolicy(f"policies.{code}", "no such product in the book")
            uow.plans.set_policy(code, dict(policies[code]))
        uow.commit()


def _actor(value: str, field: str) -> str:
    if not value.strip() or len(value) > MAX_ACTOR:
        raise PlanRefused(field, f"must be 1 to {MAX_ACTOR} characters")
    return value


def _open_day(uow: UnitOfWork) -> date:
    closed = uow.book.closed_through()
    if closed is None:
        raise PlanRefused("business_date", "the book has no business date; run `arrears init`")
    return closed + ONE_DAY


def _policy(uow: UnitOfWork, booked: BookedLoan) -> PlanPolicy:
    found = uow.plans.policies().get(booked.product_code)
    if found is None:
        raise PlanRefused("policy.kinds", f"product {booked.product_code} offers no plans")
    return parse_policy(found, f"policy {booked.product_code}")


def _eligible(uow: UnitOfWork, booked: BookedLoan, plan: Plan, policy: PlanPolicy) -> None:
    """The loan may take a plan of this kind now (refused naming the rule otherwise)."""
    loan = booked.loan
    if plan.kind not in policy.kinds:
        raise PlanRefused("policy.kinds", f"product {booked.product_code} does not offer "
                                          f"{plan.kind} plans")
    if loan.written_off_on is not None:
        raise PlanRefused("loan.written_off", f"{loan.loan_id} was written off on "
                                              f"{loan.written_off_on}; no plan can change it")
    if disputed(uow, loan.loan_id):
        raise PlanRefused("loan.dispute", f"{loan.loan_id} is in dispute")
    dpd = summarize(loan, current_state(booked, plan.effective_on - ONE_DAY)).dpd
    if not policy.min_dpd <= dpd <= policy.max_dpd:
        raise PlanRefused("policy.dpd", f"{loan.loan_id} is {dpd} days past due; plans are "
                                        f"for {policy.min_dpd} to {policy.max_dpd}")
    granted = [r for r in uow.plans.of_loan(booked.id)
               if r.status in GRANTED and r.effective_on > plan.effective_on - YEAR]
    if len(granted) >= policy.plans_per_year:
        raise PlanRefused("policy.plans_per_year",
                          f"{loan.loan_id} had {len(granted)} plan(s) in the last 365 days; "
                          f"the product allows {policy.plans_per_year}")


def _months_between(first: date, last: date) -> int:
    """Whole months from `first` to `last`, a part month counting as one."""
    months = (last.year - first.year) * 12 + last.month - first.month
    return months + (1 if last.day > first.day else 0)


def _within_limits(view: PlanPreview, policy: PlanPolicy, loan: Loan) -> None:
    """The plan's terms stay inside the policy and the cost cap."""
    currency = loan.currency
    if view.exceeds_cap and view.apr is not None:
        raise PlanRefused("apr.cap", f"the plan's APR {view.apr.apr_nominal:.2%} exceeds the "
                                     f"{loan.product.jurisdiction} cap {view.cap:.2%}")
    owed = view.borrower_total_before
    waived = forgiven(view)
    if view.plan.kind is PlanKind.WAIVER and waived == 0:
        raise PlanRefused("plan.waive", "forgives nothing of what the loan owes: a share "
                                        "too small, or nothing owed in its buckets")
    if owed > 0 and Decimal(waived) / owed > policy.max_waiver_share:
        raise PlanRefused("policy.max_waiver_share",
                          f"forgives {money_text(waived, currency)} of "
                          f"{money_text(owed, currency)} owed, more than the share "
                          f"{policy.max_waiver_share} the product allows")
    before = [row.due_date for row in view.before.installments if not row.is_paid]
    after = [row.due_date for row in view.after.installments if not row.is_paid]
    if before and after:
        extra = _months_between(max(before), max(after))
        if extra > policy.max_extra_terms:
            raise PlanRefused("policy.max_extra_terms",
                              f"extends the loan by {extra} months; the product allows "
                              f"{policy.max_extra_terms}")
    if view.plan.kind in RESCHEDULING:
        first = next((row for row in view.after.installments
                      if not row.is_paid and row.due_date >= view.plan.effective_on), None)
        least = policy.first_payment(currency)
        asks = 0 if first is None else (first.unpaid_principal + first.unpaid_interest
                                        + first.unpaid_fee)
        if first is not None and asks < least:
            raise PlanRefused("policy.min_first_payment",
                              f"the first installment under the plan asks "
                              f"{money_text(asks, currency)}, below the product's minimum "
                              f"{money_text(least, currency)}")


def _checked(uow: UnitOfWork, booked: BookedLoan, plan: Plan, payments: list[Payment],
             caps: Mapping[str, Decimal]) -> tuple[PlanPreview, PlanPolicy]:
    policy = _policy(uow, booked)
    _eligible(uow, booked, plan, policy)
    view = preview(booked.loan, payments, plan, caps)
    _within_limits(view, policy, booked.loan)
    return view, policy


def _document(view: PlanPreview, booked: BookedLoan, status: str) -> dict[str, Any]:
    return preview_document(view, loan_ref=booked.loan.loan_id, currency=booked.loan.currency,
                            status=status, jurisdiction=booked.loan.product.jurisdiction)


def draft(uow: UnitOfWork, booked: BookedLoan, terms: Mapping[str, Any], *,
          caps: Mapping[str, Decimal] = DEFAULT_APR_CAPS) -> tuple[Plan, dict[str, Any]]:
    """A plan for the open business date from `terms` (a plan object, `plan_file`, without
    `plan_id`) and its preview, checked against the policy and the cost cap; nothing is stored.
    A re-age's first new due date defaults to a month after the plan's date."""
    if "plan_id" in terms:
        raise PlanRefused("plan.plan_id", "is chosen by the book")
    open_day = _open_day(uow)
    document: dict[str, Any] = {"effective_on": open_day.isoformat(), **terms,
                                "plan_id": f"PL-{sum(uow.plans.counts().values()) + 1:06d}"}
    if document.get("kind") == PlanKind.REAGE.value and "first_due_on" not in document:
        document["first_due_on"] = add_months(open_day, 1).isoformat()
    plan = parse_plan(document, booked.loan.currency)
    if plan.effective_on != open_day:
        raise PlanRefused("plan.effective_on", f"a plan takes effect on the open business "
                                               f"date {open_day}")
    view, _ = _checked(uow, booked, plan, live_payments(uow.book, booked), caps)
    # What settles the loan the plan's day, for an offer to state as owed now (the preview's
    # totals hold interest not yet earned); neither figure is stored with the proposal.
    payoff = summarize(booked.loan, view.before).payoff_amount
    return plan, _document(view, booked, PROPOSED) | {
        "waived_units": forgiven(view), "payoff_now": money_text(payoff, booked.loan.currency)}


def record_proposal(uow: UnitOfWork, booked: BookedLoan, plan: Plan, shown: dict[str, Any], *,
                    proposed_by: str, at: datetime) -> dict[str, Any]:
    """Store a drafted plan as proposed (it waits for approval); returns its preview. A
    proposal of an earlier business date can no longer be approved (`approve`): it lapses."""
    _actor(proposed_by, "proposed_by")
    for stale in uow.plans.of_loan(booked.id):
        if stale.status == PROPOSED and stale.effective_on < plan.effective_on:
            uow.plans.update(replace(
                stale, status=REJECTED, decided_by=LAPSED_BY, decided_at=at,
                reason=f"lapsed: not decided on {stale.effective_on}",
                preview={**stale.preview, "status": REJECTED}))
    document = {key: value for key, value in shown.items()
                if key not in ("waived_units", "payoff_now")}
    uow.plans.add(PlanRecord(
        id=0, plan_ref=plan.plan_id, loan_id=booked.id, kind=plan.kind.value,
        status=PROPOSED, in_force=False, effective_on=plan.effective_on,
        terms=document["plan"], waived=shown["waived_units"], preview=document,
        proposed_by=proposed_by, proposed_at=at))
    return document


def open_proposal(uow: UnitOfWork, booked: BookedLoan) -> PlanRecord | None:
    """The plan proposed for the loan that may still be approved (one for the open business
    date), if any."""
    open_day = _open_day(uow)
    return next((r for r in uow.plans.of_loan(booked.id)
                 if r.status == PROPOSED and r.effective_on == open_day), None)


def propose(
    loan_ref: str, terms: Mapping[str, Any], *, proposed_by: str,
    uow_factory: Callable[[], UnitOfWork], clock: Clock,
    caps: Mapping[str, Decimal] = DEFAULT_APR_CAPS,
) -> dict[str, Any]:
    """Propose a plan for the open business date and return its preview; nothing is stored
    when a rule refuses it (see `draft`), nor while another proposal on the loan awaits a
    decision (a form sent twice proposes once). Two proposals at once on different loans may
    choose the same plan ref: the one that loses rolls back whole and is drafted again."""
    _actor(proposed_by, "proposed_by")
    attempt = 1
    while True:
        try:
            return _propose_once(loan_ref, terms, proposed_by=proposed_by,
                                 uow_factory=uow_factory, clock=clock, caps=caps)
        except PlanRefTaken:
            if attempt == PROPOSE_ATTEMPTS:
                raise
            attempt += 1


def _propose_once(loan_ref: str, terms: Mapping[str, Any], *, proposed_by: str,
                  uow_factory: Callable[[], UnitOfWork], clock: Clock,
                  caps: Mapping[str, Decimal]) -> dict[str, Any]:
    with uow_factory() as uow:
        booked = uow.book.get(loan_ref, for_update=True)
        if booked is None:
            raise PlanRefused("LOAN", f"no loan {loan_ref!r}")
        plan, shown = draft(uow, booked, terms, caps=caps)  # the terms' own faults first
        pending = open_proposal(uow, booked)
        if pending is not None and _staff_supersedes(pending, proposed_by):
            uow.plans.update(replace(
                pending, status=REJECTED, decided_by=LAPSED_BY, decided_at=clock.now(),
                reason=f"lapsed: {proposed_by} proposed another plan",
                preview={**pending.preview, "status": REJECTED}))
        elif pending is not None:
            raise PlanRefused("plan.pending", f"plan {pending.plan_ref} proposed by "
                                              f"{pending.proposed_by} already awaits a "
                                              "decision on this loan")
        document = record_proposal(uow, booked, plan, shown, proposed_by=proposed_by,
                                   at=clock.now())
        uow.commit()
    return document


def _staff_supersedes(pending: PlanRecord, proposed_by: str) -> bool:
    """A strategy's offer stands aside for what the lender's staff propose after talking to
    the borrower; the borrower's own request and a colleague's proposal are decided first."""
    return pending.proposed_by.startswith(STRATEGY_PROPOSER) and not proposed_by.startswith(
        (STRATEGY_PROPOSER, BORROWER_PROPOSER))


def _proposed(uow: UnitOfWork, plan_ref: str, by: str) -> tuple[PlanRecord, BookedLoan]:
    """The proposed plan and its loan, for a decision by `by` (never its proposer)."""
    record = uow.plans.get(plan_ref, for_update=True)
    if record is None:
        raise PlanRefused("PLAN", f"no plan {plan_ref!r}")
    if record.status != PROPOSED:
        raise PlanRefused("plan.status", f"{plan_ref} is {record.status}; only a proposed plan "
                                         "can be decided")
    if by == record.proposed_by:
        raise PlanRefused("plan.approved_by", "the approver must not be the proposer "
                                              "(maker-checker)")
    return record, uow.book.get_many([record.loan_id], for_update=True)[0]


def _restated(uow: UnitOfWork, booked: BookedLoan, loan: Loan, entry: str, open_day: date,
              at: datetime, event: Event) -> None:
    """Write the loan restated with `loan`'s plans, and the difference as one entry."""
    closed = max(open_day - ONE_DAY, booked.state.as_of)
    state, _ = restate(replace(booked, loan=loan), live_payments(uow.book, booked), closed)
    moved = change(booked, loan, state, entry=entry, business_date=open_day, at=at)
    uow.book.apply([moved.update])
    uow.book.emit((*moved.events, event))


def _event(topic: str, record: PlanRecord, booked: BookedLoan, day: date, at: datetime,
           by: str) -> Event:
    return Event(message_id=f"{topic}:{record.plan_ref}", topic=topic, loan_id=booked.id,
                 business_date=day, created_at=at,
                 payload={"loan_id": booked.loan.loan_id, "plan_id": record.plan_ref,
                          "kind": record.kind, "by": by})


def approve(
    plan_ref: str, *, by: str, role: Role = Role.COLLECTOR,
    uow_factory: Callable[[], UnitOfWork], clock: Clock,
    caps: Mapping[str, Decimal] = DEFAULT_APR_CAPS,
) -> dict[str, Any]:
    """Approve a proposed plan and apply it to the loan (see the module docstring)."""
    _actor(by, "approved_by")
    if role not in APPROVERS:
        raise PlanRefused("role", f"a {role} cannot approve plans (collector or supervisor)")
    with uow_factory() as uow:
        record, booked = _proposed(uow, plan_ref, by)
        open_day = _open_day(uow)
        if record.effective_on != open_day:
            raise PlanRefused("plan.effective_on",
                              f"{plan_ref} was proposed for {record.effective_on}; the book is "
                              f"open at {open_day}: propose it again")
        plan = parse_stored_plan(record.terms, booked.loan.currency)
        payments = live_payments(uow.book, booked)
        view, policy = _checked(uow, booked, plan, payments, caps)
        waived = forgiven(view)
        limit = policy.waiver_limit(booked.loan.currency)
        if waived > limit and role is not Role.SUPERVISOR:
            raise PlanRefused("policy.collector_waiver_limit",
                              f"{plan_ref} forgives {money_text(waived, booked.loan.currency)}, "
                              f"above a collector's limit "
                              f"{money_text(limit, booked.loan.currency)}: a supervisor "
                              "approves it")
        at = clock.now()
        loan = replace(booked.loan, plans=check_sequence((*booked.loan.plans, plan)))
        _restated(uow, booked, loan, f"plan:{plan_ref}", open_day, at,
                  _event("plan.approved", record, booked, open_day, at, by))
        shown = _document(view, booked, APPROVED)
        uow.plans.update(replace(
            record, status=APPROVED, in_force=True, decided_by=by, decided_at=at,
            waived=waived, preview=shown,
            last_payment_id=max((p.id for p in uow.book.payments_of(booked.id)), default=0)))
        uow.commit()
    return shown


def reject(plan_ref: str, *, by: str, reason: str = "",
           uow_factory: Callable[[], UnitOfWork], clock: Clock) -> dict[str, Any]:
    """Reject a proposed plan; the loan is not touched."""
    _actor(by, "rejected_by")
    if len(reason) > MAX_REASON:
        raise PlanRefused("reason", f"must be at most {MAX_REASON} characters")
    with uow_factory() as uow:
        record, booked = _proposed(uow, plan_ref, by)
        decided = replace(record, status=REJECTED, decided_by=by, decided_at=clock.now(),
                          reason=reason,
                          preview={**record.preview, "status": REJECTED})
        uow.plans.update(decided)
        uow.commit()
    return {"plan_id": plan_ref, "loan_id": booked.loan.loan_id, "status": REJECTED}


def undo(plan_ref: str, *, by: str, role: Role = Role.SUPERVISOR,
         uow_factory: Callable[[], UnitOfWork], clock: Clock) -> dict[str, Any]:
    """Take back an approved plan while it is the loan's latest event: the loan is restated
    without it and the ledger posts the difference, which nets its entry to zero. Undoing
    takes the authority approving took: a plan forgiving more than a collector may approve
    is undone by a supervisor."""
    _actor(by, "undone_by")
    if role not in APPROVERS:
        raise PlanRefused("role", f"a {role} cannot undo plans (collector or supervisor)")
    with uow_factory() as uow:
        record = uow.plans.get(plan_ref, for_update=True)
        if record is None:
            raise PlanRefused("PLAN", f"no plan {plan_ref!r}")
        if record.status != APPROVED:
            raise PlanRefused("plan.status", f"{plan_ref} is {record.status}; only an approved "
                                             "plan can be undone")
        booked = uow.book.get_many([record.loan_id], for_update=True)[0]
        if role is not Role.SUPERVISOR:
            found = uow.plans.policies().get(booked.product_code)
            currency = booked.loan.currency
            limit = 0 if found is None else parse_policy(
                found, f"policy {booked.product_code}").waiver_limit(currency)
            if record.waived > limit:
                raise PlanRefused("policy.collector_waiver_limit",
                                  f"{plan_ref} forgave {money_text(record.waived, currency)}, "
                                  f"above a collector's limit {money_text(limit, currency)}: "
                                  "a supervisor undoes it")
        later = [p for p in uow.book.payments_of(booked.id) if p.id > record.last_payment_id]
        if later or any(r.in_force and r.id > record.id for r in uow.plans.of_loan(booked.id)):
            raise PlanRefused("plan.latest", f"{plan_ref} is no longer the loan's latest event "
                                             "(a payment or a plan came after it)")
        open_day, at = _open_day(uow), clock.now()
        _restated(uow, booked, without_plan(booked, plan_ref), f"plan-undo:{plan_ref}",
                  open_day, at, _event("plan.undone", record, booked, open_day, at, by))
        uow.plans.update(replace(record, status=UNDONE, in_force=False, outcome_on=open_day,
                                 reason=f"undone by {by}",
                                 preview={**record.preview, "status": UNDONE}))
        uow.commit()
    return {"plan_id": plan_ref, "loan_id": booked.loan.loan_id, "status": UNDONE}
