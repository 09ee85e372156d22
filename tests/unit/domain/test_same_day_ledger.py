"""`ledger.same_day_payment_postings` is `ledger.postings` of the two positions: on random
installments (partly paid, due long before the payment day, within or past any grace window,
due on the day itself or later, penalty and compound accrued and partly paid), any waterfall
and rounding, a payment of up to everything owed on its day, applied by the domain's own
`owed_on`, `apply_in_order` and `paid_towards`, and what it leaves as the borrower's credit,
gives the entry the positions of the whole state before and after it (taken at the end of the
day before) give."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from arrears.domain import ledger
from arrears.domain.loan import InstallmentState, LoanState, owed_on, paid_towards
from arrears.domain.product import DEFAULT_WATERFALL, Component, Rounding
from arrears.domain.waterfall import apply_in_order

from builders import product as build_product
from strategies import GRACE_DAYS

PAID_ON = date(2026, 6, 15)
CLOSED = PAID_ON - timedelta(days=1)


@st.composite
def _installment(draw: st.DrawFn, number: int) -> InstallmentState:
    principal, interest, fee = (draw(st.integers(0, 500_000)) for _ in range(3))
    penalty_accrued = draw(st.integers(0, 50_000_000))
    compound_accrued = draw(st.integers(0, 5_000_000))
    return InstallmentState(
        number=number, due_date=PAID_ON + timedelta(days=draw(st.integers(-120, 40))),
        principal=principal, interest=interest, fee=fee,
        paid_principal=draw(st.integers(0, principal)),
        paid_interest=draw(st.integers(0, interest)), paid_fee=draw(st.integers(0, fee)),
        penalty_accrued=penalty_accrued,
        penalty_paid=draw(st.integers(0, penalty_accrued // 10_000)),
        compound_accrued=compound_accrued,
        compound_paid=draw(st.integers(0, compound_accrued // 10_000)))


@st.composite
def _installments(draw: st.DrawFn) -> list[InstallmentState]:
    rows = [draw(_installment(number)) for number in range(1, draw(st.integers(1, 6)) + 1)]
    # Numbered in due-date order, as a schedule is.
    ordered = sorted(rows, key=lambda row: row.due_date)
    return [replace(row, number=number) for number, row in enumerate(ordered, start=1)]


@given(rows=_installments(), share=st.fractions(0, 1),
       grace_days=GRACE_DAYS, rounding=st.sampled_from(Rounding),
       waterfall=st.permutations(DEFAULT_WATERFALL), prepaid=st.integers(0, 100_000),
       credit=st.integers(0, 100_000), held=st.one_of(st.just(0), st.integers(1, 100_000)))
def test_same_day_entry_is_the_difference_of_positions(
        rows: list[InstallmentState], share: object, grace_days: int, rounding: Rounding,
        waterfall: list[Component], prepaid: int, credit: int, held: int) -> None:
    product = build_product(grace_days=grace_days, rounding=rounding, waterfall=tuple(waterfall))
    owed = sum(sum(owed_on(row, product, PAID_ON).values()) for row in rows
               if row.due_date <= PAID_ON)
    remaining = amount = int(owed * share)  # type: ignore[operator]
    paid = dict.fromkeys(Component, 0)
    newly_due = dict.fromkeys(Component, 0)
    after = list(rows)
    for index, row in enumerate(rows):
        if row.due_date > PAID_ON:
            break
        allocation, remaining = apply_in_order(remaining, owed_on(row, product, PAID_ON),
                                               product.waterfall)
        for component, value in allocation.items():
            paid[component] += value
            if row.due_date == PAID_ON:
                newly_due[component] += value
        after[index] = paid_towards(row, allocation, product, PAID_ON)
    assert remaining == 0 and sum(paid.values()) == amount

    def position(installments: list[InstallmentState], unapplied: int) -> ledger.Position:
        state = LoanState(as_of=CLOSED, installments=tuple(installments),
                          prepaid_principal=prepaid, unapplied=unapplied)
        return ledger.position_of(state, product, written_off=False)

    assert ledger.same_day_payment_postings(paid, newly_due, held) == \
        ledger.postings(position(rows, credit), position(after, credit + held))
