"""Engine behaviour: failing closed, effective dates, scopes, next_allowed_at search."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime

import pytest

from arrears.compliance import engine, packs
from arrears.compliance.model import ActionKind, Finding, Pack, Rule
from arrears.domain.errors import DomainError

from compliance_builders import action, at, attempt, decide, facts


def _pack_with(rule: Rule) -> Pack:
    base = packs.get("us")
    return dataclasses.replace(base, rules=base.rules + (rule,))


def _boom(_context: engine.Context) -> Finding | None:
    raise RuntimeError("bad data")


def test_a_rule_that_raises_blocks_and_is_reported() -> None:
    rule = Rule(rule_id="us.test.broken", ref="T-1", citation="none",
                effective_from=date(2000, 1, 1), reason_en="x", reason_zh="x",
                kinds=frozenset({ActionKind.CALL}), check=_boom)
    decision = engine.decide(action(), facts(), _pack_with(rule), at("2025-06-03T10:00"))
    assert not decision.allowed
    (violation,) = decision.violations
    assert violation.rule_id == "us.test.broken" and violation.error
    assert "RuntimeError" in violation.detail_en
    assert decision.next_allowed_at is None


def test_rules_not_yet_in_force_are_skipped() -> None:
    rule = Rule(rule_id="us.test.future", ref="T-2", citation="none",
                effective_from=date(2030, 1, 1), reason_en="x", reason_zh="x",
                kinds=frozenset({ActionKind.CALL}), check=_boom)
    decision = engine.decide(action(), facts(), _pack_with(rule), at("2025-06-03T10:00"))
    assert decision.allowed
    assert "us.test.future" not in decision.evaluated


def test_naive_instants_are_refused() -> None:
    with pytest.raises(DomainError):
        engine.decide(action(), facts(), packs.get("us"), datetime(2025, 6, 3, 10))  # noqa: DTZ001


def test_duplicate_rule_ids_are_refused() -> None:
    base = packs.get("us")
    with pytest.raises(ValueError, match="duplicate"):
        dataclasses.replace(base, rules=base.rules + base.rules[:1])


def test_unknown_pack() -> None:
    with pytest.raises(DomainError, match="unknown pack"):
        packs.get("xx")


def test_every_rule_is_cited_dated_and_explained() -> None:
    for code in ("us", "cn"):
        pack = packs.get(code)
        for rule in pack.rules:
            assert rule.rule_id.startswith(f"{code}.") and rule.rule_id.count(".") >= 2
            assert rule.ref.startswith(code.upper() + "-")
            assert rule.citation and rule.reason_en and rule.reason_zh
            assert rule.effective_from <= date(2026, 1, 30)


def test_next_allowed_combines_frequency_and_hours() -> None:
    calls = [attempt(f"2025-06-0{2 + i // 3}T{9 + i % 3:02d}:00") for i in range(7)]
    decision = decide("us", action(), facts(attempts=calls), at("2025-06-05T22:00"))
    assert decision.next_allowed_at == at("2025-06-09T08:00")


def test_creditor_scope_skips_fdcpa_rules() -> None:
    creditor = action(actor={"actor_id": "bank", "kind": "internal", "collects_in_own_name": True})
    decision = decide("us", creditor, facts(), at("2025-06-03T10:00"))
    assert "us.regf.call_frequency_7in7" not in decision.evaluated
