"""Time-and-count rules judged over their input classes against independent oracles.

Each property restates the rules.md text (Conventions: "day 1" is the event's day; "within N
consecutive days" is the window [D-(N-1), D] in local calendar days) and compares the engine
with it over random histories and instants straddling DST changes, window edges and zones:
US-2/US-3/US-4/US-5 call frequency, US-7/US-8 hours, US-9 named times, US-22 validation
period, CN-1 hours, CN-2 daily caps.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arrears.compliance import engine, packs
from arrears.compliance.facts import (
    Attempt,
    Consent,
    ConsentScope,
    ContactPoint,
    Debt,
    Direction,
    Facts,
    InconvenientTime,
    Outcome,
    Person,
)
from arrears.compliance.model import (
    Action,
    ActionKind,
    Actor,
    ActorKind,
    Decision,
    Purpose,
    Recipient,
    Role,
    ValidationNoticeContent,
)
from arrears.compliance.packs import cn, us
from arrears.compliance.predicates import (
    add_us_business_days,
    is_us_business_day,
    us_federal_holidays,
    validation_period_end,
    wall_instant,
)
from arrears.domain.money import Money

FREQ = "us.regf.call_frequency_7in7"
COOL = "us.regf.call_after_conversation"
HOURS = "us.fdcpa.inconvenient_time"
NAMED = "us.regf.named_inconvenient_time"
CN_HOURS = "cn.gbt45251.collection_hours"
CN_FREQ = "cn.gbt45251.call_frequency"

US_ZONES = ["America/New_York", "America/Chicago", "America/Denver", "America/Phoenix",
            "America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu"]
STARTS = [datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 10, 25, tzinfo=UTC)]
"""Fortnights straddling the 2025 US spring-forward (03-09) and fall-back (11-02)."""
OUTCOMES = list(Outcome)
CALL_OUTCOMES = [Outcome.NOT_CONNECTED, Outcome.UNANSWERED, Outcome.VOICEMAIL,
                 Outcome.ANSWERED, Outcome.CONVERSATION]
FIRM = Actor(actor_id="agent", kind=ActorKind.AGENCY, organisation="ABC")
SETTINGS = settings(max_examples=250, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

minutes = st.integers(min_value=0, max_value=16 * 24 * 60)
seconds = st.integers(min_value=0, max_value=16 * 24 * 3600)
history_st = st.lists(
    st.tuples(minutes, st.sampled_from(CALL_OUTCOMES),
              st.sampled_from([Direction.OUTBOUND, Direction.OUTBOUND, Direction.INBOUND])),
    max_size=30,
)


def _person(zones: tuple[str, ...], point_zone: str = "") -> Person:
    return Person(person_id="p", role=Role.BORROWER, zones=zones,
                  contact_points=(ContactPoint(id="m1", kind="cell", zone=point_zone),
                                  ContactPoint(id="m2", kind="cell")))


def _call(actor: Actor = FIRM, point: str = "m1") -> Action:
    return Action(kind=ActionKind.CALL, actor=actor,
                  recipient=Recipient(person_id="p", role=Role.BORROWER, contact_point=point),
                  debt_ids=("D1",))


def _attempt(at: datetime, outcome: Outcome, direction: Direction = Direction.OUTBOUND,
             actor: Actor = FIRM, point: str = "m1") -> Attempt:
    return Attempt(at=at, channel=ActionKind.CALL, actor_id=actor.actor_id,
                   organisation=actor.organisation, person_id="p", debt_ids=("D1",),
                   outcome=outcome, direction=direction, contact_point=point)


def _us_debt(start: datetime) -> Debt:
    return Debt(debt_id="D1", initial_communication_at=start - timedelta(days=60),
                validation_sent_on=(start - timedelta(days=59)).date())


def _rules(decision: Decision) -> set[str]:
    return {v.rule_id for v in decision.violations}


# --- US-2 / US-3 / US-5: counts and cool-down in the consumer's local calendar days -----------


@SETTINGS
@given(start=st.sampled_from(STARTS), tz=st.sampled_from(US_ZONES), history=history_st,
       when=seconds)
def test_us_2_3_windows_are_seven_local_calendar_days(
    start: datetime, tz: str, history: list[tuple[int, Outcome, Direction]], when: int
) -> None:
    """US-2: 7 counted calls with local dates in [D-6, D] block the next; US-3: a conversation
    (either direction) on a local date in [D-6, D] blocks calls; NOT_CONNECTED and inbound
    calls do not count (US-4(ii), US-5)."""
    zone = ZoneInfo(tz)
    at = start + timedelta(seconds=when)
    attempts = tuple(
        _attempt(start + timedelta(minutes=m), outcome, direction)
        for m, outcome, direction in history
        if start + timedelta(minutes=m) <= at
    )
    facts = Facts(people=(_person((tz,)),), debts=(_us_debt(start),), attempts=attempts)
    decision = engine.decide(_call(), facts, packs.get("us"), at)
    today = at.astimezone(zone).date()

    def in_window(a: Attempt) -> bool:
        return today - timedelta(days=6) <= a.at.astimezone(zone).date() <= today

    counted = [a for a in attempts if in_window(a) and a.direction is Direction.OUTBOUND
               and a.outcome is not Outcome.NOT_CONNECTED]
    talked = [a for a in attempts if in_window(a) and a.outcome is Outcome.CONVERSATION]
    assert (FREQ in _rules(decision)) == (len(counted) >= 7)
    assert (COOL in _rules(decision)) == bool(talked)
    for violation in decision.violations:
        if violation.rule_id == FREQ:  # the explanation states the true count and day
            assert violation.detail_en.startswith(f"{len(counted)} calls about D1")
            assert f"ending {today.isoformat()}" in violation.detail_en
        if violation.rule_id == COOL:
            last = max(a.at for a in talked).astimezone(zone).date()
            assert f"took place on {last.isoformat()}" in violation.detail_en
            assert f"no calls until {(last + timedelta(days=7)).isoformat()}" in (
                violation.detail_en)


week_history_st = st.lists(
    st.tuples(st.integers(0, 7 * 24 * 60), st.sampled_from(CALL_OUTCOMES),
              st.just(Direction.OUTBOUND)),
    min_size=1, max_size=10,
)
"""A week of calls, some of them conversations: asked about a week later, the edges of the
window fall among them."""


@SETTINGS
@given(start=st.sampled_from(STARTS),
       zones=st.lists(st.sampled_from(US_ZONES), min_size=2, max_size=3, unique=True),
       history=week_history_st, when=st.integers(5 * 24 * 3600, 9 * 24 * 3600))
def test_us_2_3_count_days_in_every_candidate_zone(
    start: datetime, zones: list[str], history: list[tuple[int, Outcome, Direction]], when: int
) -> None:
    """US-2/US-3 with US-8: where the consumer may be in any of several zones, the week and
    the cool-down are read in each, and the call is blocked if any of them is full (a call at
    22:00 in Los Angeles is already the next day in New York); the zones' order changes
    nothing."""
    at = start + timedelta(seconds=when)
    attempts = tuple(
        _attempt(start + timedelta(minutes=m), outcome, direction)
        for m, outcome, direction in history
        if start + timedelta(minutes=m) <= at
    )

    def expected(tz: str) -> tuple[bool, bool]:
        zone = ZoneInfo(tz)
        today = at.astimezone(zone).date()
        week = [a for a in attempts
                if today - timedelta(days=6) <= a.at.astimezone(zone).date() <= today]
        counted = [a for a in week if a.direction is Direction.OUTBOUND
                   and a.outcome is not Outcome.NOT_CONNECTED]
        return len(counted) >= 7, any(a.outcome is Outcome.CONVERSATION for a in week)

    each = [expected(tz) for tz in zones]
    for order in (zones, zones[::-1]):
        facts = Facts(people=(_person(tuple(order)),), debts=(_us_debt(start),),
                      attempts=attempts)
        rules = _rules(engine.decide(_call(), facts, packs.get("us"), at))
        assert (FREQ in rules) == any(full for full, _ in each)
        assert (COOL in rules) == any(talked for _, talked in each)


def test_us_3_cool_down_lasts_until_it_ends_in_the_last_zone() -> None:
    """US-3, US-8: a conversation at 22:00 on Monday 2025-06-02 in Los Angeles is on Tuesday
    in New York; for a consumer who may be in either, the cool-down runs through Monday
    06-09 (New York's day 7), so a call at 09:00 Los Angeles time that Monday is blocked
    until New York's Tuesday, though Los Angeles's own seven days are over."""
    talk = datetime(2025, 6, 2, 22, 0, tzinfo=ZoneInfo("America/Los_Angeles"))
    call_at = datetime(2025, 6, 9, 9, 0, tzinfo=ZoneInfo("America/Los_Angeles"))
    attempts = (_attempt(talk, Outcome.CONVERSATION),)
    pack = packs.get("us")
    alone = Facts(people=(_person(("America/Los_Angeles",)),), debts=(_us_debt(talk),),
                  attempts=attempts)
    assert COOL not in _rules(engine.decide(_call(), alone, pack, call_at))
    both = Facts(people=(_person(("America/Los_Angeles", "America/New_York")),),
                 debts=(_us_debt(talk),), attempts=attempts)
    decision = engine.decide(_call(), both, pack, call_at)
    [cool] = [v for v in decision.violations if v.rule_id == COOL]
    assert "took place on 2025-06-03 (America/New_York)" in cool.detail_en
    assert "no calls until 2025-06-10" in cool.detail_en
    assert decision.next_allowed_at is not None
    assert decision.next_allowed_at >= datetime(2025, 6, 10, tzinfo=ZoneInfo("America/New_York"))


EXCLUDED = st.sampled_from(["busy", "inbound", "attorney", "consented"])


dense_history_st = st.lists(
    st.tuples(st.integers(0, 7 * 24 * 60),
              st.sampled_from([Outcome.UNANSWERED, Outcome.VOICEMAIL, Outcome.ANSWERED]),
              st.just(Direction.OUTBOUND)),
    min_size=5, max_size=9,
)
"""Histories near the limit: 5-9 counted calls in one week, so one more call matters."""


@SETTINGS
@given(start=st.sampled_from(STARTS), tz=st.sampled_from(US_ZONES), history=dense_history_st,
       when=st.integers(5 * 24 * 3600, 9 * 24 * 3600), extra_at=st.integers(0, 9 * 24 * 60),
       kind=EXCLUDED, length=st.integers(1, 48))
def test_us_4_excluded_calls_never_change_the_count(
    start: datetime, tz: str, history: list[tuple[int, Outcome, Direction]], when: int,
    extra_at: int, kind: str, length: int,
) -> None:
    """US-4: a call that is not connected, inbound, to the attorney, or placed with the
    person's direct prior consent within its period counts toward neither prong: adding one to
    any history never changes the count-prong decision (nor its explanation)."""
    at = start + timedelta(seconds=when)
    placed = start + timedelta(minutes=extra_at)
    if placed > at:
        return
    history_calls = tuple(
        _attempt(start + timedelta(minutes=m), o, d)
        for m, o, d in history
        if start + timedelta(minutes=m) <= at and o is not Outcome.CONVERSATION
    )
    consent = Consent(person_id="p", scope=ConsentScope.CALLS, given_at=placed,
                      valid_from=placed, valid_until=placed + timedelta(hours=length),
                      actor_id="agent", organisation="ABC")
    base = Facts(people=(_person((tz,)), Person(person_id="lawyer", role=Role.ATTORNEY)),
                 debts=(_us_debt(start),), attempts=history_calls,
                 consents=(consent,) if kind == "consented" else ())
    if kind == "busy":
        extra = _attempt(placed, Outcome.NOT_CONNECTED)
    elif kind == "inbound":
        extra = _attempt(placed, Outcome.ANSWERED, Direction.INBOUND)
    elif kind == "attorney":
        extra = dataclasses.replace(_attempt(placed, Outcome.ANSWERED), person_id="lawyer")
    else:
        extra = _attempt(placed, Outcome.VOICEMAIL)
    more = dataclasses.replace(base, attempts=history_calls + (extra,))
    us = packs.get("us")
    before = [v.detail_en for v in engine.decide(_call(), base, us, at).violations
              if v.rule_id == FREQ]
    after = [v.detail_en for v in engine.decide(_call(), more, us, at).violations
             if v.rule_id == FREQ]
    assert before == after


def test_us_4_a_consented_call_does_not_use_up_the_seven() -> None:
    """rules.md US-4: consented calls count toward neither prong. Six counted calls Mon-Wed and
    a Thursday call the consumer asked for: a Friday call is only the seventh counted one."""
    chicago = ZoneInfo("America/Chicago")

    def ct(text: str) -> datetime:
        return datetime.fromisoformat(text).replace(tzinfo=chicago)

    six = tuple(_attempt(ct(f"2025-06-0{2 + i // 3}T{9 + i % 3:02d}:00"), Outcome.UNANSWERED)
                for i in range(6))
    thursday = _attempt(ct("2025-06-05T10:00"), Outcome.UNANSWERED)
    consent = Consent(person_id="p", scope=ConsentScope.CALLS, given_at=ct("2025-06-04T12:00"),
                      valid_from=ct("2025-06-05T00:00"), valid_until=ct("2025-06-06T00:00"),
                      actor_id="agent", organisation="ABC")
    start = ct("2025-06-01T00:00")
    people = (_person(("America/Chicago",)),)
    with_consent = Facts(people=people, debts=(_us_debt(start),), attempts=six + (thursday,),
                         consents=(consent,))
    assert engine.decide(_call(), with_consent, packs.get("us"), ct("2025-06-06T10:00")).allowed
    # Without the consent the Thursday call counts: Friday's would be the eighth.
    without = dataclasses.replace(with_consent, consents=())
    assert FREQ in _rules(engine.decide(_call(), without, packs.get("us"), ct("2025-06-06T10:00")))
    # A consent relayed by the creditor (not given to the collector) does not exclude it.
    relayed = dataclasses.replace(
        with_consent, consents=(dataclasses.replace(consent, actor_id="", organisation=""),))
    assert FREQ in _rules(engine.decide(_call(), relayed, packs.get("us"), ct("2025-06-06T10:00")))
    # A call after the consented period has run counts again (consent day = day 1, <= 7 days).
    stale = dataclasses.replace(with_consent, attempts=six + (
        _attempt(ct("2025-06-06T10:00"), Outcome.UNANSWERED),))
    assert FREQ in _rules(engine.decide(_call(), stale, packs.get("us"), ct("2025-06-06T12:00")))


def test_us_4_consent_recorded_at_the_instant_of_its_conversation() -> None:
    """A consent given during a conversation may carry that conversation's instant; it is not
    used up by that conversation, only by the next one (rules.md US-4 [S])."""
    chicago = ZoneInfo("America/Chicago")
    monday = datetime(2025, 6, 2, 10, 0, tzinfo=chicago)
    consent = Consent(person_id="p", scope=ConsentScope.CALLS, given_at=monday,
                      valid_from=monday, valid_until=monday + timedelta(days=2),
                      actor_id="agent", organisation="ABC")
    talk = _attempt(monday, Outcome.CONVERSATION)
    facts = Facts(people=(_person(("America/Chicago",)),), debts=(_us_debt(monday),),
                  attempts=(talk,), consents=(consent,))
    tuesday = monday + timedelta(days=1)
    assert engine.decide(_call(), facts, packs.get("us"), tuesday).allowed
    called_back = dataclasses.replace(
        facts, attempts=(talk, _attempt(tuesday, Outcome.CONVERSATION)))
    later = engine.decide(_call(), called_back, packs.get("us"), tuesday + timedelta(hours=2))
    assert COOL in _rules(later)  # the consented conversation has happened


def test_us_6_review_counts_only_calls_before_the_instant() -> None:
    """US-6 "call N to this number today" counts the calls made up to the instant judged: a
    call back-dated to 09:00 is not the seventh of the day because of six made after it."""
    chicago = ZoneInfo("America/Chicago")
    later = tuple(_attempt(datetime(2025, 6, 2, 10 + i, 0, tzinfo=chicago), Outcome.UNANSWERED)
                  for i in range(6))
    facts = Facts(people=(_person(("America/Chicago",)),),
                  debts=(_us_debt(datetime(2025, 5, 1, tzinfo=UTC)),), attempts=later)
    morning = engine.decide(_call(), facts, packs.get("us"),
                            datetime(2025, 6, 2, 9, 0, tzinfo=chicago))
    assert morning.allowed and morning.flags == ()
    evening = engine.decide(_call(), facts, packs.get("us"),
                            datetime(2025, 6, 2, 17, 0, tzinfo=chicago))
    assert "call 7 to this number today" in evening.flags[0].detail_en


# --- US-7 / US-8: 08:00 <= t < 21:00 in every candidate zone -------------------------------


@SETTINGS
@given(start=st.sampled_from(STARTS), zones=st.lists(st.sampled_from(US_ZONES), min_size=1,
                                                    max_size=3, unique=True),
       point_zone=st.sampled_from(["", *US_ZONES]), when=seconds)
def test_us_7_8_convenient_only_if_convenient_in_every_zone(
    start: datetime, zones: list[str], point_zone: str, when: int
) -> None:
    at = start + timedelta(seconds=when)
    facts = Facts(people=(_person(tuple(zones), point_zone),), debts=(_us_debt(start),))
    decision = engine.decide(_call(), facts, packs.get("us"), at)
    every = set(zones) | ({point_zone} if point_zone else set())
    closed = {z for z in every
              if not time(8) <= at.astimezone(ZoneInfo(z)).time().replace(tzinfo=None)
              < time(21)}
    assert (HOURS in _rules(decision)) == bool(closed)
    for violation in decision.violations:
        if violation.rule_id == HOURS:  # the explanation names exactly the closed zones
            assert {z for z in every if f"in {z}" in violation.detail_en} == closed


@SETTINGS
@given(day=st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31)),
       tz=st.sampled_from(US_ZONES))
def test_us_7_boundary_instants(day: date, tz: str) -> None:
    """08:00:00 is convenient, a microsecond earlier is not; 21:00:00 is not, a microsecond
    earlier is (rules.md US-7: allow 08:00 <= t < 21:00), on DST-change days too."""
    zone = ZoneInfo(tz)
    facts = Facts(people=(_person((tz,)),), debts=(_us_debt(datetime(2024, 1, 1, tzinfo=UTC)),))
    us = packs.get("us")
    eight = wall_instant(day, time(8), zone)
    nine_pm = wall_instant(day, time(21), zone)
    tick = timedelta(microseconds=1)
    assert HOURS not in _rules(engine.decide(_call(), facts, us, eight))
    assert HOURS in _rules(engine.decide(_call(), facts, us, eight - tick))
    assert HOURS not in _rules(engine.decide(_call(), facts, us, nine_pm - tick))
    late = engine.decide(_call(), facts, us, nine_pm)
    assert HOURS in _rules(late)
    assert late.next_allowed_at is not None
    assert late.next_allowed_at.astimezone(zone).time() == time(8)


def test_us_7_unknown_location_is_judged_in_every_contiguous_zone() -> None:
    """US-8: nothing known about the location -> the pack's fallback zones all apply."""
    facts = Facts(debts=(_us_debt(datetime(2025, 1, 1, tzinfo=UTC)),))
    eight_et = datetime(2025, 6, 2, 8, 0, tzinfo=ZoneInfo("America/New_York"))  # 05:00 PT
    decision = engine.decide(_call(), facts, packs.get("us"), eight_et)
    assert HOURS in _rules(decision)
    assert decision.next_allowed_at == datetime(2025, 6, 2, 8, 0,
                                                tzinfo=ZoneInfo("America/Los_Angeles"))


# --- US-9: windows the consumer named, including ones crossing midnight -----------------------


walls = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 59]))


