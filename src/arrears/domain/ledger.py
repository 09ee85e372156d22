"""The double-entry ledger of a loan, derived from its state.

Every state change — boarding, a payment, a reversal, a day of end-of-day, a write-off — posts
the difference between the balances the old and the new state imply. Balances recognise:
principal from disbursement; contract interest and fees once their installment is due;
penalty and compound once chargeable (after the grace window, rounded); payments received;
the borrower's unapplied credit; what a plan forgave (a concession, an expense) or moved into
principal (capitalised: a receivable changing account, no cash). So the receivable accounts
always equal what the loan state says is owed, and the postings of every entry sum to zero.

Amounts are signed minor units: debit positive, credit negative.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from arrears.domain.loan import Loan, LoanState, chargeable
from arrears.domain.plans import NOTHING, ByComponent
from arrears.domain.product import Component, Product


class Account(StrEnum):
    CASH = "cash"
    PRINCIPAL = "principal"
    INTEREST = "interest"
    FEE = "fee"
    PENALTY = "penalty"
    COMPOUND = "compound"
    CREDIT = "borrower_credit"  # a liability: money received beyond what is owed
    INTEREST_INCOME = "interest_income"
    FEE_INCOME = "fee_income"
    PENALTY_INCOME = "penalty_income"
    COMPOUND_INCOME = "compound_income"
    WRITE_OFF = "write_off_expense"
    CONCESSION = "concession_expense"  # amounts a hardship plan forgave
    RECOVERY = "recovery_income"


RECEIVABLES = (Account.PRINCIPAL, Account.INTEREST, Account.FEE, Account.PENALTY,
               Account.COMPOUND)
INCOME_OF = {
    Account.INTEREST: Account.INTEREST_INCOME,
    Account.FEE: Account.FEE_INCOME,
    Account.PENALTY: Account.PENALTY_INCOME,
    Account.COMPOUND: Account.COMPOUND_INCOME,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Position:
    """What a state implies: recognised receivables, cumulative receipts per component, and
    the borrower's credit. After a write-off the receivables are off the books."""

    receivable: dict[Account, int]
    received: dict[Account, int]
    credit: int
    written_off: bool
    waived: dict[Account, int] = field(default_factory=dict)
    capitalised: dict[Account, int] = field(default_factory=dict)

    def booked(self, account: Account) -> int:
        """The receivable as the ledger carries it (nothing once written off)."""
        return 0 if self.written_off else self.receivable[account]


def position(loan: Loan, state: LoanState) -> Position:
    """The ledger position of `state` (the end of `state.as_of`)."""
    return position_of(state, loan.product, written_off=loan.written_off_on is not None
                       and loan.written_off_on <= state.as_of)


def position_of(state: LoanState, product: Product, *, written_off: bool) -> Position:
    """`position` of a state under `product`. A position is a sum over installments, so the
    difference of two states that differ in a few installments is the difference of those
    installments' positions (what a same-day payment posts)."""
    # Sums in locals rather than per-row dict updates and properties: every payment and
    # every end-of-day of a loan takes two positions.
    as_of = state.as_of
    next_day = date.fromordinal(as_of.toordinal() + 1)
    unpaid_principal = paid_principal = paid_interest = paid_fee = 0
    penalty_paid = compound_paid = interest_due = fee_due = penalty_due = compound_due = 0
    for row in state.installments:
        unpaid_principal += row.principal - row.paid_principal
        paid_principal += row.paid_principal
        paid_interest += row.paid_interest
        paid_fee += row.paid_fee
        penalty_paid += row.penalty_paid
        compound_paid += row.compound_paid
        if row.due_date <= as_of:
            interest_due += row.interest - row.paid_interest
            fee_due += row.fee - row.paid_fee
            penalty, compound = chargeable(row, product, next_day)
            penalty_due += penalty
            compound_due += compound
    receivable = {Account.PRINCIPAL: unpaid_principal, Account.INTEREST: interest_due,
                  Account.FEE: fee_due, Account.PENALTY: penalty_due,
                  Account.COMPOUND: compound_due}
    received = {Account.PRINCIPAL: state.prepaid_principal + paid_principal,
                Account.INTEREST: paid_interest, Account.FEE: paid_fee,
                Account.PENALTY: penalty_paid, Account.COMPOUND: compound_paid}
    return Position(receivable=receivable, received=received, credit=state.unapplied,
                    written_off=written_off, waived=_by_account(state.waived),
                    capitalised=_by_account(state.capitalised))


