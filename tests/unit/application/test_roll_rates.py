"""The demo's and the compliance dashboard's roll rates: of the loans in a bucket over a run —
there at its start or entering it — the share that rolled on to the next. On any paths of
bucket changes a share is at most 1 (a seasoned book starts with loans in every bucket, which
counted only by their entries rolled at 125 %), and it is the count of those rolls."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from arrears.application.demo import roll_rates
from arrears.domain.delinquency import BUCKETS

ORDER = [bucket.value for bucket in BUCKETS]


@given(st.lists(st.tuples(st.sampled_from(ORDER), st.lists(st.sampled_from(ORDER),
                                                           max_size=6)), max_size=30))
def test_a_roll_rate_is_the_share_of_stays_that_rolled_on(paths) -> None:
    at_start: Counter[str] = Counter()
    moves: Counter[tuple[str, str]] = Counter()
    stays: Counter[str] = Counter()
    rolled: Counter[str] = Counter()
    for start, later in paths:
        at_start[start] += 1
        stays[start] += 1
        current = start
        for target in later:
            if target == current:
                continue
            moves[(current, target)] += 1
            stays[target] += 1
            if ORDER.index(target) == ORDER.index(current) + 1:
                rolled[current] += 1
            current = target
    rates = roll_rates([(s, t, n) for (s, t), n in moves.items()], at_start)
    for source, target in zip(ORDER[1:-1], ORDER[2:], strict=True):
        rate = Decimal(rates[f"{source}→{target}"])
        assert rate <= 1
        expected = Decimal(rolled[source]) / stays[source] if stays[source] else Decimal(0)
        assert rate == expected.quantize(Decimal("0.0001"))