@SETTINGS
@given(start=st.sampled_from(STARTS), tz=st.sampled_from(US_ZONES), begin=walls, end=walls,
       weekdays=st.sets(st.integers(0, 6), min_size=1), when=seconds)
def test_us_9_named_window_blocks_exactly_its_local_times(
    start: datetime, tz: str, begin: time, end: time, weekdays: set[int], when: int
) -> None:
    """[begin, end) on each named weekday; begin >= end crosses midnight and belongs to the day
    it begins ("after 18:00 until 09:00" on Friday covers Saturday 08:00)."""
    zone = ZoneInfo(tz)
    at = start + timedelta(seconds=when)
    window = InconvenientTime(person_id="p", start=begin, end=end,
                              weekdays=tuple(sorted(weekdays)))
    facts = Facts(people=(_person((tz,)),), debts=(_us_debt(start),),
                  inconvenient_times=(window,))
    decision = engine.decide(_call(), facts, packs.get("us"), at)
    wall = at.astimezone(zone).replace(tzinfo=None)
    expected = False
    for began in (wall.date() - timedelta(days=1), wall.date()):
        if began.weekday() not in weekdays:
            continue
        opens = datetime.combine(began, begin)
        closes = datetime.combine(began + timedelta(days=1) if begin >= end else began, end)
        expected = expected or opens <= wall < closes
    assert (NAMED in _rules(decision)) == expected
    if expected and decision.next_allowed_at is not None:
        assert decision.next_allowed_at > at


