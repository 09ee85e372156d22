"""Pricing a payment file's same-day payments on plain loans without the loan's whole state.

Most rows of a bank's daily file pay a loan on the open business date no more than it owes
through that date. For such a loan — no plan in force, no pause, nothing waived, not written
off, no credit held, its state stored at the closed date, or earlier with nothing unpaid fallen
due since (end-of-day passes over a loan with nothing due: catching it up changes only its
date) — `loan.apply_payment` reduces to the waterfall over the installments due by the open
day, and the ledger entry to what it paid, split by whether the installment fell due before
the open day. This module does exactly that on the installments read in bulk (`LoanSnapshot`),
every rule the domain's own (`owed_on`, `apply_in_order`, `paid_towards`,
`overdue_installments`, `delinquency_start`, `amount_due`, `loan_status`,
`ledger.same_day_payment_postings`): only the choice of rows is its own.

Money beyond what is due is priced here in one case only, the common one of a borrower paying
the next installment early: a `hold` product keeps it as credit when it is no more than that
installment still asks for (`credit_to_keep`) and less than the principal not yet due (so it
cannot be a payoff), and the payment is the loan's last in the file (a later one would join the
credit). Anything else — a prepayment, a settlement, credit held already, a back-dated row, a
loan with a plan — returns None and the caller prices the loan through `payments.price`, so
the two paths meet only where this one is exact (`tests/unit/application/
test_same_day_payments.py` holds them together on random loans and payments).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from arrears.domain import ledger
from arrears.domain.delinquency import Bucket, LoanStatus, bucket, days_past_due
from arrears.domain.loan import (
    InstallmentState,
    PaymentApplied,
    amount_due,
    delinquency_start,
    loan_status,
    overdue_installments,
    owed_on,
    paid_towards,
)
from arrears.domain.product import Component, EarlyPayment, Product
from arrears.domain.waterfall import apply_in_order

ONE_DAY = timedelta(days=1)
COMPONENTS = tuple(Component)  # iterating the enum itself costs more than the loop it feeds


@dataclass(slots=True, kw_only=True)
class LoanSnapshot:
    """What the store reads of one loan for a payment file dated `open_day`.

    `rows` are the installments due by the open day that still owe something (principal,
    interest or fee unpaid, or penalty or compound not settled), in number order; the others
    owe nothing and no payment changes them. `next_unpaid_due` is the earliest due date of
    the installments due after the open day and not paid; `ahead_owed` what the first
    installment due after it (by number, paid or not) still asks for, principal, interest
    and fee; `ahead_principal` the principal unpaid of all installments due after it."""

    id: int
    loan_ref: str
    currency: str
    product_code: str
    disbursed_on: date
    state_on: date
    bucket: Bucket
    delinquent_since: date | None
    holds_plan: bool
    written_off: bool
    paused: bool
    plan_amounts: bool  # anything waived or capitalised by a plan
    unapplied: int
    offer_received: int
    next_unpaid_due: date | None
    ahead_owed: int = 0
    ahead_principal: int = 0
    rows: list[InstallmentState] = field(default_factory=list)


@dataclass(slots=True, kw_only=True)
class SameDayPosting:
    """One payment priced: how it was applied, its ledger entry, the loan after it."""

    applied: PaymentApplied
    postings: tuple[tuple[ledger.Account, int], ...]
    bucket_before: Bucket
    bucket: Bucket
    dpd: int


@dataclass(slots=True, kw_only=True)
class LoanPosted:
    """A loan's payments priced in file order, and what to write for the loan once."""

    snapshot: LoanSnapshot
    postings: list[SameDayPosting]
    changed: list[InstallmentState]  # installments as they end, those any payment changed
    status: LoanStatus
    dpd: int
    bucket: Bucket
    earliest_unpaid_due_on: date | None
    delinquent_since: date | None
    unapplied: int  # the credit the loan holds after them


