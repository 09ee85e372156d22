"""Time-zone edges: US DST change days, a Beijing-time lender calling abroad, DST gaps."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from arrears.compliance import engine, packs
from arrears.compliance.packs import cn
from arrears.compliance.predicates import next_open_everywhere, wall_instant

from compliance_builders import action, attempt, blocked_by, facts, person

NY = ZoneInfo("America/New_York")
UTC = ZoneInfo("UTC")
HOURS = "us.fdcpa.inconvenient_time"


def ny(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=NY)


def _east() -> object:
    return facts(people=[person(zones=("America/New_York",))])


def test_spring_forward_night_waits_for_eight_daylight_time() -> None:
    us = packs.get("us")
    night = datetime(2025, 3, 9, 6, 30, tzinfo=UTC)  # 01:30 EST, before the 02:00 jump
    decision = engine.decide(action(), _east(), us, night)  # type: ignore[arg-type]
    assert blocked_by(decision) == {HOURS}
    assert decision.next_allowed_at == datetime(2025, 3, 9, 12, 0, tzinfo=UTC)  # 08:00 EDT


def test_fall_back_evening_waits_for_eight_standard_time() -> None:
    us = packs.get("us")
    evening = ny("2025-11-01T21:30")
    decision = engine.decide(action(), _east(), us, evening)  # type: ignore[arg-type]
    assert decision.next_allowed_at == datetime(2025, 11, 2, 13, 0, tzinfo=UTC)  # 08:00 EST
    assert engine.decide(action(), _east(), us, ny("2025-11-02T20:59")).allowed  # type: ignore[arg-type]


def test_seven_day_window_across_the_dst_change() -> None:
    calls = [attempt(f"2025-03-0{3 + i // 3}T{9 + i % 3:02d}:00", tz="America/New_York")
             for i in range(7)]
    fx = facts(people=[person(zones=("America/New_York",))], attempts=calls)
    decision = engine.decide(action(), fx, packs.get("us"), ny("2025-03-08T12:00"))
    assert decision.next_allowed_at == ny("2025-03-10T08:00")  # EDT by then


def test_beijing_lender_calls_a_borrower_in_vancouver() -> None:
    """CN-1 holds in Beijing time and, by default, on the debtor's own clock too: a call must
    fall in 08:00-22:00 on both (`also_beijing_time=False` judges the debtor's clock alone)."""
    vancouver = person(zones=("America/Vancouver",), points=({"id": "m1", "kind": "cell"},))
    fx = facts(people=[vancouver], debts=[{"debt_id": "D1"}])
    bj = ZoneInfo("Asia/Shanghai")
    vancouver_zone = ZoneInfo("America/Vancouver")
    lender = action(actor={"actor_id": "lender", "kind": "internal"},
                    recipient={"person_id": "p", "role": "borrower", "contact_point": "m1"})
    local_only = cn.pack(dataclasses.replace(cn.DEFAULT_PARAMS, also_beijing_time=False))
    morning_in_beijing = datetime(2025, 6, 3, 10, 0, tzinfo=bj)  # 19:00 the day before there
    for pack in (packs.get("cn"), local_only):
        assert engine.decide(lender, fx, pack, morning_in_beijing).allowed
    afternoon = datetime(2025, 6, 3, 15, 0, tzinfo=bj)  # 00:00 in Vancouver
    decision = engine.decide(lender, fx, packs.get("cn"), afternoon)
    assert blocked_by(decision) == {"cn.gbt45251.collection_hours"}
    # Both clocks in 08:00-22:00: Beijing 08:00-13:00 = Vancouver 17:00-22:00 the day before.
    assert decision.next_allowed_at == datetime(2025, 6, 4, 8, 0, tzinfo=bj)
    local = engine.decide(lender, fx, local_only, afternoon)
    assert local.next_allowed_at == datetime(2025, 6, 3, 8, 0, tzinfo=vancouver_zone)
    late_in_beijing = datetime(2025, 6, 3, 23, 0, tzinfo=bj)  # 08:00 in Vancouver
    assert engine.decide(lender, fx, local_only, late_in_beijing).allowed
    assert blocked_by(engine.decide(lender, fx, packs.get("cn"), late_in_beijing)) == {
        "cn.gbt45251.collection_hours"}


def test_wall_instant_in_a_gap_is_the_transition() -> None:
    havana = ZoneInfo("America/Havana")  # clocks jump from 00:00 to 01:00
    midnight = wall_instant(date(2025, 3, 9), time(0), havana)
    assert midnight.astimezone(havana).time() == time(1, 0)
    assert midnight == datetime(2025, 3, 9, 5, 0, tzinfo=UTC)


def test_intersection_of_far_apart_zones() -> None:
    zones = [ZoneInfo("America/Los_Angeles"), ZoneInfo("America/New_York")]
    start = datetime(2025, 6, 2, 19, 0, tzinfo=ZoneInfo("America/Los_Angeles"))
    opening = next_open_everywhere(start, zones, time(8), time(21))
    assert opening == datetime(2025, 6, 3, 8, 0, tzinfo=ZoneInfo("America/Los_Angeles"))
