"""Pricing a payment file's same-day payments on plain loans without building domain objects.

Most rows of a bank's daily file pay a loan on the open business date no more than it owes
through that date. For such a loan — no plan in force, no pause, nothing waived, not written
off, no credit held, its stored state at the closed date (or a fresh loan nothing has fallen due
on yet) — `loan.apply_payment` reduces to the waterfall over the installments due by the open
day, and the ledger entry to the difference of the rows it paid. This module does exactly that
on plain integer rows read in bulk (`LoanSnapshot`), using the domain's own waterfall
(`apply_in_order`), rounding (`accrual.to_minor`), buckets and ledger postings.

Anything else — money beyond what is due (credit held, prepayment, settlement), a back-dated
row, a loan with a plan — returns None and the caller prices the loan through `payments.price`,
so the two paths meet only where this one is exact (`tests/unit/application/
test_same_day_payments.py` holds them together on random loans and payments).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from arrears.domain import accrual, ledger
from arrears.domain.delinquency import Bucket, LoanStatus, bucket, days_past_due
from arrears.domain.loan import PaymentApplied
from arrears.domain.product import Component, Product
from arrears.domain.waterfall import apply_in_order

ONE_DAY = timedelta(days=1)
SUB = accrual.SUB_MINOR_PER_MINOR
# Positions in a row, in `InstallmentState` field order (`book.INSTALLMENT_AMOUNTS` after the
# number and due date).
(NUMBER, DUE, PRINCIPAL, INTEREST, FEE, PAID_PRINCIPAL, PAID_INTEREST, PAID_FEE,
 PENALTY_ACCRUED, PENALTY_PAID, COMPOUND_ACCRUED, COMPOUND_PAID) = range(12)
_PAID_AT = {Component.FEE: PAID_FEE, Component.PENALTY: PENALTY_PAID,
            Component.COMPOUND: COMPOUND_PAID, Component.INTEREST: PAID_INTEREST,
            Component.PRINCIPAL: PAID_PRINCIPAL}
_ZERO = ledger.opening_position()


@dataclass(slots=True, kw_only=True)
class LoanSnapshot:
    """What the store reads of one loan for a payment file dated `open_day`.

    `rows` are the installments due by the open day that still owe something (principal,
    interest or fee unpaid, or penalty or compound not settled), in number order, each a list
    in `InstallmentState` field order; the others owe nothing and no payment changes them.
    `first_due` is the earliest due date of any installment, `next_unpaid_due` the earliest of
    those due after the open day and not paid."""

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
    first_due: date | None
    next_unpaid_due: date | None
    rows: list[list[Any]] = field(default_factory=list)


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
    changed: list[list[Any]]  # rows as they end, those any payment changed
    status: LoanStatus
    dpd: int
    bucket: Bucket
    earliest_unpaid_due_on: date | None
    delinquent_since: date | None


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
    if loan.state_on < closed and loan.first_due is not None and loan.first_due <= closed:
        return None  # a loan end-of-day passed over: its catch-up is the domain's to do
    rows = [list(row) for row in loan.rows]
    changed: dict[int, list[Any]] = {}
    grace = timedelta(days=product.grace_days)
    # A fresh loan's catch-up to the closed date finds nothing overdue and ends any episode.
    since = loan.delinquent_since if loan.state_on == closed else None
    previous = loan.bucket
    posted: list[SameDayPosting] = []
    dpd = 0
    for key, amount in payments:
        remaining = amount
        totals = dict.fromkeys(Component, 0)
        before: list[tuple[int, ...]] = []
        after: list[tuple[int, ...]] = []
        for index, row in enumerate(rows):
            if remaining == 0:
                break
            owed = _owed(row, product, open_day)
            allocation, remaining = apply_in_order(remaining, owed, product.waterfall)
            if not allocation:
                continue
            before.append(_contribution(row, product, closed))
            new = list(row)
            for component, value in allocation.items():
                totals[component] += value
                new[_PAID_AT[component]] += value
            if _is_paid(new) and open_day <= new[DUE] + grace:
                # Paid within the grace window: no charges left (`_Engine.closed`).
                new[PRINCIPAL], new[INTEREST], new[FEE] = (
                    new[PAID_PRINCIPAL], new[PAID_INTEREST], new[PAID_FEE])
                new[PENALTY_ACCRUED] = new[PENALTY_PAID] * SUB
                new[COMPOUND_ACCRUED] = new[COMPOUND_PAID] * SUB
            after.append(_contribution(new, product, closed))
            rows[index] = changed[new[NUMBER]] = new
        if remaining:
            return None  # money beyond what is due: held or prepaid by the domain
        dpd = _dpd(rows, closed)
        since = _delinquent_since(rows, open_day, since)
        moved = bucket(dpd)
        posted.append(SameDayPosting(
            applied=PaymentApplied(
                key=key, on=open_day, amount=amount, to_fee=totals[Component.FEE],
                to_penalty=totals[Component.PENALTY], to_compound=totals[Component.COMPOUND],
                to_interest=totals[Component.INTEREST],
                to_principal=totals[Component.PRINCIPAL], to_credit=0),
            postings=_postings(before, after), bucket_before=previous, bucket=moved, dpd=dpd))
        previous = moved
    unpaid = [row[DUE] for row in rows if not _is_paid(row)]
    earliest_unpaid = min(unpaid) if unpaid else loan.next_unpaid_due
    return LoanPosted(
        snapshot=loan, postings=posted, changed=list(changed.values()),
        status=_status(rows, product, closed, dpd, earliest_unpaid is None), dpd=dpd,
        bucket=previous, earliest_unpaid_due_on=earliest_unpaid,
        delinquent_since=since)


def _is_paid(row: list[Any]) -> bool:
    return bool(row[PRINCIPAL] == row[PAID_PRINCIPAL] and row[INTEREST] == row[PAID_INTEREST]
                and row[FEE] == row[PAID_FEE])


def _chargeable(row: list[Any], product: Product, paid_on: date) -> tuple[int, int]:
    """`loan.chargeable` of a row."""
    if paid_on <= row[DUE] + timedelta(days=product.grace_days):
        return 0, 0
    return (accrual.to_minor(row[PENALTY_ACCRUED], product.rounding)
            - row[PENALTY_PAID],
            accrual.to_minor(row[COMPOUND_ACCRUED], product.rounding)
            - row[COMPOUND_PAID])


def _owed(row: list[Any], product: Product, paid_on: date) -> dict[Component, int]:
    """`loan.owed_on` of a row."""
    penalty, compound = _chargeable(row, product, paid_on)
    return {Component.FEE: row[FEE] - row[PAID_FEE],
            Component.PENALTY: penalty, Component.COMPOUND: compound,
            Component.INTEREST: row[INTEREST] - row[PAID_INTEREST],
            Component.PRINCIPAL: row[PRINCIPAL] - row[PAID_PRINCIPAL]}


def _contribution(row: list[Any], product: Product, as_of: date) -> tuple[int, ...]:
    """What one row adds to `ledger.position` at the end of `as_of`: (unpaid principal,
    interest, fee, penalty, compound receivable; principal, interest, fee, penalty, compound
    received)."""
    due = row[DUE] <= as_of
    penalty, compound = _chargeable(row, product, as_of + ONE_DAY) if due else (0, 0)
    return (row[PRINCIPAL] - row[PAID_PRINCIPAL],
            row[INTEREST] - row[PAID_INTEREST] if due else 0,
            row[FEE] - row[PAID_FEE] if due else 0,
            penalty, compound, row[PAID_PRINCIPAL], row[PAID_INTEREST], row[PAID_FEE],
            row[PENALTY_PAID], row[COMPOUND_PAID])


def _postings(before: list[tuple[int, ...]], after: list[tuple[int, ...]]
              ) -> tuple[tuple[ledger.Account, int], ...]:
    """`ledger.postings` between the positions before and after: a position is a sum over
    rows, and only the rows the payment changed differ (the state's date, credit, prepaid
    principal and plan amounts stay)."""
    delta = [sum(values) for values in zip(*after, strict=True)]
    for row in before:
        delta = [d - v for d, v in zip(delta, row, strict=True)]
    receivables = ledger.RECEIVABLES
    return ledger.postings(_ZERO, ledger.Position(
        receivable=dict(zip(receivables, delta[:5], strict=True)),
        received=dict(zip(receivables, delta[5:], strict=True)), credit=0,
        written_off=False))


def _dpd(rows: list[list[Any]], as_of: date) -> int:
    """DPD at the end of `as_of` as `summarize` has it."""
    earliest = next((row[DUE] for row in rows
                     if row[DUE] < as_of and not _is_paid(row)), None)
    return days_past_due(as_of, earliest)


def _delinquent_since(rows: list[list[Any]], day: date, since: date | None
                      ) -> date | None:
    """`_Engine.track_delinquency(day)` for a loan with no plan and nothing waived."""
    overdue = next((row[DUE] for row in rows
                    if row[DUE] < day and not _is_paid(row)), None)
    if overdue is None:
        return None
    start: date = overdue + ONE_DAY
    return min(start, since or start)


def _status(rows: list[list[Any]], product: Product, as_of: date, dpd: int,
            all_paid_later: bool) -> LoanStatus:
    """`summarize(...).status` of a loan not written off."""
    next_day = as_of + ONE_DAY
    total_due = sum(sum(_owed(row, product, next_day).values()) for row in rows
                    if row[DUE] <= as_of)
    if total_due == 0 and all_paid_later and all(_is_paid(row) for row in rows):
        return LoanStatus.SETTLED
    return LoanStatus.OVERDUE if dpd > 0 else LoanStatus.CURRENT
