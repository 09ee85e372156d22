"""Edges found by review: a prepayment after a plan moved a part-paid installment into the
future must neither lose principal nor leave a negative amount owed (DESIGN §9).

The loan is the shared one (tests/builders.py): 10,000.00 at 18 % over 12 months from
2026-01-15. 200.00 paid on 2026-02-20 clears installment 1's charges and interest (150.00) and
47.56 of its principal; a deferral of two months on 2026-03-01 moves it, part-paid, to
2026-04-15; a prepayment of 5,000.00 on 2026-03-05 then re-prices the future installments.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from arrears.domain.loan import Loan, LoanState, Payment, state_on
from arrears.domain.plans import Plan, PlanKind
from arrears.domain.product import Prepayment

from builders import loan as make_loan

DEFERRAL = Plan(plan_id="D", kind=PlanKind.DEFERRAL, effective_on=date(2026, 3, 1), months=2)
PAYMENTS = (Payment(key="part", on=date(2026, 2, 20), amount=20_000),
            Payment(key="prepay", on=date(2026, 3, 5), amount=500_000, prepayment=True))


def _state(prepayment: Prepayment) -> tuple[Loan, LoanState]:
    loan = replace(make_loan(prepayment=prepayment), plans=(DEFERRAL,))
    return loan, state_on(loan, PAYMENTS, date(2026, 3, 5))


@pytest.mark.parametrize("prepayment", list(Prepayment))
def test_a_prepayment_after_a_deferral_keeps_every_unit_of_principal(prepayment):
    loan, state = _state(prepayment)
    scheduled = sum(row.principal for row in state.installments) + state.prepaid_principal
    assert scheduled == loan.principal
    assert sum(row.unpaid_principal for row in state.installments) == 1_000_000 - 4_756 - 500_000


@pytest.mark.parametrize("prepayment", list(Prepayment))
def test_a_prepayment_after_a_deferral_never_makes_an_amount_owed_negative(prepayment):
    _, state = _state(prepayment)
    for row in state.installments:
        assert min(row.unpaid_principal, row.unpaid_interest, row.unpaid_fee) >= 0, row


def test_a_reamortising_prepayment_keeps_the_charges_a_deferral_carried():
    # The deferral turned the penalty accrued on installment 1's 719.24 left from 2026-02-20
    # to 02-28 (9 × 719.24 × 24 % ÷ 360 = 4.32; its interest was paid, so no compound) into
    # a fixed charge, its fee.
    _, kept = _state(Prepayment.LAST_FIRST)
    _, state = _state(Prepayment.REAMORTIZE)
    assert state.installments[0].fee == kept.installments[0].fee == 432