OWN_NAME = Actor(actor_id="bank", kind=ActorKind.INTERNAL, collects_in_own_name=True)
"""A creditor's own staff: outside US-7, bound by the house copy of US-9 alone."""
FALL_BACK = datetime(2025, 11, 2, 4, 0, tzinfo=UTC)  # 00:00 EDT; 01:00-02:00 comes twice



near_one = st.builds(time, st.sampled_from([0, 1, 1, 2]), st.sampled_from([0, 15, 30, 59]))


@SETTINGS
@given(tz=st.sampled_from(US_ZONES), begin=walls | near_one, end=walls | near_one,
       weekdays=st.sets(st.integers(0, 6), min_size=1, max_size=6),
       when=st.integers(-3 * 3600, 3 * 3600))
def test_us_9_next_allowed_is_exact_across_the_repeated_hour(
    tz: str, begin: time, end: time, weekdays: set[int], when: int
) -> None:
    """When a named window blocks, `next_allowed_at` is the first instant it no longer does,
    also inside a fall-back's repeated hour (the window then ends on the second pass)."""
    at = wall_instant(date(2025, 11, 2), time(1), ZoneInfo(tz)) + timedelta(seconds=when)
    window = InconvenientTime(person_id="p", start=begin, end=end,
                              weekdays=tuple(sorted(weekdays)))
    facts = Facts(people=(_person((tz,)),), debts=(_us_debt(FALL_BACK),),
                  inconvenient_times=(window,))
    us = packs.get("us")
    decision = engine.decide(_call(OWN_NAME), facts, us, at)
    if decision.allowed:
        return
    later = decision.next_allowed_at
    assert later is not None and later > at
    assert engine.decide(_call(OWN_NAME), facts, us, later).allowed
    if later - timedelta(seconds=1) >= at:
        assert not engine.decide(_call(OWN_NAME), facts, us, later - timedelta(seconds=1)).allowed


