"""The shared number parsers of the loan and plan files: an integer takes a leading "+" as a
decimal does, and a plan's rate or share is written fixed-point, read back strictly at the
input edge and leniently from the book (where older versions wrote exponent forms)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arrears.application.loan_file import (
    parse_decimal,
    parse_int,
    parse_plan,
    parse_stored_plan,
    plan_document,
)
from arrears.domain.errors import DomainError


@given(st.integers(-(10**17), 10**17))
def test_an_integer_reads_with_or_without_a_sign_as_a_decimal_does(number: int) -> None:
    for text in (str(number), f"+{number}" if number >= 0 else str(number)):
        assert parse_int(text, "terms") == number == parse_decimal(text, "terms")


@pytest.mark.parametrize("text", ["++3", "+-3", "+", "3+", " +3", "+3.0", "+１", "+1_0"])
def test_a_sign_is_still_one_leading_character_before_ascii_digits(text: str) -> None:
    with pytest.raises(DomainError) as refused:
        parse_int(text, "terms")
    assert refused.value.field == "terms"


RATES = st.decimals(min_value=0, max_value=Decimal("0.36"), places=8, allow_nan=False,
                    allow_infinity=False)


@given(RATES, st.decimals(min_value=Decimal("0.000001"), max_value=1, places=6, allow_nan=False,
                          allow_infinity=False))
def test_a_plan_document_reads_back_at_the_input_edge_whatever_its_decimals(
        rate: Decimal, share: Decimal) -> None:
    for doc in ({"plan_id": "P", "kind": "reage", "effective_on": "2026-03-02", "terms": 6,
                 "first_due_on": "2026-04-02", "rate": format(rate, "f")},
                {"plan_id": "P", "kind": "waiver", "effective_on": "2026-03-02",
                 "waive": {"penalty": format(share, "f")}}):
        plan = parse_plan(doc, "CNY")
        written = plan_document(plan, "CNY")
        assert parse_plan(written, "CNY") == plan  # strict: no exponent was written


def test_exponent_forms_are_refused_as_input_and_read_from_the_book() -> None:
    doc = {"plan_id": "P", "kind": "reage", "effective_on": "2026-03-02", "terms": 6,
           "first_due_on": "2026-04-02", "rate": "0E-8"}
    with pytest.raises(DomainError) as refused:
        parse_plan(doc, "CNY")
    assert refused.value.field == "plan.rate"
    assert parse_stored_plan(doc, "CNY").rate == 0
