"""Strategies as data: validation names the field; arms are stable; steps fire on their days.
Delivery policy: exponential backoff and token-bucket rate limits on an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from arrears.application.notifications import DeliveryPolicy, RateLimit, RateLimiter
from arrears.application.strategy import (
    ARMS,
    StepKind,
    StrategyError,
    default_strategies,
    parse_strategy_text,
)

GOOD = """
name = "s"
product = "P"
challenger_percent = 30
[reminders]
channels = ["sms"]
[[champion]]
name = "call"
kind = "call"
from = 10
to = 30
every = 5
[[challenger]]
name = "call"
kind = "call"
day = 3
"""


@pytest.mark.parametrize(("text", "field"), [
    ('product = "P"', "strategy.name"),
    ('name = "s"\nproduct = "P"\ncolour = 1', "strategy.colour"),
    ('name = "s"\nproduct = "P"\n[[champion]]\nname = "x"\nkind = "fax"\nday = 1',
     "strategy.champion[0].kind"),
    ('name = "s"\nproduct = "P"\n[[champion]]\nname = "x"\nkind = "sms"',
     "strategy.champion[0].day"),
    ('name = "s"\nproduct = "P"\n[[champion]]\nname = "x"\nkind = "sms"\nday = "3"',
     "strategy.champion[0].day"),
    ('name = "s"\nproduct = "P"\n[[champion]]\nname = "x"\nkind = "legal_review"\nday = -2',
     "strategy.champion[0].day"),
    ('name = "s"\nproduct = "P"\nchallenger_percent = 120', "strategy.challenger_percent"),
    ('name = "s"\nproduct = "P"\nsend_time = "25:00"', "strategy.send_time"),
    ('name = "s"\nproduct = "P"\n[reminders]\nchannels = ["letter"]',
     "strategy.reminders.channels[0]"),
    ('name = "s"\nproduct = "P"\n[[champion]]\nname = "x"\nkind = "sms"\nday = 1\n'
     '[[champion]]\nname = "x"\nkind = "sms"\nday = 2', "strategy.champion[1].name"),
    ('name = "s"\nproduct = "P"\n[[champion]]\nname = "x"\nkind = "sms"\nfrom = 5\nto = 2',
     "strategy.champion[0].to"),
    ("name = [", "strategy"),
])
def test_errors_name_the_field(text: str, field: str) -> None:
    with pytest.raises(StrategyError) as error:
        parse_strategy_text(text)
    assert error.value.field == field


def test_steps_fire_on_their_days_and_reminders_come_from_the_product() -> None:
    strategy = parse_strategy_text(GOOD)
    fired = [(s.name, s.kind) for s in strategy.steps_for("champion", 15, (-3, 0, 1))]
    assert fired == [("call", StepKind.CALL)]
    assert strategy.steps_for("champion", 16, (-3, 0, 1)) == []
    reminders = strategy.steps_for("champion", -3, (-3, 0, 1))
    assert [(s.kind, s.template) for s in reminders] == [(StepKind.SMS, "reminder")]
    assert strategy.steps_for("challenger", 3, ())[0].name == "call"


@pytest.mark.parametrize("reminders", [(), (-3, 0, 1), (-7, 2, 400)])
def test_a_strategy_fires_on_exactly_its_fire_days(reminders: tuple[int, ...]) -> None:
    """The days planning reads loans for (`fire_days`) are those some step of an arm fires
    on: the shipped strategies and the example, with and without the product's reminders."""
    for strategy in (parse_strategy_text(GOOD), *default_strategies().values()):
        fired = {d for d in range(-100, 4000) for arm in ARMS
                 if strategy.steps_for(arm, d, reminders)}
        assert strategy.fire_days(reminders) == fired


def test_champion_challenger_split_is_stable_and_near_the_share() -> None:
    strategy = parse_strategy_text(GOOD)
    arms = [strategy.arm_of(f"DL-{i:06d}") for i in range(2000)]
    assert arms == [strategy.arm_of(f"DL-{i:06d}") for i in range(2000)]
    assert 0.26 < arms.count("challenger") / len(arms) < 0.34


def test_default_strategies_cover_the_default_products() -> None:
    strategies = default_strategies()
    assert set(strategies) == {"WLD-DAILY", "PHONE-24M"}
    kinds = {s.kind for s in strategies["WLD-DAILY"].arms["champion"]}
    assert {StepKind.CALL, StepKind.EMAIL, StepKind.LETTER, StepKind.AGENCY_PLACEMENT,
            StepKind.LEGAL_REVIEW, StepKind.FIELD_VISIT} <= kinds


def test_backoff_doubles_up_to_the_cap() -> None:
    policy = DeliveryPolicy(backoff_base=timedelta(seconds=30), backoff_cap=timedelta(minutes=3))
    delays = [policy.backoff("m", n) for n in range(1, 6)]
    assert delays == [timedelta(seconds=s) for s in (30, 60, 120, 180, 180)]
    jittered = DeliveryPolicy(backoff_base=timedelta(seconds=30), jitter=0.5)
    assert jittered.backoff("m", 2) == jittered.backoff("m", 2)
    assert timedelta(seconds=60) <= jittered.backoff("m", 2) <= timedelta(seconds=90)


def test_token_bucket_refills_with_the_clock() -> None:
    limiter = RateLimiter({"sms": RateLimit(per_window=2, window=timedelta(seconds=10))})
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    assert limiter.take("sms", t0) is None
    assert limiter.take("sms", t0) is None
    assert limiter.take("sms", t0) == t0 + timedelta(seconds=5)
    assert limiter.take("sms", t0 + timedelta(seconds=5)) is None
    assert limiter.take("email", t0) is None  # no limit set