def test_us_9_window_ending_in_the_repeated_hour() -> None:
    """00:00-01:30 on the fall-back night: at 01:10 EST (second pass) the window ends at 01:30
    EST, an hour after 01:30 EDT; the rule used to give a bound already past (no answer)."""
    ny = ZoneInfo("America/New_York")
    window = InconvenientTime(person_id="p", start=time(0), end=time(1, 30))
    facts = Facts(people=(_person(("America/New_York",)),), debts=(_us_debt(FALL_BACK),),
                  inconvenient_times=(window,))
    second_pass = datetime(2025, 11, 2, 1, 10, tzinfo=ny, fold=1)
    decision = engine.decide(_call(OWN_NAME), facts, packs.get("us"), second_pass)
    assert _rules(decision) == {"us.house.named_inconvenient_time"}
    assert decision.next_allowed_at == datetime(2025, 11, 2, 6, 30, tzinfo=UTC)  # 01:30 EST


def test_us_9_evening_to_morning_window() -> None:
    """'Don't call me after 6 p.m. or before 9 a.m.' recorded as one window 18:00-09:00."""
    chicago = ZoneInfo("America/Chicago")
    window = InconvenientTime(person_id="p", start=time(18), end=time(9))
    facts = Facts(people=(_person(("America/Chicago",)),),
                  debts=(_us_debt(datetime(2025, 1, 1, tzinfo=UTC)),),
                  inconvenient_times=(window,))
    us = packs.get("us")
    evening = engine.decide(_call(), facts, us, datetime(2025, 6, 3, 19, 0, tzinfo=chicago))
    assert _rules(evening) == {NAMED}
    assert evening.next_allowed_at == datetime(2025, 6, 4, 9, 0, tzinfo=chicago)
    morning = engine.decide(_call(), facts, us, datetime(2025, 6, 4, 8, 30, tzinfo=chicago))
    assert _rules(morning) == {NAMED}
    assert morning.next_allowed_at == datetime(2025, 6, 4, 9, 0, tzinfo=chicago)
    assert engine.decide(_call(), facts, us, datetime(2025, 6, 4, 12, 0, tzinfo=chicago)).allowed


