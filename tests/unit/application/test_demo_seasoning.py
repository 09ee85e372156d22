"""The seasoned demo book: its plan is the seed's, and a loan's history in closed form
(`seasoning.history`) is the one the domain's own steps give (`demo_history.replay`)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.application import demo, demo_history, seasoning
from arrears.application.loan_file import parse_product
from arrears.application.loan_import import LoanRow
from arrears.domain.loan import Loan
from arrears.domain.schedule import due_dates

from shipped import default_products

START = date(2026, 1, 1)
THROUGH = START - timedelta(days=1)
AT = datetime(2026, 1, 1, tzinfo=UTC)
PRODUCTS = {code: parse_product(definition) for code, definition in default_products().items()}


def _loan(row: LoanRow) -> Loan:
    return Loan(loan_id=row.loan_ref, currency=row.currency, principal=row.principal,
                disbursed_on=row.disbursed_on, terms=row.terms,
                product=PRODUCTS[row.product_code])


def _history(plan: demo.PlannedLoan) -> demo_history.History:
    return seasoning.history(_loan(plan.row), plan.payments(), THROUGH, demo.WRITE_OFF_DPD, AT)


def test_same_seed_same_seasoned_plan():
    planned = demo.plan_book(200, 120, START, 5, season_months=18)
    assert demo.plan_book(200, 120, START, 5, season_months=18) == planned
    assert demo.plan_book(200, 120, START, 6, season_months=18) != planned
    seasoned = [p for p in planned if p.row.disbursed_on < START]
    assert len(seasoned) > 150  # most of the book is in the 18 monthly vintages
    assert min(p.row.disbursed_on for p in seasoned) >= date(2024, 7, 1)
    # The loans' borrowers and terms are those of the unseasoned book of the seed.
    young = demo.plan_book(200, 120, START, 5)
    assert [(p.row.borrower, p.row.principal, p.behaviour) for p in planned] == \
        [(p.row.borrower, p.row.principal, p.behaviour) for p in young]
    # And so are their histories, down to the last event.
    again = demo.plan_book(200, 120, START, 5, season_months=18)[:40]
    assert [_history(p) for p in again if p.row.disbursed_on < START] == \
        [_history(p) for p in planned[:40] if p.row.disbursed_on < START]


def test_the_demo_books_histories_in_closed_form_are_the_replayed_ones():
    planned = [p for seed in (1, 2) for p in demo.plan_book(120, 120, START, seed, 18)
               if p.row.disbursed_on < START]
    for plan in planned:
        loan = _loan(plan.row)
        assert seasoning.history(loan, plan.payments(), THROUGH, demo.WRITE_OFF_DPD, AT) == \
            demo_history.replay(loan, plan.payments(), THROUGH, demo.WRITE_OFF_DPD, AT), \
            plan.row.loan_ref


DELAYS = st.one_of(st.integers(-5, 3), st.integers(4, 70), st.none())
"""Days after an installment's due date its borrower pays what is due (None: never again);
some pay twice ahead of a due date."""


@settings(max_examples=60, deadline=None)
@given(product=st.sampled_from(sorted(PRODUCTS)), principal=st.integers(50_000, 3_000_000),
       terms=st.sampled_from((2, 5, 6, 12, 24)),
       disbursed=st.dates(date(2024, 5, 1), date(2025, 12, 20)),
       delays=st.lists(DELAYS, min_size=1, max_size=24),
       extra=st.lists(st.tuples(st.integers(1, 600), st.sampled_from(
           (demo_history.DUE, demo_history.PAYOFF, demo_history.RECOVERY)),
           st.integers(1, 100)), max_size=3),
       write_off_dpd=st.sampled_from((45, 90, 270)))
def test_any_history_in_closed_form_is_the_replayed_one(product, principal, terms, disbursed,
                                                        delays, extra, write_off_dpd):
    loan = Loan(loan_id="L-1", currency="CNY", principal=principal, disbursed_on=disbursed,
                terms=terms, product=PRODUCTS[product])
    plan = []
    for due, delay in zip(due_dates(disbursed, terms), delays, strict=False):
        if delay is None:
            break
        plan.append((max(due + timedelta(days=delay), disbursed + timedelta(days=1)),
                     demo_history.DUE, 0))
    plan += [(disbursed + timedelta(days=after), kind, percent)
             for after, kind, percent in extra]
    payments = [demo_history.Planned(day=day, kind=kind, key=f"k-{n}", percent=percent)
                for n, (day, kind, percent) in enumerate(sorted(plan, key=lambda p: p[0]))]
    assert seasoning.history(loan, payments, THROUGH, write_off_dpd, AT) == \
        demo_history.replay(loan, payments, THROUGH, write_off_dpd, AT)
