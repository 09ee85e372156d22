"""`price_same_day` is the domain: on random loans (overdue with penalty and compound, partly
paid, prepaid, fresh ones end-of-day has not touched, under `hold` and `prepay`, any waterfall)
and several payments of one day, each more or less than owed, it either declines or gives
exactly what `payments.price` posts one payment after another — and it declines only where the
domain keeps money as credit or prepays, or the loan holds credit already."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import event, given, settings
from hypothesis import strategies as st

from arrears.application.handlers.payments import price
from arrears.application.handlers.same_day_payments import LoanSnapshot, price_same_day
from arrears.application.ports import BookedLoan
from arrears.domain.delinquency import LoanStatus
from arrears.domain.loan import InstallmentState, LoanState, Payment, advance, initial_state
from arrears.domain.product import DEFAULT_WATERFALL, EarlyPayment, Method

from builders import loan as build_loan

DISBURSED = date(2026, 1, 15)
AT = datetime(2026, 6, 1, 12, tzinfo=UTC)
AMOUNTS = ("principal", "interest", "fee", "paid_principal", "paid_interest", "paid_fee",
           "penalty_accrued", "penalty_paid", "compound_accrued", "compound_paid",
           "interest_earned", "fee_earned")


def _live(row: InstallmentState) -> bool:
    return not row.is_paid or row.penalty_accrued != row.penalty_paid * 10_000 \
        or row.compound_accrued != row.compound_paid * 10_000


def _snapshot(booked: BookedLoan, open_day: date) -> LoanSnapshot:
    """What the store reads for the loan (see `payment_import_store.LIVE_ROWS`)."""
    state = booked.state
    rows = state.installments
    return LoanSnapshot(
        id=booked.id, loan_ref=booked.loan.loan_id, currency="CNY", product_code="P",
        disbursed_on=booked.loan.disbursed_on, state_on=state.as_of, bucket=booked.bucket,
        delinquent_since=state.delinquent_since, holds_plan=False, written_off=False,
        paused=False, plan_amounts=False, unapplied=state.unapplied,
        offer_received=state.offer_received, first_due=min(r.due_date for r in rows),
        next_unpaid_due=min((r.due_date for r in rows if r.due_date > open_day
                             and not r.is_paid), default=None),
        rows=[[r.number, r.due_date, *(getattr(r, name) for name in AMOUNTS)]
              for r in rows if r.due_date <= open_day and _live(r)])


loans = st.fixed_dictionaries({
    "principal": st.integers(10_000, 5_000_000),
    "terms": st.integers(1, 12),
    "method": st.sampled_from([Method.EQUAL_INSTALLMENT, Method.EQUAL_PRINCIPAL,
                               Method.FLAT_FEE, Method.INTEREST_ONLY]),
    "early_payment": st.sampled_from(list(EarlyPayment)),
    "grace_days": st.integers(0, 5),
    "compound": st.booleans(),
    "waterfall": st.sampled_from(list(itertools.permutations(DEFAULT_WATERFALL))),
})


@settings(max_examples=300, deadline=None)
@given(terms=loans, history=st.lists(st.tuples(st.integers(1, 200), st.integers(1, 400_000)),
                                     max_size=4),
       stored_days=st.sampled_from([0, 0, 0, 3, 40]), due_number=st.integers(0, 12),
       open_offset=st.integers(-5, 40), diligent=st.booleans(),
       fractions=st.lists(st.integers(1, 130), min_size=1, max_size=4))
def test_it_posts_what_the_domain_posts_or_declines(terms, history, stored_days, due_number,
                                                    open_offset, diligent, fractions) -> None:
    overrides = dict(terms)
    principal, count = overrides.pop("principal"), overrides.pop("terms")
    if overrides["method"] is Method.FLAT_FEE:
        overrides.update(annual_rate=Decimal(0), monthly_fee_rate=Decimal("0.005"))
    loan = build_loan(principal=principal, terms=count, disbursed_on=DISBURSED, **overrides)
    schedule = initial_state(loan).installments
    # Near a due date (or the disbursement): a borrower pays when something falls due.
    near = DISBURSED if due_number == 0 else schedule[min(due_number, count) - 1].due_date
    open_day = max(DISBURSED + timedelta(days=1), near + timedelta(days=open_offset))
    closed = open_day - timedelta(days=1)
    # Stored at the closed date, or earlier: a loan end-of-day had nothing to do for.
    stored_on = max(DISBURSED, closed - timedelta(days=stored_days))
    past = [Payment(key=f"h{i}", on=DISBURSED + timedelta(days=day), amount=amount)
            for i, (day, amount) in enumerate(history)
            if DISBURSED + timedelta(days=day) <= stored_on]
    if diligent:  # every installment paid on its due date
        past += [Payment(key=f"d{r.number}", on=r.due_date,
                         amount=r.principal + r.interest + r.fee)
                 for r in schedule if r.due_date <= stored_on]
    state, _ = advance(loan, initial_state(loan), past, stored_on)
    booked = BookedLoan(id=7, borrower_id=1, product_code="P", loan=loan, state=state,
                        status=LoanStatus.CURRENT, dpd=0, bucket=_bucket(loan, state))
    first = booked
    due = sum(r.unpaid_principal + r.unpaid_interest + r.unpaid_fee
              for r in state.installments if r.due_date <= open_day) or 10_000
    payments = [(f"k{i}", max(1, due * f // 100 // len(fractions)))
                for i, f in enumerate(fractions)]

    postings = []
    for key, amount in payments:
        posting = price(booked, Payment(key=key, on=open_day, amount=amount), open_day,
                        list, AT)
        postings.append(posting)
        update = posting.moved.update
        booked = BookedLoan(id=7, borrower_id=1, product_code="P", loan=loan,
                            state=posting.state, status=update.status, dpd=update.dpd,
                            bucket=update.bucket)

    found = price_same_day(_snapshot(first, open_day), loan.product, payments, open_day)
    # Money beyond what is due by the open day: kept as credit, or prepaid.
    beyond_due = any(p.applied.to_credit for p in postings) \
        or postings[-1].state.prepaid_principal != state.prepaid_principal
    caught_up_over_due = stored_on < closed and min(
        r.due_date for r in state.installments) <= closed
    event("declined" if found is None else "priced")
    if found is None:
        assert beyond_due or state.unapplied or caught_up_over_due
        return
    assert not beyond_due
    event("overdue" if found.dpd or first.dpd or _overdue(first) else "not overdue")
    for posting, mine in zip(postings, found.postings, strict=True):
        update = posting.moved.update
        assert mine.applied == posting.applied
        assert mine.postings == update.postings
        assert (mine.bucket, mine.dpd) == (update.bucket, update.dpd)
        assert mine.bucket_before == update.booked.bucket
    last = postings[-1]
    final = {r.number: r for r in last.state.installments}
    before = {r.number: r for r in state.installments}
    changed = {row[0]: row for row in found.changed}
    for number, row in final.items():
        expected = [row.number, row.due_date, *(getattr(row, name) for name in AMOUNTS)]
        if number in changed:
            assert changed[number] == expected
        else:
            assert row == before[number]
    unpaid = [r.due_date for r in last.state.installments if not r.is_paid]
    assert found.earliest_unpaid_due_on == (min(unpaid) if unpaid else None)
    assert (found.status, found.dpd, found.bucket) == (
        last.moved.update.status, last.moved.update.dpd, last.moved.update.bucket)
    assert found.delinquent_since == last.state.delinquent_since


def _overdue(booked: BookedLoan) -> bool:
    return any(r.penalty_accrued for r in booked.state.installments)


def _bucket(loan, state: LoanState):
    from arrears.domain.loan import summarize

    return summarize(loan, state).bucket
