"""A hypothesis strategy for books of random loans around one window of business dates,
shared by the parity tests."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

from hypothesis import strategies as st

from arrears.domain.delinquency import Bucket
from arrears.domain.loan import Loan, LoanState, Payment, advance, initial_state, summarize
from arrears.domain.product import DEFAULT_WATERFALL, EarlyPayment, Rounding

from strategies import histories

ONE_DAY = timedelta(days=1)


@dataclass
class Account:
    key: int
    loan: Loan
    payments: tuple[Payment, ...]
    state: LoanState          # end of the previous day, by the scalar path
    kernel_state: LoanState   # end of the previous day, by the kernel path
    prev_bucket: Bucket


@st.composite
def books(draw: st.DrawFn, max_loans: int = 30, min_loans: int = 1, hold: bool = False
          ) -> tuple[date, int, list[Account]]:
    """A window (first day, length) and loans placed so that the window falls anywhere from
    disbursement to long after maturity (M7+ and write-off included). `hold` also draws
    products that hold early money as credit, and payments made a few days ahead of due dates
    of a scheduled installment's amount, or a little less or more, or twice it."""
    start = draw(st.dates(date(2024, 6, 1), date(2027, 12, 31)))
    days = draw(st.integers(1, 25))
    accounts = []
    for key in range(draw(st.integers(min_loans, max_loans))):
        loan, payments = draw(histories(max_payments=3 if hold else 8, hold=hold))
        offset = draw(st.integers(0, 30 * loan.terms + 260))
        shift = (start - timedelta(days=offset)) - loan.disbursed_on
        if hold:
            loan = replace(loan, product=replace(
                loan.product, early_payment=draw(st.sampled_from(
                    [EarlyPayment.HOLD] * 3 + [EarlyPayment.PREPAY])),
                waterfall=draw(st.one_of(st.just(DEFAULT_WATERFALL),
                                         st.permutations(DEFAULT_WATERFALL).map(tuple)))))
            if draw(st.integers(0, 3)):  # an installment falls due in the window
                row = draw(st.sampled_from(initial_state(loan).installments))
                shift = start + timedelta(days=draw(st.integers(0, days - 1))) - row.due_date
        payments = tuple(replace(p, on=p.on + shift) for p in payments)
        payments += tuple(  # payments inside the window, small to settling-everything
            Payment(key=f"w{i}", on=start + timedelta(days=draw(st.integers(0, days - 1))),
                    amount=draw(st.integers(1, max(1, loan.principal // 2))))
            for i in range(draw(st.integers(0, 3))))
        if hold:
            payments += _early_payments(draw, loan, shift, start, days)
        written_off = draw(st.one_of(
            st.none(), st.integers(-40, days + 5).map(lambda k: start + timedelta(days=k))))
        loan = replace(loan, loan_id=f"L-{key}", disbursed_on=loan.disbursed_on + shift,
                       written_off_on=written_off)
        if draw(st.booleans()):  # exercise the other rounding modes too
            product = replace(loan.product,
                              rounding=draw(st.sampled_from(list(Rounding))),
                              reminders=replace(loan.product.reminders, days=tuple(sorted(
                                  draw(st.sets(st.integers(-7, 10), max_size=5))))))
            loan = replace(loan, product=product)
        before = [p for p in payments if p.on < start]
        state, _ = advance(loan, initial_state(loan), before, start - ONE_DAY)
        accounts.append(Account(key=key * 7 + 3, loan=loan, payments=payments, state=state,
                                kernel_state=state,
                                prev_bucket=summarize(loan, state).bucket))
    return start, days, accounts


def _early_payments(draw: st.DrawFn, loan: Loan, shift: timedelta, start: date, days: int
                    ) -> tuple[Payment, ...]:
    """Payments ahead of due dates inside (or just before) the window: a scheduled
    installment's amount, a little less or more, or twice it."""
    rows = [row for row in initial_state(loan).installments
            if start - timedelta(days=5) <= row.due_date + shift <= start + timedelta(days=days)]
    out = []
    for i, row in enumerate(draw(st.lists(st.sampled_from(rows), max_size=3)) if rows else []):
        amount = row.principal + row.interest + row.fee
        amount = draw(st.sampled_from([amount, amount - 1, amount + 1, amount * 2,
                                       max(1, amount // 2)]))
        on = row.due_date + shift - timedelta(days=draw(st.integers(0, 4)))
        out.append(Payment(key=f"e{i}", on=on, amount=max(1, amount)))
    return tuple(out)


def payments_without_accrual(loan: Loan, state: LoanState, todays: list[Payment], day: date
                              ) -> LoanState:
    """The state after the payments dated `day`, before the day's accrual, via the scalar path
    (a write-off date of day − 1 stops `advance` from accruing `day`)."""
    cut = day - ONE_DAY if loan.written_off_on is None else min(loan.written_off_on, day - ONE_DAY)
    return advance(replace(loan, written_off_on=cut), state, todays, day)[0]