def test_us_9_consent_starting_inside_a_named_window_opens_it() -> None:
    """1006.6(b)(4): the consumer's direct consent lifts a named window; when such a consent
    starts before the window ends, next_allowed_at is its start, not the window's end."""
    chicago = ZoneInfo("America/Chicago")
    window = InconvenientTime(person_id="p", start=time(12), end=time(18))
    noon = datetime(2025, 6, 3, 12, 0, tzinfo=chicago)
    consent = Consent(person_id="p", scope=ConsentScope.HOURS, given_at=noon - timedelta(days=1),
                      valid_from=noon + timedelta(hours=2), valid_until=noon + timedelta(hours=3),
                      actor_id="agent", organisation="ABC")
    facts = Facts(people=(_person(("America/Chicago",)),), debts=(_us_debt(noon),),
                  inconvenient_times=(window,), consents=(consent,))
    decision = engine.decide(_call(), facts, packs.get("us"), noon)
    assert _rules(decision) == {NAMED}
    assert decision.next_allowed_at == noon + timedelta(hours=2)


# --- US-22: five business days to assumed receipt, then 30 calendar days ----------------------

OPM_OBSERVED = {
    2021: ["01-01", "01-18", "02-15", "05-31", "06-18", "07-05", "09-06", "10-11", "11-11",
           "11-25", "12-24", "12-31"],
    2022: ["01-17", "02-21", "05-30", "06-20", "07-04", "09-05", "10-10", "11-11", "11-24",
           "12-26"],
    2023: ["01-02", "01-16", "02-20", "05-29", "06-19", "07-04", "09-04", "10-09", "11-10",
           "11-23", "12-25"],
    2024: ["01-01", "01-15", "02-19", "05-27", "06-19", "07-04", "09-02", "10-14", "11-11",
           "11-28", "12-25"],
    2025: ["01-01", "01-20", "02-17", "05-26", "06-19", "07-04", "09-01", "10-13", "11-11",
           "11-27", "12-25"],
    2026: ["01-01", "01-19", "02-16", "05-25", "06-19", "07-03", "09-07", "10-12", "11-11",
           "11-26", "12-25"],
}
"""Federal holidays as observed (OPM tables): the weekdays 5 U.S.C. 6103 takes off."""


def test_us_22_weekday_holidays_match_the_observed_federal_calendar() -> None:
    for year, days in OPM_OBSERVED.items():
        weekdays = {d for d in us_federal_holidays(year) if d.weekday() < 5 and d.year == year}
        assert weekdays == {date.fromisoformat(f"{year}-{d}") for d in days}, year


