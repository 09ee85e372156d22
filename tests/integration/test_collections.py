"""Collections end to end on a synthetic book: EOD each day, then cases, strategies and the
worker to local sinks; agencies see only their placed cases; nothing leaves outside hours."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from arrears.adapters.channels.config import ChannelSettings, build_channels
from arrears.adapters.channels.render import JinjaRenderer
from arrears.adapters.db import collections_tables as ct
from arrears.adapters.db.messages import aware
from arrears.adapters.db.payment_import_store import SqlPaymentImportUnitOfWorkFactory
from arrears.application import collections_demo, demo
from arrears.application.handlers import collections as handlers
from arrears.application.strategy import parse_strategy_text
from arrears.domain.errors import DomainError

from outbox_support import SHANGHAI
from shipped import default_products

START = date(2026, 1, 1)
DAYS = 100


@pytest.fixture
def book(services, tmp_path):  # noqa: ANN001, ANN201
    collections_demo.setup(uow_factory=services.uow_factory, start=START)
    channels = build_channels(ChannelSettings(sink_dir=tmp_path / "sinks"), services.engine,
                              services.clock)
    renderer = JinjaRenderer()
    planned = demo.plan_book(150, DAYS, START, seed=11)
    demo.simulate(planned, START, DAYS, default_products(), uow_factory=services.uow_factory,
                  paying=SqlPaymentImportUnitOfWorkFactory(services.engine),
                  clock=services.clock,
                  write_off_dpd=180,
                  on_day=lambda day: collections_demo.run_day(
                      day, uow_factory=services.uow_factory, clock=services.clock,
                      renderer=renderer, channels=channels))
    for channel in channels.values():
        channel.close()
    return services, tmp_path / "sinks"


def test_demo_book_collections(book) -> None:  # noqa: ANN001
    services, sinks = book
    summary = collections_demo.summary(uow_factory=services.uow_factory)
    by_channel = summary["messages_by_channel"]
    assert by_channel["sms"]["delivered"] > 50
    assert by_channel["call"]["delivered"] > 0 and by_channel["letter"]["delivered"] > 0
    assert any(queue.startswith("agency:AG-HUAXIN") for queue in summary["cases_by_queue"])
    assert not any("UNLISTED" in queue for queue in summary["cases_by_queue"])
    assert (sinks / "sms.jsonl").read_text(encoding="utf-8").count("\n") == \
        by_channel["sms"]["delivered"]
    with services.engine.connect() as connection:
        delivered = connection.execute(sa.select(ct.message.c.delivered_at).where(
            ct.message.c.status == "delivered")).scalars().all()
        arms = dict(connection.execute(sa.select(ct.collection_action.c.arm, sa.func.count())
                                       .group_by(ct.collection_action.c.arm)).all())
    for at in delivered:
        local = aware(at).astimezone(SHANGHAI)
        assert 8 <= local.hour < 22
    assert arms["champion"] > arms.get("challenger", 0) > 0
    # A re-run of a date adds nothing.
    last = START + timedelta(days=DAYS - 1)
    again = handlers.run_strategies(last, uow_factory=services.uow_factory,
                                    clock=services.clock, renderer=JinjaRenderer())
    assert sum(again.actions.values()) == 0
    # An agency sees only the cases placed with it, only while placed.
    placed = handlers.agency_cases("AG-HUAXIN", last, uow_factory=services.uow_factory)
    assert placed and all(case["scope"] == "remote" for case in placed)
    assert handlers.agency_cases("AG-UNLISTED", last, uow_factory=services.uow_factory) == []
    case_id = placed[0]["case_id"]
    assert handlers.recall_case(case_id, last, by="web:sup", uow_factory=services.uow_factory,
                                clock=services.clock)
    after = handlers.agency_cases("AG-HUAXIN", last, uow_factory=services.uow_factory)
    assert case_id not in {case["case_id"] for case in after}
    _check_blocked_actions_are_rescheduled_or_cancelled(services)


LATE_NIGHT = """
name = "late-night"
product = "WLD-DAILY"
send_time = "23:00"
[[champion]]
name = "sms-late"
kind = "sms"
from = 1
to = 400
template = "overdue"
[[champion]]
name = "visit"
kind = "field_visit"
from = 1
to = 400
"""


def _check_blocked_actions_are_rescheduled_or_cancelled(services) -> None:  # noqa: ANN001
    last = START + timedelta(days=DAYS - 1)
    strategy = parse_strategy_text(LATE_NIGHT)
    report = handlers.run_strategies(last, uow_factory=services.uow_factory,
                                     clock=services.clock, renderer=JinjaRenderer(),
                                     strategies={"WLD-DAILY": strategy})
    assert report.blocked["cn.gbt45251.collection_hours"] > 0
    assert report.blocked["cn.cba2026.field_visit"] > 0
    blocked = collections_demo.summary(uow_factory=services.uow_factory)["blocked_by_rule"]
    assert blocked["cn.gbt45251.collection_hours"]["rescheduled"] > 0
    assert blocked["cn.cba2026.field_visit"]["cancelled"] > 0
    with services.engine.connect() as connection:
        rows = connection.execute(
            sa.select(ct.collection_action.c.scheduled_at, ct.message.c.next_attempt_at,
                      ct.collection_action.c.reason)
            .join(ct.message, ct.message.c.message_id == ct.collection_action.c.message_id)
            .where(ct.collection_action.c.step == "sms-late")).all()
    assert rows
    for scheduled_at, next_attempt_at, reason in rows:
        # 23:00 is inside the quiet hours: the message waits for 08:00 the next morning.
        assert aware(scheduled_at) == aware(next_attempt_at)
        assert aware(scheduled_at).astimezone(SHANGHAI).time().hour == 8
        assert "cn.gbt45251.collection_hours" in reason


def test_agency_terms_are_validated(services) -> None:  # noqa: ANN001
    agency = handlers.Agency(agency_ref="AG-X", name="X", licence_no="L-1",
                             licence_valid_from=START, licence_valid_until=START, whitelisted=True,
                             capacity=10, commission_rate=handlers.parse_rate("0.2"))
    with pytest.raises(DomainError) as error:
        handlers.add_agency(agency, jurisdiction="CN", uow_factory=services.uow_factory)
    assert error.value.field == "agency.fixed_fee"
    handlers.add_agency(agency, jurisdiction="US", uow_factory=services.uow_factory)


def test_the_simulation_spaces_cycle_collections_and_restores_them(services) -> None:  # noqa: ANN001
    # Even when a day fails: the thresholds are the process's, not the demo's.
    import gc

    before = gc.get_threshold()
    seen: list[tuple[int, int, int]] = []

    def day_that_fails_on_the_third(day: date) -> None:
        seen.append(gc.get_threshold())
        if day == START + timedelta(days=2):
            raise RuntimeError("the third day fails")

    with pytest.raises(RuntimeError):
        demo.simulate(demo.plan_book(5, 3, START, seed=3), START, 3, default_products(),
                      uow_factory=services.uow_factory,
                      paying=SqlPaymentImportUnitOfWorkFactory(services.engine),
                      clock=services.clock,
                      write_off_dpd=180, on_day=day_that_fails_on_the_third)
    assert len(seen) == 3
    assert all(t[0] == demo.YOUNG_OBJECTS_PER_COLLECTION for t in seen)
    assert gc.get_threshold() == before
