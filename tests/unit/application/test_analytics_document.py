"""The analytics read model's arithmetic: shares that add up to one exactly, pooled averages,
rates, and the document's rows."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.application import analytics
from arrears.application.analytics import AnalyticsFacts, RollCell, RollMonth


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 10**12), min_size=1, max_size=12).filter(any))
def test_shares_add_up_to_one_exactly_and_stay_within_a_unit_of_the_exact_share(counts):
    shares = analytics.shares(counts)
    assert sum(shares) == Decimal(1)
    total = sum(counts)
    for count, share in zip(counts, shares, strict=True):
        assert abs(share - Decimal(count) / Decimal(total)) < Decimal("0.0001")
        if count == 0:
            assert share == 0


def test_shares_break_ties_towards_the_earlier_count():
    assert analytics.shares([1, 1, 1]) == (Decimal("0.3334"), Decimal("0.3333"),
                                           Decimal("0.3333"))


def _month(start: date, end: date, *cells: tuple[str, str, int, int]) -> RollMonth:
    return RollMonth(start=start, end=end, cells=tuple(
        RollCell(source=s, target=t, loans=n, principal=p) for s, t, n, p in cells))


def _facts(*months: RollMonth) -> AnalyticsFacts:
    return AnalyticsFacts(as_of=date(2026, 4, 30), currency="CNY", month_ends=(),
                          rolls=months, vintages=(), cures=(), recoveries=(), collectors=(),
                          agencies=())


def test_the_average_pools_the_last_six_months_and_its_rows_add_up_to_one():
    months = [_month(date(2025, 1, 31), date(2025, 2, 28), ("C", "M1", 100, 100_000))]
    months += [_month(date(2025, m, 28), date(2025, m + 1, 28), ("C", "C", 3, 300),
                      ("C", "M1", 1, 100), ("M1", "C", 1, 50)) for m in range(2, 8)]
    document = analytics.roll_rates_document(_facts(*months))
    average = document["average"]
    assert (average["months"], average["from"], average["to"]) == (6, "2025-02-28",
                                                                  "2025-08-28")
    row = average["rows"]["C"]  # the first month's 100 loans are outside the last six
    assert (row["loans"], row["principal"]) == (24, "24.00")
    assert row["to"]["C"] == {"loans": 18, "principal": "18.00", "share": "0.7500",
                              "principal_share": "0.7500"}
    assert average["rows"]["M1"]["to"]["C"]["share"] == "1.0000"
    for month in (*document["months"], average):
        for figures in month["rows"].values():
            assert sum(Decimal(cell["share"]) for cell in figures["to"].values()) == 1
            assert sum(cell["loans"] for cell in figures["to"].values()) == figures["loans"]
            assert set(figures["to"]) == set(analytics.STATES)


def test_an_empty_book_reports_no_rows_and_zero_rates():
    document = analytics.document(_facts())
    assert document["roll_rates"]["average"] == {"months": 0, "from": None, "to": None,
                                                 "rows": {}}
    assert document["recoveries"]["total"]["rate"] == "0.0000"
    assert analytics.per_thousand(0, 0) == Decimal("0.00")
    assert analytics.per_contact(1, 0) == 0