@SETTINGS
@given(sent=st.dates(min_value=date(2021, 1, 1), max_value=date(2026, 11, 30)))
def test_us_22_receipt_is_the_fifth_business_day_after_sending(sent: date) -> None:
    receipt = add_us_business_days(sent, 5)
    between = [sent + timedelta(days=i) for i in range(1, (receipt - sent).days + 1)]
    observed = {date.fromisoformat(f"{d.year}-{m}") for d in between
                for m in OPM_OBSERVED.get(d.year, [])}
    business = [d for d in between if d.weekday() < 5 and d not in observed]
    assert len(business) == 5 and business[-1] == receipt
    assert is_us_business_day(receipt)
    assert validation_period_end(sent) == receipt + timedelta(days=30)  # no weekend roll


def test_us_22_observed_christmas_2022_both_settings() -> None:
    """rules.md US-22 edge: Christmas 2022 fell on Sunday, observed Monday 12-26 [U]. By
    default the later date is preferred (the observed day is excluded); the parameter turns
    that off, and the notice check follows it."""
    assert add_us_business_days(date(2022, 12, 19), 5) == date(2022, 12, 27)
    assert validation_period_end(date(2022, 12, 19)) == date(2023, 1, 26)
    assert add_us_business_days(date(2022, 12, 19), 5, observed=False) == date(2022, 12, 26)
    assert validation_period_end(date(2022, 12, 19), observed_holidays=False) == date(2023, 1, 25)
    assert validation_period_end(date(2025, 3, 5), observed_holidays=False) == date(2025, 4, 11)

    chicago = ZoneInfo("America/Chicago")
    sent = datetime(2022, 12, 19, 10, 0, tzinfo=chicago)
    facts = Facts(people=(_person(("America/Chicago",)),),
                  debts=(Debt(debt_id="D1", initial_communication_at=sent),))
    rule = "us.regf.validation_notice_content"
    literal = us.pack(dataclasses.replace(us.DEFAULT_PARAMS, exclude_observed_holidays=False))
    for printed, default_ok, literal_ok in (
        (date(2023, 1, 25), False, True),
        (date(2023, 1, 26), True, True),
    ):
        notice = _validation_notice(printed)
        assert (rule not in _rules(engine.decide(notice, facts, packs.get("us"), sent))) == (
            default_ok)
        assert (rule not in _rules(engine.decide(notice, facts, literal, sent))) == literal_ok


def _validation_notice(printed: date) -> Action:
    zero = Money(Decimal("0"), "USD")
    return Action(
        kind=ActionKind.LETTER, actor=FIRM, purpose=Purpose.VALIDATION_NOTICE,
        recipient=Recipient(person_id="p", role=Role.BORROWER), debt_ids=("D1",),
        notice=ValidationNoticeContent(
            period_end_on=printed, itemization_amount=Money(Decimal("100"), "USD"),
            interest=zero, fees=zero, payments=zero, credits=zero,
            current_amount=Money(Decimal("100"), "USD")),
    )


# --- CN-1: no collection 22:00-08:00 ------------------------------------------------------------

CN_ZONES = ["Asia/Shanghai", "Asia/Urumqi", "America/Vancouver", "Europe/London",
            "Australia/Sydney"]


def _cn_facts(zones: tuple[str, ...], attempts: tuple[Attempt, ...] = ()) -> Facts:
    return Facts(people=(_person(zones),), debts=(Debt(debt_id="D1", creditor="bank"),),
                 attempts=attempts)


LENDER = Actor(actor_id="lender-7", kind=ActorKind.INTERNAL, organisation="bank")
AGENCY = Actor(actor_id="agency-1", kind=ActorKind.AGENCY, organisation="agency")


@SETTINGS
@given(zones=st.lists(st.sampled_from(CN_ZONES), max_size=2, unique=True),
       beijing_too=st.booleans(), when=seconds, start=st.sampled_from(STARTS))
def test_cn_1_hours_in_every_zone_both_settings(
    zones: list[str], beijing_too: bool, when: int, start: datetime
) -> None:
    """CN-1: [08:00, 22:00) in each zone the debtor may be in (Beijing time when none is
    known); `also_beijing_time` [U] adds Beijing time."""
    at = start + timedelta(seconds=when)
    params = dataclasses.replace(cn.DEFAULT_PARAMS, also_beijing_time=beijing_too)
    decision = engine.decide(_call(LENDER), _cn_facts(tuple(zones)), cn.pack(params), at)
    judged = set(zones) or {"Asia/Shanghai"}
    if beijing_too:
        judged.add("Asia/Shanghai")
    closed = {z for z in judged
              if not time(8) <= at.astimezone(ZoneInfo(z)).time().replace(tzinfo=None)
              < time(22)}
    assert (CN_HOURS in _rules(decision)) == bool(closed)


@SETTINGS
@given(day=st.dates(min_value=date(2025, 3, 1), max_value=date(2027, 12, 31)))
def test_cn_1_boundaries(day: date) -> None:
    bj = ZoneInfo("Asia/Shanghai")
    facts = _cn_facts(("Asia/Shanghai",))
    pack = packs.get("cn")
    tick = timedelta(microseconds=1)
    ten_pm = datetime.combine(day, time(22), bj)
    eight = datetime.combine(day, time(8), bj)
    assert CN_HOURS not in _rules(engine.decide(_call(LENDER), facts, pack, ten_pm - tick))
    late = engine.decide(_call(LENDER), facts, pack, ten_pm)
    assert CN_HOURS in _rules(late)
    assert late.next_allowed_at == eight + timedelta(days=1)
    assert CN_HOURS in _rules(engine.decide(_call(LENDER), facts, pack, eight - tick))
    assert CN_HOURS not in _rules(engine.decide(_call(LENDER), facts, pack, eight))