_ACCOUNT_OF = {component: Account(component.value) for component in Component}


def _by_account(amounts: ByComponent) -> dict[Account, int]:
    """The non-zero amounts of a plan's `ByComponent`, by receivable account."""
    if amounts is NOTHING or amounts == NOTHING:  # most states share the one NOTHING
        return {}
    return {_ACCOUNT_OF[component]: value for component, value in amounts.items() if value}


def opening_position() -> Position:
    """Before disbursement: nothing owed, nothing received."""
    zero = dict.fromkeys(RECEIVABLES, 0)
    return Position(receivable=zero, received=dict(zero), credit=0, written_off=False)


def postings(before: Position, after: Position) -> tuple[tuple[Account, int], ...]:
    """The balanced postings that move the ledger from `before` to `after`.

    Receipts debit cash and the borrower's credit takes any excess. On the books, each
    receivable moves by its difference, and what it gained beyond what was received for it
    is income (interest, fees, penalty, compound) or, for principal, money lent out of cash.
    A write-off expenses the receivables still booked; anything received for a written-off
    loan is a recovery.
    """
    amounts: dict[Account, int] = {}

    def add(account: Account, amount: int) -> None:
        if amount:
            amounts[account] = amounts.get(account, 0) + amount

    received = {a: after.received[a] - before.received[a] for a in RECEIVABLES}
    credit_change = after.credit - before.credit
    add(Account.CASH, sum(received.values()) + credit_change)
    add(Account.CREDIT, -credit_change)
    if before.written_off:
        add(Account.RECOVERY, -sum(received.values()))
    else:
        waived = {a: after.waived.get(a, 0) - before.waived.get(a, 0) for a in RECEIVABLES}
        moved = {a: after.capitalised.get(a, 0) - before.capitalised.get(a, 0)
                 for a in RECEIVABLES}
        for account in RECEIVABLES:
            change = after.receivable[account] - before.receivable[account]
            add(account, change)
            # A receivable forgiven is a concession, one moved into principal is neither
            # income lost nor money lent: only the rest of a change is income or cash.
            gained = change + received[account] + waived[account] + moved[account]
            if account is Account.PRINCIPAL:
                gained -= sum(moved.values())
            add(INCOME_OF.get(account, Account.CASH), -gained)
        add(Account.CONCESSION, sum(waived.values()))
        if after.written_off:
            for account in RECEIVABLES:
                add(account, -after.receivable[account])
            add(Account.WRITE_OFF, sum(after.receivable.values()))
    return tuple(sorted((a, v) for a, v in amounts.items() if v))


def same_day_payment_postings(paid: Mapping[Component, int], newly_due: Mapping[Component, int],
                              credit: int = 0) -> tuple[tuple[Account, int], ...]:
    """What `postings` gives for a payment dated d applied to the installments due by d of a
    loan on the books, its positions taken at the end of d − 1, when nothing else moves (no
    credit held before, no plan amounts, no catch-up): `paid` is what the payment put to each
    component, `newly_due` the part of that put to installments falling due on d itself, and
    `credit` what it left as the borrower's credit (cash received, owed back as a liability).

    Closed form because a file of payments takes two positions a row otherwise. Each component
    paid reduces its receivable, except on an installment due on d: not yet receivable at the
    end of d − 1, its interest, fee and charges are recognised and paid at once, so income.
    Principal is receivable from disbursement, and a penalty or compound paid is what it
    reduced (`chargeable` before and after differ by the payment: an installment closed in its
    grace window owed no charges either side)."""
    amounts = {Account.CASH: sum(paid.values()) + credit, Account.CREDIT: -credit}
    for component, value in paid.items():
        if not value:
            continue
        account = _ACCOUNT_OF[component]
        fresh = 0 if account is Account.PRINCIPAL else newly_due.get(component, 0)
        amounts[account] = fresh - value
        if fresh:
            amounts[INCOME_OF[account]] = -fresh
    return tuple(sorted((a, v) for a, v in amounts.items() if v))


def disbursement_postings(upfront_fee: int) -> tuple[tuple[Account, int], ...]:
    """The part of boarding a position cannot show: a fee kept out of the money paid out."""
    if upfront_fee == 0:
        return ()
    return ((Account.CASH, upfront_fee), (Account.FEE_INCOME, -upfront_fee))
