"""Complaint clocks (domain.complaints with the numbers of compliance.packs.complaints): CN
answers within 15 days counted from the filing date as day 1, extendable once; a US regulator
referral has its own window [U]; late complaints are found for escalation."""

from __future__ import annotations

from datetime import date

import pytest

from arrears.compliance.packs.complaints import CN, US_REFERRAL, clock_for
from arrears.domain.complaints import (
    Category,
    Source,
    Team,
    deadlines,
    extend,
    late,
    per_thousand,
    route,
)
from arrears.domain.errors import DomainError


def test_cn_complaint_is_answered_within_15_days_extendable_once() -> None:
    clock = clock_for("cn", Source.BORROWER)
    assert clock is CN and clock.unconfirmed
    filed = deadlines(date(2026, 6, 1), clock)
    assert (filed.acknowledge_by, filed.answer_by) == (date(2026, 6, 2), date(2026, 6, 15))
    extended = extend(filed, date(2026, 6, 15), clock)
    assert extended.answer_by == date(2026, 6, 30) and extended.extended_on == date(2026, 6, 15)
    with pytest.raises(DomainError) as again:
        extend(extended, date(2026, 6, 20), clock)
    assert again.value.field == "extend"
    with pytest.raises(DomainError) as too_late:
        extend(filed, date(2026, 6, 16), clock)
    assert too_late.value.field == "at"


def test_late_names_the_missed_clocks() -> None:
    filed = deadlines(date(2026, 6, 1), CN)
    assert late(filed, date(2026, 6, 2)) == ()
    assert late(filed, date(2026, 6, 3)) == ("acknowledge",)
    assert late(filed, date(2026, 6, 16)) == ("acknowledge", "answer")
    from dataclasses import replace
    acknowledged = replace(filed, acknowledged_on=date(2026, 6, 2))
    assert late(acknowledged, date(2026, 6, 15)) == ()
    assert late(replace(acknowledged, answered_on=date(2026, 6, 20)), date(2026, 7, 1)) == ()


def test_us_regulator_referral_has_its_own_window() -> None:
    assert clock_for("US", Source.REGULATOR) is US_REFERRAL
    assert US_REFERRAL.unconfirmed and US_REFERRAL.rule_id.startswith("us.")
    assert deadlines(date(2026, 6, 1), US_REFERRAL).answer_by == date(2026, 6, 15)
    with pytest.raises(DomainError) as unknown:
        clock_for("FR", Source.BORROWER)
    assert unknown.value.field == "jurisdiction"


def test_routing_and_rates() -> None:
    assert route(Source.BORROWER, Category.THREAT) is Team.COMPLIANCE
    assert route(Source.REGULATOR, Category.WRONG_AMOUNT) is Team.COMPLIANCE
    assert route(Source.THIRD_PARTY, Category.WRONG_AMOUNT) is Team.SERVICING
    assert route(Source.BORROWER, Category.OTHER) is Team.CUSTOMER_CARE
    assert [per_thousand(c, n) for c, n in ((1, 3), (2, 3), (1, 8), (0, 0), (3, 2000))] == \
        ["333.33", "666.67", "125.00", "0.00", "1.50"]