# --- CN-2: daily caps per Beijing calendar day --------------------------------------------------

cn_history_st = st.lists(
    st.tuples(minutes, st.sampled_from(CALL_OUTCOMES), st.sampled_from([LENDER, AGENCY]),
              st.sampled_from(["m1", "m2"]),
              st.sampled_from([Direction.OUTBOUND, Direction.OUTBOUND, Direction.INBOUND])),
    max_size=40,
)


@SETTINGS
@given(history=cn_history_st, when=seconds, start=st.sampled_from(STARTS),
       tz=st.sampled_from(CN_ZONES), later=st.booleans())
def test_cn_2_caps_count_one_beijing_day_up_to_the_instant(
    history: list[tuple[int, Outcome, Actor, str, Direction]], when: int, start: datetime,
    tz: str, later: bool,
) -> None:
    """CN-2: 3 connected calls per debtor per Beijing day (lender and agency together), 6
    unanswered attempts per number; calls after the instant judged (a history recorded later,
    `later`) do not count against it."""
    bj = ZoneInfo("Asia/Shanghai")
    at = start + timedelta(seconds=when)
    attempts = tuple(
        _attempt(start + timedelta(minutes=m), o, d, actor, point)
        for m, o, actor, point, d in history
        if later or start + timedelta(minutes=m) <= at
    )
    decision = engine.decide(_call(LENDER), _cn_facts((tz,), attempts), packs.get("cn"), at)
    day = at.astimezone(bj).date()
    today = [a for a in attempts if a.at.astimezone(bj).date() == day and a.at <= at
             and a.direction is Direction.OUTBOUND]
    connected = sum(a.outcome in (Outcome.ANSWERED, Outcome.CONVERSATION) for a in today)
    unanswered = sum(a.outcome in (Outcome.NOT_CONNECTED, Outcome.UNANSWERED, Outcome.VOICEMAIL)
                     and a.contact_point == "m1" for a in today)
    assert (CN_FREQ in _rules(decision)) == (connected >= 3 or unanswered >= 6)
    for violation in decision.violations:
        if violation.rule_id == CN_FREQ:
            number = connected if connected >= 3 else unanswered
            assert violation.detail_en.startswith(f"{number} ")
            assert str(day) in violation.detail_en


# --- CN-3 [U]: a configurable interval between collection contacts on one debt ----------------

CN_INTERVAL = "cn.gbt45251.collection_interval"
interval_history_st = st.lists(
    st.tuples(minutes, st.sampled_from([LENDER, AGENCY]),
              st.sampled_from([Outcome.ANSWERED, Outcome.ANSWERED, Outcome.NOT_CONNECTED,
                               Outcome.UNDELIVERABLE, Outcome.UNANSWERED]),
              st.sampled_from([Direction.OUTBOUND, Direction.OUTBOUND, Direction.INBOUND]),
              st.sampled_from([Purpose.COLLECTION, Purpose.COLLECTION, Purpose.REMINDER]),
              st.sampled_from([("D1",), ("D2",), ("D1", "D2")])),
    max_size=12,
)


@SETTINGS
@given(history=interval_history_st, when=seconds, start=st.sampled_from(STARTS),
       days=st.integers(1, 9), purpose=st.sampled_from([Purpose.COLLECTION, Purpose.REMINDER]))
def test_cn_3_interval_counts_beijing_natural_days_since_the_last_collection_contact(
    history: list[tuple[int, Actor, Outcome, Direction, Purpose, tuple[str, ...]]], when: int,
    start: datetime, days: int, purpose: Purpose,
) -> None:
    """CN-3 [U], when configured: a collection contact about a debt waits `days` Beijing
    natural days after the last outbound collection contact about it, by the lender or an
    agency (day 1 is that contact's day); reminders, the debtor's own calls, attempts that
    reached no one (a dead number, a bounced message), other debts and contacts after the
    instant do not count; off, the rule is not in the pack."""
    bj = ZoneInfo("Asia/Shanghai")
    at = start + timedelta(seconds=when)
    attempts = tuple(
        dataclasses.replace(_attempt(start + timedelta(minutes=m), outcome, d, actor),
                            purpose=p, debt_ids=debt_ids)
        for m, actor, outcome, d, p, debt_ids in history)
    action = dataclasses.replace(_call(LENDER), purpose=purpose)
    params = dataclasses.replace(cn.DEFAULT_PARAMS, collection_interval_days=days)
    facts = _cn_facts(("Asia/Shanghai",), attempts)
    decision = engine.decide(action, facts, cn.pack(params), at)
    counted = [a.at for a in attempts if a.direction is Direction.OUTBOUND and a.at <= at
               and a.purpose is Purpose.COLLECTION and "D1" in a.debt_ids
               and a.outcome not in (Outcome.NOT_CONNECTED, Outcome.UNDELIVERABLE)]
    waits = (purpose is Purpose.COLLECTION and bool(counted) and at.astimezone(bj).date()
             < max(counted).astimezone(bj).date() + timedelta(days=days))
    assert (CN_INTERVAL in _rules(decision)) == waits
    if waits:
        resume = datetime.combine(max(counted).astimezone(bj).date() + timedelta(days=days),
                                  time(0), bj)
        [violation] = [v for v in decision.violations if v.rule_id == CN_INTERVAL]
        assert violation.detail_en.endswith(f"may be made from {resume.date()}")
        assert decision.next_allowed_at is None or decision.next_allowed_at >= resume
    assert CN_INTERVAL not in _rules(engine.decide(action, facts, packs.get("cn"), at))


