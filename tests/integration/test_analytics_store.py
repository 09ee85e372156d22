"""Portfolio analytics over the SQL store (SQLite, and PostgreSQL when configured): a small
hand-built book against figures worked out by hand (`analytics_book` tells its story), and
roll counts reconciled with the delinquency history of a random book."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from arrears.adapters.db import tables as t
from arrears.adapters.db.analytics_store import month_ends, report
from arrears.domain.errors import DomainError

import analytics_book

ZONE = "Asia/Shanghai"


def _report(services, as_of=None):
    with services.engine.connect() as connection:
        return report(connection, as_of, ZONE)


@pytest.fixture
def book(services):
    analytics_book.build(services.engine)
    return services


def _cells(rows):
    return {(source, target): (cell["loans"], cell["principal"])
            for source, row in rows.items() for target, cell in row["to"].items()
            if cell["loans"]}


def test_the_hand_built_book_gives_the_hand_computed_figures(book):
    document = _report(book)
    assert document["as_of"] == "2026-04-30"
    assert document["month_ends"] == ["2025-10-31", "2025-11-30", "2025-12-31", "2026-01-31",
                                      "2026-02-28", "2026-03-31", "2026-04-30"]
    months = document["roll_rates"]["months"]
    assert [_cells(m["rows"]) for m in months] == [
        {("C", "M1"): (1, "3000.00")},
        {("M1", "M2"): (1, "3000.00")},
        {("M2", "M3"): (1, "3000.00")},
        {("C", "C"): (1, "1000.00"), ("C", "M1"): (1, "2000.00"), ("M3", "M4"): (1, "3000.00")},
        {("C", "C"): (1, "800.00"), ("C", "settled"): (1, "500.00"), ("M1", "M2"): (1, "2000.00"),
         ("M4", "written_off"): (1, "3000.00")},
        {("C", "C"): (1, "800.00"), ("M2", "M3"): (1, "2000.00")},
    ]
    average = document["roll_rates"]["average"]
    assert (average["months"], average["from"], average["to"]) == (6, "2025-10-31",
                                                                  "2026-04-30")
    current = average["rows"]["C"]
    assert (current["loans"], current["principal"]) == (6, "8100.00")
    assert {target: (cell["share"], cell["principal_share"])
            for target, cell in current["to"].items() if cell["loans"]} == {
        "C": ("0.5000", "0.3210"), "M1": ("0.3333", "0.6173"), "settled": ("0.1667", "0.0617")}
    assert {source: row["loans"] for source, row in average["rows"].items()} == {
        "C": 6, "M1": 2, "M2": 2, "M3": 1, "M4": 1}

    def curve(vintage, key):
        return [point[key]["loans"] for point in vintage["curve"]]

    vintages = {v["vintage"]: v for v in document["vintages"]}
    assert {k: (v["loans"], v["principal"]) for k, v in vintages.items()} == {
        "2025-10": (1, "3000.00"), "2026-01": (2, "3000.00"), "2026-02": (1, "500.00"),
        "2026-04": (1, "800.00")}
    assert curve(vintages["2025-10"], "dpd30_plus") == [0, 0, 1, 1, 1, 1, 1]
    assert curve(vintages["2025-10"], "dpd90_plus") == [0, 0, 0, 0, 1, 1, 1]
    assert curve(vintages["2025-10"], "written_off") == [0, 0, 0, 0, 0, 1, 1]
    assert [p["dpd30_plus"]["rate"] for p in vintages["2026-01"]["curve"]] == [
        "0.0000", "0.0000", "0.5000", "0.5000"]
    assert curve(vintages["2026-02"], "dpd30_plus") == [0, 0, 0]
    assert curve(vintages["2026-04"], "dpd30_plus") == [0]

    assert {b: (f["entered"], f["cured"], f["rate"])
            for b, f in document["cure_rates"]["buckets"].items()} == {
        "M1": (3, 1, "0.3333"), "M2": (2, 0, "0.0000"), "M3": (1, 0, "0.0000"),
        "M4": (1, 0, "0.0000"), "M5": (1, 0, "0.0000"), "M6": (0, 0, "0.0000"),
        "M7+": (0, 0, "0.0000")}
    assert document["recoveries"] == {
        "cohorts": [{"written_off_month": "2026-03", "loans": 1, "written_off": "3000.00",
                     "recovered": "300.00", "rate": "0.1000"}],
        "total": {"loans": 1, "written_off": "3000.00", "recovered": "300.00",
                  "rate": "0.1000"}}

    collectors = {c["collector"]: c for c in document["collectors"]}
    assert collectors["C-01"] == {
        "collector": "C-01", "name": "王敏", "contacts": 3, "right_party_contacts": 2,
        "right_party_rate": "0.6667", "promises_made": 2, "promises_kept": 1,
        "promise_kept_rate": "0.5000", "recovered": "120.00", "recovered_per_contact": "40.00",
        "complaints": 1, "complaints_per_1000_contacts": "333.33", "blocked_actions": 2,
        "blocked_per_1000_contacts": "666.67"}
    assert (collectors["C-02"]["contacts"], collectors["C-02"]["right_party_contacts"],
            collectors["C-02"]["blocked_actions"]) == (1, 0, 0)
    (agency,) = document["agencies"]
    assert agency == {
        "agency": "AG-1", "name": "华信资产", "contacts": 1, "right_party_contacts": 1,
        "right_party_rate": "1.0000", "promises_made": 1, "promises_kept": 0,
        "promise_kept_rate": "0.0000", "recovered": "50.00", "recovered_per_contact": "50.00",
        "complaints": 1, "complaints_per_1000_contacts": "1000.00", "blocked_actions": 1,
        "blocked_per_1000_contacts": "1000.00"}


def test_an_earlier_date_sees_only_what_had_happened_by_then(book):
    document = _report(book, date(2026, 3, 31))
    assert document["month_ends"][-1] == "2026-03-31"
    assert document["recoveries"]["total"]["recovered"] == "0.00"
    collectors = {c["collector"]: c for c in document["collectors"]}
    assert (collectors["C-01"]["promises_kept"], collectors["C-01"]["recovered"]) == (1,
                                                                                     "100.00")
    assert document["agencies"][0]["contacts"] == 0
    assert [v["vintage"] for v in document["vintages"]] == ["2025-10", "2026-01", "2026-02"]


def test_a_date_after_the_closed_one_or_a_book_never_closed_is_refused(services):
    with pytest.raises(DomainError) as refused:
        _report(services)
    assert refused.value.field == "as_of"
    analytics_book.build(services.engine)
    with pytest.raises(DomainError) as refused:
        _report(services, date(2026, 5, 1))
    assert refused.value.field == "as_of"


def _random_book(services, rng: random.Random, loans: int = 40) -> date:
    """Loans with random walks through the buckets, write-offs and pay-offs; the as-of date."""
    as_of = date(2026, 4, 30)
    first = date(2025, 7, 1)
    with services.engine.begin() as db:
        db.execute(t.business_day.insert().values(id=1, closed_through=as_of))
        db.execute(t.product.insert().values(code="P", definition="{}"))
        for index in range(loans):
            disbursed = first + timedelta(days=rng.randrange(270))
            borrower = db.execute(t.borrower.insert().values(
                borrower_ref=f"B{index}", name="n", national_id="x",
                time_zone=ZONE)).inserted_primary_key[0]
            days = sorted(rng.sample(range(1, (as_of - disbursed).days + 1),
                                     min(rng.randrange(7), (as_of - disbursed).days)))
            end = rng.choice(("current", "overdue", "written_off", "settled"))
            exit_day = disbursed + timedelta(days=rng.randrange(1, (as_of - disbursed).days + 40))
            loan = db.execute(t.loan.insert().values(
                loan_ref=f"L{index}", borrower_id=borrower, product_code="P", currency="CNY",
                principal=rng.randrange(100, 10**7), disbursed_on=disbursed, terms=6,
                state_on=as_of, status=end,
                written_off_on=exit_day if end == "written_off" else None)
            ).inserted_primary_key[0]
            bucket = "C"
            for offset in days:
                target = rng.choice([b for b in ("C", "M1", "M2", "M3", "M4", "M5", "M6", "M7+")
                                     if b != bucket])
                db.execute(t.delinquency_change.insert().values(
                    loan_id=loan, business_date=disbursed + timedelta(days=offset),
                    from_bucket=bucket, to_bucket=target, dpd=0))
                bucket = target
            if end == "settled":
                db.execute(t.payment.insert().values(
                    loan_id=loan, idempotency_key=f"k{index}", paid_on=exit_day, amount=1,
                    to_fee=0, to_penalty=0, to_compound=0, to_interest=0, to_principal=1,
                    to_credit=0, recorded_at=sa.func.current_timestamp()))
    return as_of


def test_roll_counts_reconcile_with_the_bucket_changes_in_the_delinquency_history(services):
    as_of = _random_book(services, random.Random(20260430))
    document = _report(services)
    with services.engine.connect() as db:
        loans = db.execute(sa.select(t.loan.c.id, t.loan.c.disbursed_on, t.loan.c.written_off_on,
                                     t.loan.c.status)).all()
        changes = db.execute(sa.select(t.delinquency_change.c.loan_id,
                                       t.delinquency_change.c.business_date,
                                       t.delinquency_change.c.to_bucket)
                             .order_by(t.delinquency_change.c.id)).all()
        paid_off = dict(db.execute(sa.select(t.payment.c.loan_id, t.payment.c.paid_on)).all())

    def state(loan, day):
        loan_id, disbursed, written_off, status = loan
        if disbursed > day:
            return None
        if written_off is not None and written_off <= day:
            return "written_off"
        if status == "settled" and paid_off[loan_id] <= day:
            return "settled"
        buckets = [to for owner, on, to in changes if owner == loan_id and on <= day]
        return buckets[-1] if buckets else "C"

    ends = month_ends(min(loan[1] for loan in loans), as_of)
    assert document["month_ends"] == [d.isoformat() for d in ends]
    for month, start, end in zip(document["roll_rates"]["months"], ends, ends[1:],
                                 strict=False):
        moves = Counter((state(loan, start), state(loan, end)) for loan in loans
                        if state(loan, start) not in (None, "written_off", "settled"))
        assert {k: v[0] for k, v in _cells(month["rows"]).items()} == dict(moves)
        for row in month["rows"].values():
            assert sum(float(cell["share"]) for cell in row["to"].values()) == pytest.approx(1)


def test_a_reversal_counts_against_recoveries_only_when_its_payment_was_one(book):
    """L4 was written off on 03-15. A payment of 03-01 (before the write-off, so no recovery)
    returned unpaid on 04-12 must not cut the 300.00 recovered on 04-10; the 04-10 recovery
    itself returned on 04-20 does."""
    with book.engine.begin() as db:
        l4 = db.scalar(sa.select(t.loan.c.id).where(t.loan.c.loan_ref == "L4"))
        recovery = db.scalar(sa.select(t.payment.c.id).where(
            t.payment.c.idempotency_key == "p-l4"))
        early = db.execute(t.payment.insert().values(
            loan_id=l4, idempotency_key="p-early", paid_on=date(2026, 3, 1), amount=7_000,
            to_fee=0, to_penalty=0, to_compound=0, to_interest=0, to_principal=7_000,
            to_credit=0, recorded_at=sa.func.current_timestamp())).inserted_primary_key[0]
        for key, day, original, amount in (("r-early", date(2026, 4, 12), early, -7_000),
                                           ("r-l4", date(2026, 4, 20), recovery, -30_000)):
            db.execute(t.payment.insert().values(
                loan_id=l4, idempotency_key=key, paid_on=day, amount=amount, to_fee=0,
                to_penalty=0, to_compound=0, to_interest=0, to_principal=amount, to_credit=0,
                reverses_id=original, recorded_at=sa.func.current_timestamp()))
    assert _report(book, date(2026, 4, 15))["recoveries"]["total"]["recovered"] == "300.00"
    assert _report(book)["recoveries"]["total"]["recovered"] == "0.00"
