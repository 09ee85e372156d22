"""`price_same_day` is the domain: on random loans (overdue with penalty and compound, partly
paid, fresh ones end-of-day has not touched, on-time payers end-of-day passed over, under any
method, rounding, day count, interest basis, penalty cap, `hold` and `prepay`, any waterfall,
and the shipped WLD-DAILY product) and several payments of one day — the amount owed through
the day or the payoff, one minor unit either side, split at installment boundaries or
anywhere — it either declines or gives exactly what `payments.price` posts one payment after
another, and it declines only where the domain prepays, keeps credit beyond one payment, the loan
holds credit already, or something fell due unpaid since its stored date; paying the next
installment early, or part of it, it prices as the credit the domain holds."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import event, given, settings
from hypothesis import strategies as st

from arrears.application.handlers.payments import price
from arrears.application.handlers.same_day_payments import (
    LoanPosted,
    LoanSnapshot,
    price_same_day,
)
from arrears.application.loan_file import parse_product
from arrears.application.ports import BookedLoan
from arrears.domain.delinquency import LoanStatus
from arrears.domain.loan import (
    InstallmentState,
    Loan,
    LoanState,
    Payment,
    advance,
    initial_state,
    owed_on,
    summarize,
)
from arrears.domain.product import (
    DEFAULT_WATERFALL,
    DayCount,
    EarlyPayment,
    InterestBasis,
    Method,
    Product,
    Rounding,
)

from builders import loan as build_loan
from builders import product as build_product
from shipped import default_products
from strategies import GRACE_DAYS

DISBURSED = date(2026, 1, 15)
AT = datetime(2026, 6, 1, 12, tzinfo=UTC)
SHIPPED = parse_product(default_products()["WLD-DAILY"])


def _live(row: InstallmentState) -> bool:
    return not row.is_paid or row.penalty_accrued != row.penalty_paid * 10_000 \
        or row.compound_accrued != row.compound_paid * 10_000


def _snapshot(booked: BookedLoan, open_day: date) -> LoanSnapshot:
    """What the store reads for the loan (see `payment_import_store.LIVE`)."""
    state = booked.state
    rows = state.installments
    ahead = [r for r in rows if r.due_date > open_day]
    return LoanSnapshot(
        id=booked.id, loan_ref=booked.loan.loan_id, currency="CNY", product_code="P",
        disbursed_on=booked.loan.disbursed_on, state_on=state.as_of, bucket=booked.bucket,
        delinquent_since=state.delinquent_since, holds_plan=False, written_off=False,
        paused=False, plan_amounts=False, unapplied=state.unapplied,
        offer_received=state.offer_received,
        next_unpaid_due=min((r.due_date for r in rows if r.due_date > open_day
                             and not r.is_paid), default=None),
        ahead_owed=ahead[0].unpaid_principal + ahead[0].unpaid_interest + ahead[0].unpaid_fee
        if ahead else 0, ahead_principal=sum(r.unpaid_principal for r in ahead),
        rows=[r for r in rows if r.due_date <= open_day and _live(r)])


def _product(**fields: object) -> Product:
    if fields["method"] is Method.FLAT_FEE:  # a monthly fee instead of interest
        fields.update(annual_rate=Decimal(0), monthly_fee_rate=Decimal("0.005"))
    return build_product(**fields)


products = st.one_of(st.just(SHIPPED), st.builds(
    _product,
    method=st.sampled_from([Method.EQUAL_INSTALLMENT, Method.EQUAL_PRINCIPAL,
                            Method.FLAT_FEE, Method.INTEREST_ONLY, Method.BULLET]),
    interest_basis=st.sampled_from(list(InterestBasis)),
    day_count=st.sampled_from(list(DayCount)),
    rounding=st.sampled_from(list(Rounding)),
    penalty_rate_cap=st.sampled_from([None, Decimal("0.2"), Decimal("0.234")]),
    early_payment=st.sampled_from(list(EarlyPayment)),
    grace_days=GRACE_DAYS,
    compound=st.booleans(),
    waterfall=st.sampled_from(list(itertools.permutations(DEFAULT_WATERFALL)))))


def _loan(product: Product, principal: int, terms: int) -> Loan:
    base = build_loan(principal=principal, terms=terms, disbursed_on=DISBURSED)
    return Loan(loan_id=base.loan_id, currency=base.currency, principal=principal,
                disbursed_on=DISBURSED, terms=terms, product=product)


def _booked(loan: Loan, state: LoanState) -> BookedLoan:
    summary = summarize(loan, state)
    return BookedLoan(id=7, borrower_id=1, product_code="P", loan=loan, state=state,
                      status=summary.status, dpd=summary.dpd, bucket=summary.bucket)


def _priced_as_the_domain_prices(loan: Loan, state: LoanState, open_day: date,
                                 payments: list[tuple[str, int]]) -> LoanPosted | None:
    """`price_same_day` on the loan stored as `state`, checked against `payments.price`
    posting the payments one after another; what it priced (None if it declined)."""
    closed = open_day - timedelta(days=1)
    booked = first = _booked(loan, state)
    postings = []
    for key, amount in payments:
        posting = price(booked, Payment(key=key, on=open_day, amount=amount), open_day,
                        list, AT)
        postings.append(posting)
        update = posting.moved.update
        booked = BookedLoan(id=7, borrower_id=1, product_code="P", loan=loan,
                            state=posting.state, status=update.status, dpd=update.dpd,
                            bucket=update.bucket)
    snapshot = _snapshot(first, open_day)
    found = price_same_day(snapshot, loan.product, payments, open_day)
    prepaid = postings[-1].state.prepaid_principal != state.prepaid_principal
    credit = [p.applied.to_credit for p in postings]
    # Money beyond what is due by the open day the last payment leaves as credit, when the
    # next installment asks at least as much and the loan is not paid off.
    held_by_last = not any(credit[:-1]) and credit[-1] > 0 and not prepaid
    # End-of-day passed over a loan something fell due on unpaid: the domain catches it up.
    caught_up_over_due = state.as_of < closed and any(
        r.due_date <= closed and not r.is_paid for r in state.installments)
    if found is None:
        # Credit at the payoff's edge: as much as the principal not yet due, short of the
        # interest accrued on it, is below the payoff and held, but not priced here.
        at_payoff = held_by_last and credit[-1] >= snapshot.ahead_principal
        assert (prepaid or (any(credit) and not held_by_last) or at_payoff
                or state.unapplied or caught_up_over_due)
        return None
    assert not prepaid
    assert found.unapplied == postings[-1].state.unapplied
    for posting, mine in zip(postings, found.postings, strict=True):
        update = posting.moved.update
        assert mine.applied == posting.applied
        assert mine.postings == update.postings
        assert (mine.bucket, mine.dpd) == (update.bucket, update.dpd)
        assert mine.bucket_before == update.booked.bucket
    last = postings[-1]
    before = {r.number: r for r in state.installments}
    changed = {row.number: row for row in found.changed}
    for row in last.state.installments:
        assert changed.get(row.number, before[row.number]) == row
    unpaid = [r.due_date for r in last.state.installments if not r.is_paid]
    assert found.earliest_unpaid_due_on == (min(unpaid) if unpaid else None)
    assert (found.status, found.dpd, found.bucket) == (
        last.moved.update.status, last.moved.update.dpd, last.moved.update.bucket)
    assert found.delinquent_since == last.state.delinquent_since
    if found.status is LoanStatus.SETTLED:
        assert summarize(loan, last.state).payoff_amount == 0
    return found


def _split(total: int, cuts: list[int]) -> list[int]:
    """`total` in parts ending at the (sorted, distinct) cut points below it."""
    points = sorted({cut for cut in cuts if 0 < cut < total})
    return [end - start for start, end in itertools.pairwise([0, *points, total])]


@settings(max_examples=300, deadline=None)
@given(product=products, principal=st.integers(10_000, 5_000_000), count=st.integers(1, 12),
       history=st.one_of(st.just([]), st.lists(
           st.tuples(st.integers(1, 200), st.integers(1, 100_000)), max_size=3)),
       stored_days=st.sampled_from([0, 0, 0, 3, 31, 40]), due_number=st.integers(0, 12),
       open_offset=st.one_of(st.just(0), st.integers(0, 8), st.integers(-5, 40)),
       diligent=st.booleans(),
       target=st.sampled_from(["due", "due", "payoff", "part", "ahead"]),
       nudge=st.sampled_from([-1, 0, 0, 1]),
       at_boundaries=st.booleans(), data=st.data())
def test_it_posts_what_the_domain_posts_or_declines(
        product, principal, count, history, stored_days, due_number, open_offset, diligent,
        target, nudge, at_boundaries, data) -> None:
    loan = _loan(product, principal, count)
    schedule = initial_state(loan).installments
    # Near a due date (or the disbursement): a borrower pays when something falls due.
    near = DISBURSED if due_number == 0 else schedule[min(due_number, len(schedule)) - 1].due_date
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
    # What the loan owes through the open day, installment by installment, as caught up.
    caught, _ = advance(loan, state, [], closed)
    boundaries = list(itertools.accumulate(
        sum(owed_on(row, loan.product, open_day).values())
        for row in caught.installments if row.due_date <= open_day))
    due = boundaries[-1] if boundaries else 0
    ahead = next((r for r in caught.installments if r.due_date > open_day), None)
    # Paying the next installment early, or part of it: a `hold` product keeps it as credit.
    early = 0 if ahead is None else (ahead.unpaid_principal + ahead.unpaid_interest
                                     + ahead.unpaid_fee) * data.draw(st.integers(1, 100)) // 100
    base = {"due": due, "payoff": summarize(loan, caught).payoff_amount,
            "part": due * data.draw(st.integers(1, 99)) // 100, "ahead": due + early}[target]
    total = max(1, base + nudge)
    cuts = data.draw(st.lists(
        st.sampled_from([b + d for b in boundaries for d in (-1, 0, 1)]) if at_boundaries
        and boundaries else st.integers(1, max(1, total - 1)), max_size=3))
    payments = [(f"k{i}", amount) for i, amount in enumerate(_split(total, cuts))]

    found = _priced_as_the_domain_prices(loan, state, open_day, payments)
    event("declined" if found is None else f"priced {found.status.value}"
          + (" with credit held" if found.unapplied else ""))
    if found is not None and state.as_of < closed:
        event("priced after end-of-day passed the loan over")


def test_an_on_time_payer_in_its_second_month_is_priced() -> None:
    """End-of-day passes over a loan with nothing due, so a loan paid on time is stored at
    its last payment's date when the next installment falls due: priced all the same."""
    loan = _loan(SHIPPED, 600_000, 6)
    first, second = initial_state(loan).installments[:2]
    state, _ = advance(loan, initial_state(loan), [Payment(
        key="m1", on=first.due_date, amount=first.principal + first.interest)],
        first.due_date)
    due = second.principal + second.interest
    for payments in ([("m2", due)], [("m2a", 1), ("m2b", due - 1)]):
        found = _priced_as_the_domain_prices(loan, state, second.due_date, payments)
        assert found is not None
        assert found.status is LoanStatus.CURRENT


def test_paying_the_payoff_after_the_last_due_date_settles_the_loan() -> None:
    loan = _loan(SHIPPED, 300_000, 3)
    last = initial_state(loan).installments[-1]
    open_day = last.due_date + timedelta(days=9)  # past the grace window: penalty owed
    state, _ = advance(loan, initial_state(loan), [], open_day - timedelta(days=1))
    payoff = summarize(loan, state).payoff_amount
    assert summarize(loan, state).penalty_interest > 0
    found = _priced_as_the_domain_prices(loan, state, open_day, [("all", payoff)])
    assert found is not None
    assert found.status is LoanStatus.SETTLED
    assert _priced_as_the_domain_prices(loan, state, open_day, [("all", payoff + 1)]) is None