def price_same_day(snapshot: LoanSnapshot, product: Product,
                   payments: list[tuple[str, int]], open_day: date) -> LoanPosted | None:
    """`payments` ((key, minor units), all dated `open_day`, in file order) applied to the
    loan exactly as `payments.price` would post them one after another; None when the loan or
    a payment is outside what this path prices (see the module docstring)."""
    closed = open_day - ONE_DAY
    loan = snapshot
    if (loan.holds_plan or loan.written_off or loan.paused or loan.plan_amounts
            or loan.unapplied or loan.offer_received or loan.disbursed_on > open_day
            or loan.state_on > closed):
        return None
    if loan.state_on < closed and overdue_installments(loan.rows, open_day):
        return None  # something fell due unpaid since: its catch-up is the domain's to do
    rows = list(loan.rows)
    changed: dict[int, InstallmentState] = {}
    # Catching up to the closed date finds nothing overdue and ends any episode.
    since = loan.delinquent_since if loan.state_on == closed else None
    previous = loan.bucket
    posted: list[SameDayPosting] = []
    dpd = 0
    credit = 0
    for key, amount in payments:
        if credit:
            return None  # a payment after credit is held joins it: the domain's to apply
        remaining = amount
        totals = dict.fromkeys(COMPONENTS, 0)
        newly_due = dict.fromkeys(COMPONENTS, 0)  # put to installments due on the open day
        for index, row in enumerate(rows):
            if remaining == 0:
                break
            allocation, remaining = apply_in_order(remaining, owed_on(row, product, open_day),
                                                   product.waterfall)
            if not allocation:
                continue
            fresh = row.due_date > closed
            for component, value in allocation.items():
                totals[component] += value
                if fresh:
                    newly_due[component] += value
            rows[index] = changed[row.number] = paid_towards(row, allocation, product,
                                                             open_day)
        if remaining:
            if not _held_as_credit(loan, product, remaining):
                return None  # prepaid, settling, or more than the next installment asks
            credit = remaining
        overdue = overdue_installments(rows, closed)
        dpd = days_past_due(closed, overdue[0].due_date if overdue else None)
        # `track_delinquency(open_day)` of a loan no plan ever touched.
        late = overdue_installments(rows, open_day)
        since = delinquency_start(late[0], since) if late else None
        moved = bucket(dpd)
        posted.append(SameDayPosting(
            applied=PaymentApplied(
                key=key, on=open_day, amount=amount, to_fee=totals[Component.FEE],
                to_penalty=totals[Component.PENALTY], to_compound=totals[Component.COMPOUND],
                to_interest=totals[Component.INTEREST],
                to_principal=totals[Component.PRINCIPAL], to_credit=credit),
            postings=ledger.same_day_payment_postings(totals, newly_due, credit),
            bucket_before=previous, bucket=moved, dpd=dpd))
        previous = moved
    unpaid = [row.due_date for row in rows if not row.is_paid]
    earliest_unpaid = min(unpaid) if unpaid else loan.next_unpaid_due
    total_due = amount_due(rows, product, closed)
    return LoanPosted(
        snapshot=loan, postings=posted, changed=list(changed.values()),
        status=loan_status(written_off=False, total_due=total_due,
                           all_paid=earliest_unpaid is None, dpd=dpd),
        dpd=dpd, bucket=previous, earliest_unpaid_due_on=earliest_unpaid,
        delinquent_since=since, unapplied=credit)


def _held_as_credit(loan: LoanSnapshot, product: Product, excess: int) -> bool:
    """Whether the domain keeps all of `excess` (paid beyond everything due by the open day,
    no credit held before) as credit: `credit_to_keep` keeps up to what the next installment
    asks on a `hold` product unless the money settles the loan, which takes at least the
    principal not yet due."""
    return (product.early_payment is EarlyPayment.HOLD and excess <= loan.ahead_owed
            and excess < loan.ahead_principal)

