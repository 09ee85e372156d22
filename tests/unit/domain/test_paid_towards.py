"""`paid_towards` builds the installment it returns field by field, not by `replace`: on random
installments (plan-earned amounts too), allocations and payment days within or past the grace
window, it equals the `replace` it stands for, and it names every field of `InstallmentState`
(a field added later and left out would reset to its default unseen)."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from arrears.domain import accrual
from arrears.domain.loan import InstallmentState, paid_towards
from arrears.domain.product import Component

from builders import product as build_product

DUE = date(2026, 6, 15)


def _by_replace(row: InstallmentState, allocation: dict[Component, int], grace_days: int,
                paid_on: date) -> InstallmentState:
    """`paid_towards` as it was written before, with `replace`."""
    paid_fee = row.paid_fee + allocation.get(Component.FEE, 0)
    penalty_paid = row.penalty_paid + allocation.get(Component.PENALTY, 0)
    compound_paid = row.compound_paid + allocation.get(Component.COMPOUND, 0)
    paid_interest = row.paid_interest + allocation.get(Component.INTEREST, 0)
    paid_principal = row.paid_principal + allocation.get(Component.PRINCIPAL, 0)
    penalty_accrued, compound_accrued = row.penalty_accrued, row.compound_accrued
    if (paid_principal == row.principal and paid_interest == row.interest
            and paid_fee == row.fee and paid_on <= row.due_date + timedelta(days=grace_days)):
        penalty_accrued = penalty_paid * accrual.SUB_MINOR_PER_MINOR
        compound_accrued = compound_paid * accrual.SUB_MINOR_PER_MINOR
    return replace(row, paid_fee=paid_fee, penalty_paid=penalty_paid,
                   compound_paid=compound_paid, paid_interest=paid_interest,
                   paid_principal=paid_principal, penalty_accrued=penalty_accrued,
                   compound_accrued=compound_accrued)


@given(data=st.data(), grace_days=st.integers(0, 5), late=st.integers(-3, 10),
       settle=st.booleans())
def test_it_equals_the_replace_it_stands_for(data: st.DataObject, grace_days: int, late: int,
                                             settle: bool) -> None:
    amounts = {name: data.draw(st.integers(0, 500_000), label=name)
               for name in ("principal", "interest", "fee")}
    paid = {f"paid_{name}": data.draw(st.integers(0, value), label=f"paid_{name}")
            for name, value in amounts.items()}
    row = InstallmentState(
        number=data.draw(st.integers(1, 36)), due_date=DUE, **amounts, **paid,
        penalty_accrued=data.draw(st.integers(0, 50_000_000)),
        penalty_paid=data.draw(st.integers(0, 5_000)),
        compound_accrued=data.draw(st.integers(0, 5_000_000)),
        compound_paid=data.draw(st.integers(0, 500)),
        interest_earned=data.draw(st.integers(0, 500_000)),
        fee_earned=data.draw(st.integers(0, 500_000)))
    unpaid = {Component.FEE: row.unpaid_fee, Component.INTEREST: row.unpaid_interest,
              Component.PRINCIPAL: row.unpaid_principal}
    allocation = {component: owed if settle else data.draw(st.integers(0, owed))
                  for component, owed in unpaid.items()}
    allocation[Component.PENALTY] = data.draw(st.integers(0, 1_000))
    allocation[Component.COMPOUND] = data.draw(st.integers(0, 1_000))
    allocation = {c: v for c, v in allocation.items() if v or data.draw(st.booleans())}
    paid_on = DUE + timedelta(days=late)
    product = build_product(grace_days=grace_days)
    found = paid_towards(row, allocation, product, paid_on)
    assert found == _by_replace(row, allocation, grace_days, paid_on)


def test_it_names_every_field() -> None:
    """A field `paid_towards` leaves out takes its default: an installment with no default
    left anywhere tells."""
    values = {f.name: index + 1 for index, f in enumerate(fields(InstallmentState))
              if f.name != "due_date"}
    row = InstallmentState(**values, due_date=DUE)
    assert paid_towards(row, {}, build_product(grace_days=0), DUE + timedelta(days=30)) == row
