"""What a borrower owes on one loan today, made up in parts that add up to `total_due`, and
whether there is anything to pay: the figures the portal shows and its Pay form checks
against, read once from the loan's state at the closed business date.

An installment that falls due on the closed date is in `total_due` but not yet in the
`overdue_*` amounts (DESIGN §9 "reading the figures"): it is its own part, `due_today`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from arrears.application.handlers.eod import current_state
from arrears.application.ports import UnitOfWork
from arrears.domain.errors import DomainError
from arrears.domain.loan import summarize

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class OwedToday:
    """Minor units at the end of `as_of`; `overdue_*` + `due_today` + `penalty_interest` +
    `compound_interest` is `total_due`."""

    loan_id: str
    currency: str
    status: str
    as_of: date
    dpd: int
    overdue_principal: int
    overdue_interest: int
    overdue_fee: int
    due_today: int
    """Principal, interest and fees of the installments falling due on `as_of`."""
    penalty_interest: int
    compound_interest: int
    total_due: int
    payoff_amount: int
    """What settles the loan by a payment dated `pay_on` (the payoff quote)."""

    @property
    def pay_on(self) -> date:
        """The open business date: a payment made now is dated it."""
        return self.as_of + ONE_DAY

    @property
    def payable(self) -> bool:
        """Whether anything is left to pay: a settled loan takes no payment."""
        return self.payoff_amount > 0


def owed_today(loan_ref: str, *, uow_factory: Callable[[], UnitOfWork]) -> OwedToday:
    """The loan's figures at the closed business date (those of `arrears loan status`)."""
    with uow_factory() as uow:
        booked = uow.book.get(loan_ref)
        if booked is None:
            raise DomainError("loan_id", f"no loan {loan_ref!r}")
        closed = uow.book.closed_through()
    state = booked.state if closed is None else current_state(booked, closed)
    summary = summarize(booked.loan, state)
    return OwedToday(
        loan_id=loan_ref, currency=booked.loan.currency, status=summary.status.value,
        as_of=summary.as_of, dpd=summary.dpd, overdue_principal=summary.overdue_principal,
        overdue_interest=summary.overdue_interest, overdue_fee=summary.overdue_fee,
        due_today=summary.due_today,
        penalty_interest=summary.penalty_interest,
        compound_interest=summary.compound_interest, total_due=summary.total_due,
        payoff_amount=summary.payoff_amount)
