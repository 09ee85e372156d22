"""The plan policy format: the shipped policies parse, and a bad one is refused naming the
field."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arrears.application.plan_policy import FIELDS, InvalidPolicy, parse_policy
from arrears.domain.errors import DomainError
from arrears.domain.plans import PlanKind


def shipped() -> dict[str, Any]:
    return json.loads((resources.files("arrears") / "default_plan_policies.json").read_text())


def test_the_shipped_policies_parse():
    policies = {code: parse_policy(doc) for code, doc in shipped().items()}
    assert PlanKind.REAGE in policies["WLD-DAILY"].kinds
    assert policies["WLD-DAILY"].waiver_limit("CNY") == 50_000
    assert policies["PHONE-24M"].on_break == "revert"


@given(st.sampled_from(sorted(FIELDS)))
def test_a_missing_field_is_named(field):
    doc = dict(shipped()["WLD-DAILY"])
    del doc[field]
    with pytest.raises(InvalidPolicy) as refused:
        parse_policy(doc)
    assert refused.value.field == f"policy.{field}"


@pytest.mark.parametrize(("field", "value"), [
    ("kinds", ["reage", "forgive_all"]), ("dpd", [90, 1]), ("dpd", [1]),
    ("max_waiver_share", "1.5"), ("max_waiver_share", 0.5), ("min_first_payment", "-1"),
    ("broken_after_days", 0), ("kept_after_payments", True), ("on_break", "forget"),
])
def test_a_bad_value_is_named(field, value):
    doc = {**shipped()["WLD-DAILY"], field: value}
    with pytest.raises(DomainError) as refused:
        parse_policy(doc)
    assert refused.value.field.startswith(f"policy.{field}")
