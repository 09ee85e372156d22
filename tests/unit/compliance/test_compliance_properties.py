"""Properties: next_allowed_at is allowed (and exact); more history never unblocks frequency."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arrears.compliance import engine, packs
from arrears.compliance.facts import Attempt, ContactPoint, Debt, Facts, Outcome, Person
from arrears.compliance.model import Action, ActionKind, Actor, ActorKind, Recipient, Role

ZONES = ["America/New_York", "America/Chicago", "America/Los_Angeles", "Asia/Shanghai",
         "Europe/London", "America/Vancouver", "Pacific/Honolulu"]
OUTCOMES = [Outcome.NOT_CONNECTED, Outcome.UNANSWERED, Outcome.VOICEMAIL, Outcome.ANSWERED,
            Outcome.CONVERSATION]
START = datetime(2025, 3, 1, tzinfo=UTC)  # spans the US DST change on 2025-03-09
FREQUENCY = {"us.regf.call_frequency_7in7", "us.regf.call_after_conversation",
             "cn.gbt45251.call_frequency"}

minutes = st.integers(min_value=0, max_value=14 * 24 * 60)
attempts = st.lists(
    st.tuples(minutes, st.sampled_from(OUTCOMES), st.sampled_from(["a", "b"]),
              st.sampled_from(["m1", "m2"])),
    max_size=25,
)


def _facts(zones: list[str], history: list[tuple[int, Outcome, str, str]], upto: datetime) -> Facts:
    return Facts(
        people=(Person(person_id="p", role=Role.BORROWER, zones=tuple(zones),
                       contact_points=(ContactPoint(id="m1", kind="cell"),
                                       ContactPoint(id="m2", kind="cell"))),),
        debts=(Debt(debt_id="D1", initial_communication_at=START - timedelta(days=30),
                    validation_sent_on=(START - timedelta(days=29)).date()),),
        attempts=tuple(
            Attempt(at=START + timedelta(minutes=m), channel=ActionKind.CALL, actor_id=actor,
                    person_id="p", debt_ids=("D1",), outcome=outcome, contact_point=point)
            for m, outcome, actor, point in history
            if START + timedelta(minutes=m) < upto
        ),
    )


def _call(actor: str = "a") -> Action:
    return Action(kind=ActionKind.CALL, actor=Actor(actor_id=actor, kind=ActorKind.AGENCY),
                  recipient=Recipient(person_id="p", role=Role.BORROWER, contact_point="m1"),
                  debt_ids=("D1",))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pack=st.sampled_from(["us", "cn"]),
    zones=st.lists(st.sampled_from(ZONES), min_size=1, max_size=3, unique=True),
    history=attempts,
    when=st.integers(min_value=0, max_value=16 * 24 * 60 * 60),
)
def test_next_allowed_at_is_allowed_and_exact(
    pack: str, zones: list[str], history: list[tuple[int, Outcome, str, str]], when: int
) -> None:
    at = START + timedelta(seconds=when)
    facts = _facts(zones, history, at)
    rules = packs.get(pack)
    decision = engine.decide(_call(), facts, rules, at)
    if decision.allowed or decision.next_allowed_at is None:
        return
    later = decision.next_allowed_at
    assert later > at
    assert engine.decide(_call(), facts, rules, later).allowed
    just_before = later - timedelta(seconds=1)
    if just_before >= at:
        assert not engine.decide(_call(), facts, rules, just_before).allowed


@settings(max_examples=300, deadline=None)
@given(
    pack=st.sampled_from(["us", "cn"]),
    zone=st.sampled_from(ZONES),
    history=attempts,
    extra=attempts,
    when=st.integers(min_value=0, max_value=16 * 24 * 60 * 60),
)
def test_more_history_never_unblocks_a_frequency_rule(
    pack: str,
    zone: str,
    history: list[tuple[int, Outcome, str, str]],
    extra: list[tuple[int, Outcome, str, str]],
    when: int,
) -> None:
    at = START + timedelta(seconds=when)
    rules = packs.get(pack)
    before = engine.decide(_call(), _facts([zone], history, at), rules, at)
    blocked = {v.rule_id for v in before.violations} & FREQUENCY
    if not blocked:
        return
    after = engine.decide(_call(), _facts([zone], history + extra, at), rules, at)
    assert blocked <= {v.rule_id for v in after.violations}
