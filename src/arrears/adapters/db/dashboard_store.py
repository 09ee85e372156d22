"""The dashboards' aggregates on SQLAlchemy Core (`DashboardStore`): one grouped query per
figure, so a dashboard costs the same on a book of a hundred cases or a million."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

import sqlalchemy as sa

from arrears.adapters.db import collections_tables as ct
from arrears.adapters.db.messages import utc
from arrears.application.dashboards import (
    ActionDay,
    AgencyPlacements,
    BucketCases,
    CollectorLoad,
    RuleBlocks,
)

HELD_BACK = ("rescheduled", "cancelled")


class SqlDashboards:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def open_cases_by_bucket(self) -> list[BucketCases]:
        case = ct.collection_case.c
        rows = self.connection.execute(
            sa.select(case.bucket, sa.func.count(), sa.func.coalesce(sa.func.sum(case.balance),
                                                                     0))
            .where(case.status == "open").group_by(case.bucket))
        return [BucketCases(bucket=bucket, cases=int(n), balance=int(total))
                for bucket, n, total in rows]

    def collector_loads(self, since: datetime) -> list[CollectorLoad]:
        collector, case = ct.collector.c, ct.collection_case.c
        log, promise = ct.contact_log.c, ct.promise.c
        cases = {collector_id: int(n) for collector_id, n in self.connection.execute(
            sa.select(case.collector_id, sa.func.count())
            .where(case.status == "open", case.collector_id.is_not(None))
            .group_by(case.collector_id))}
        contacts = {actor: int(n) for actor, n in self.connection.execute(
            sa.select(log.actor, sa.func.count()).where(log.at >= utc(since))
            .group_by(log.actor))}
        promises: dict[str, dict[str, int]] = defaultdict(dict)
        for ref, status, n in self.connection.execute(
                sa.select(promise.collector_ref, promise.status, sa.func.count())
                .where(promise.made_at >= utc(since))
                .group_by(promise.collector_ref, promise.status)):
            promises[ref][status] = int(n)
        return [CollectorLoad(
            collector_ref=row.collector_ref, name=row.name, capacity=row.capacity,
            active=bool(row.active), open_cases=cases.get(row.id, 0),
            contacts=contacts.get(row.collector_ref, 0),
            promises_kept=promises[row.collector_ref].get("kept", 0),
            promises_broken=promises[row.collector_ref].get("broken", 0),
            promises_open=promises[row.collector_ref].get("open", 0))
            for row in self.connection.execute(
                sa.select(ct.collector).order_by(collector.collector_ref))]

    def agency_placements(self, first: date, last: date) -> list[AgencyPlacements]:
        agency, p = ct.agency.c, ct.placement.c
        in_force = sa.and_(p.placed_on <= last, p.ends_on >= last,
                           sa.or_(p.recalled_on.is_(None), p.recalled_on > last))

        def counted(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
            return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)

        rows = self.connection.execute(
            sa.select(agency.agency_ref, agency.name, agency.capacity, counted(in_force),
                      counted(p.placed_on.between(first, last)),
                      counted(p.recalled_on.between(first, last)))
            .select_from(ct.agency.outerjoin(ct.placement, p.agency_id == agency.id))
            .group_by(agency.id, agency.agency_ref, agency.name, agency.capacity)
            .order_by(agency.agency_ref))
        return [AgencyPlacements(agency_ref=ref, name=name, capacity=int(capacity),
                                 in_force=int(now), placed=int(placed), recalled=int(recalled))
                for ref, name, capacity, now, placed, recalled in rows]

    def actions_by_day(self, first: date, last: date) -> list[ActionDay]:
        action = ct.collection_action.c
        planned: dict[date, int] = defaultdict(int)
        held: dict[date, dict[str, int]] = defaultdict(lambda: dict.fromkeys(HELD_BACK, 0))
        # Held back means a rule said so: an action cancelled for want of an address is not.
        by_rule = sa.and_(action.rule_ids != "", action.status.in_(HELD_BACK))
        for day, status, n, blocked in self.connection.execute(
                sa.select(action.business_date, action.status, sa.func.count(),
                          sa.func.coalesce(sa.func.sum(sa.case((by_rule, 1), else_=0)), 0))
                .where(action.business_date.between(first, last))
                .group_by(action.business_date, action.status)):
            planned[day] += int(n)
            if status in HELD_BACK:
                held[day][status] = int(blocked)
        return [ActionDay(day=day, planned=n, rescheduled=held[day]["rescheduled"],
                          cancelled=held[day]["cancelled"])
                for day, n in sorted(planned.items())]

    def blocks_by_rule(self, first: date, last: date) -> list[RuleBlocks]:
        action = ct.collection_action.c
        counts: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(HELD_BACK, 0))
        # Grouped by the stored rule list: the distinct lists are few, each split once here.
        for status, rule_ids, n in self.connection.execute(
                sa.select(action.status, action.rule_ids, sa.func.count())
                .where(action.business_date.between(first, last), action.rule_ids != "",
                       action.status.in_(HELD_BACK))
                .group_by(action.status, action.rule_ids)):
            for rule_id in rule_ids.split(","):
                counts[rule_id][status] += int(n)
        found = [RuleBlocks(rule_id=rule_id, rescheduled=c["rescheduled"],
                            cancelled=c["cancelled"]) for rule_id, c in counts.items()]
        return sorted(found, key=lambda r: (-r.total, r.rule_id))