@pytest.mark.parametrize("days", [0, -1, 7.5, "7", True])
def test_cn_3_interval_must_be_whole_days_one_or_more(days: object) -> None:
    with pytest.raises(ValueError, match="collection_interval_days"):
        cn.CNParams(collection_interval_days=days)  # type: ignore[arg-type]


# --- all US time rules together: the engine's next_allowed_at stays exact ---------------------

consents_st = st.lists(
    st.tuples(st.integers(0, 14 * 24 * 60), st.integers(0, 3 * 24 * 60),
              st.integers(1, 9 * 24 * 60),
              st.sampled_from([ConsentScope.CALLS, ConsentScope.HOURS]), st.booleans()),
    max_size=3,
)


@SETTINGS
@given(start=st.sampled_from(STARTS), zones=st.lists(st.sampled_from(US_ZONES), min_size=1,
                                                    max_size=2, unique=True),
       history=history_st, consents=consents_st, begin=walls, end=walls, when=seconds)
def test_us_next_allowed_is_exact_with_consents_and_named_windows(
    start: datetime, zones: list[str], history: list[tuple[int, Outcome, Direction]],
    consents: list[tuple[int, int, int, ConsentScope, bool]], begin: time, end: time, when: int,
) -> None:
    at = start + timedelta(seconds=when)
    facts = Facts(
        people=(_person(tuple(zones)),), debts=(_us_debt(start),),
        attempts=tuple(_attempt(start + timedelta(minutes=m), o, d) for m, o, d in history
                       if start + timedelta(minutes=m) <= at),
        consents=tuple(
            Consent(person_id="p", scope=scope, given_at=start + timedelta(minutes=g),
                    valid_from=start + timedelta(minutes=g + lag),
                    valid_until=start + timedelta(minutes=g + lag + span),
                    actor_id="agent" if direct else "", organisation="ABC" if direct else "")
            for g, lag, span, scope, direct in consents
        ),
        inconvenient_times=(InconvenientTime(person_id="p", start=begin, end=end,
                                             weekdays=(0, 2, 4)),),
    )
    us = packs.get("us")
    decision = engine.decide(_call(), facts, us, at)
    if decision.allowed or decision.next_allowed_at is None:
        return
    later = decision.next_allowed_at
    assert later > at
    assert engine.decide(_call(), facts, us, later).allowed
    if later - timedelta(seconds=1) >= at:
        assert not engine.decide(_call(), facts, us, later - timedelta(seconds=1)).allowed


def test_cn_2_agreement_later_today_lifts_the_unanswered_cap_then() -> None:
    """CN-2(b) "unless otherwise agreed with the debtor": six unanswered attempts by 14:00 and
    the debtor agreed to a call at 17:00 -> next_allowed_at is 17:00, not tomorrow 08:00."""
    bj = ZoneInfo("Asia/Shanghai")
    six = tuple(_attempt(datetime(2025, 6, 2, 9 + i, 0, tzinfo=bj), Outcome.UNANSWERED,
                         actor=LENDER) for i in range(6))
    agreed = Consent(person_id="p", scope=ConsentScope.CALLS,
                     given_at=datetime(2025, 6, 2, 9, 30, tzinfo=bj),
                     valid_from=datetime(2025, 6, 2, 17, 0, tzinfo=bj),
                     valid_until=datetime(2025, 6, 2, 18, 0, tzinfo=bj), actor_id="lender-7")
    facts = dataclasses.replace(_cn_facts(("Asia/Shanghai",), six), consents=(agreed,))
    decision = engine.decide(_call(LENDER), facts, packs.get("cn"),
                             datetime(2025, 6, 2, 15, 0, tzinfo=bj))
    assert _rules(decision) == {CN_FREQ}
    assert decision.next_allowed_at == datetime(2025, 6, 2, 17, 0, tzinfo=bj)


@SETTINGS
@given(start=st.sampled_from(STARTS), tz=st.sampled_from(CN_ZONES), history=cn_history_st,
       consents=consents_st, when=seconds)
def test_cn_next_allowed_is_exact_with_consents(
    start: datetime, tz: str, history: list[tuple[int, Outcome, Actor, str, Direction]],
    consents: list[tuple[int, int, int, ConsentScope, bool]], when: int,
) -> None:
    """CN-1 and CN-2 together, with agreements to call (CN-2(b) "unless agreed") and to call
    out of hours (CN-1): next_allowed_at is the first instant the call passes."""
    at = start + timedelta(seconds=when)
    facts = dataclasses.replace(
        _cn_facts((tz,), tuple(
            _attempt(start + timedelta(minutes=m), o, d, actor, point)
            for m, o, actor, point, d in history if start + timedelta(minutes=m) <= at)),
        consents=tuple(
            Consent(person_id="p", scope=scope, given_at=start + timedelta(minutes=g),
                    valid_from=start + timedelta(minutes=g + lag),
                    valid_until=start + timedelta(minutes=g + lag + span),
                    actor_id="lender-7" if direct else "")
            for g, lag, span, scope, direct in consents
        ),
    )
    pack = packs.get("cn")
    decision = engine.decide(_call(LENDER), facts, pack, at)
    if decision.allowed or decision.next_allowed_at is None:
        return
    later = decision.next_allowed_at
    assert later > at
    assert engine.decide(_call(LENDER), facts, pack, later).allowed
    if later - timedelta(seconds=1) >= at:
        assert not engine.decide(_call(LENDER), facts, pack, later - timedelta(seconds=1)).allowed
