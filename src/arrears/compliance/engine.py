"""`decide(action, facts, pack, at) -> Decision`: run a pack's rules, fail closed, explain.

Every rule in force for the action's kind is evaluated; each returns None (satisfied) or a
`Finding`. Blocking findings become violations, review findings become flags. A rule that
raises blocks the action and is reported with its rule id (`error=True`).

When the action is blocked and every violation says when it could pass (`Finding.not_before`,
a lower bound), the engine searches forward: it re-evaluates at the latest such bound until
the action passes. Each step only skips instants at which some rule still fails, so
`next_allowed_at` is the exact earliest instant, across DST changes and rule windows alike.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from arrears.compliance import wording
from arrears.compliance.facts import ContactPoint, Debt, Facts, FactsIndex, Person
from arrears.compliance.model import (
    Action,
    Decision,
    Finding,
    Flag,
    Pack,
    Rule,
    Severity,
    Violation,
)
from arrears.compliance.predicates import local_midnight, require_aware, zone

SEARCH_STEPS = 64
"""At most this many re-evaluations when searching for `next_allowed_at`."""
SEARCH_HORIZON = timedelta(days=400)
"""No `next_allowed_at` further than this from `at` (a block that long is a block)."""


class Context:
    """Everything a rule reads for one evaluation, computed once and shared by all rules."""

    __slots__ = (
        "action",
        "facts",
        "index",
        "pack",
        "at",
        "ts",
        "person",
        "point",
        "debts",
        "memo",
        "zones",
        "home_zone",
        "firm_keys",
        "local",
        "_screen",
        "_day_starts",
    )

    def __init__(self, action: Action, facts: Facts, pack: Pack, at: datetime) -> None:
        self.action = action
        self.facts = facts
        self.index: FactsIndex = facts.index
        self.pack = pack
        self.person: Person | None = self.index.people.get(action.recipient.person_id)
        point: ContactPoint | None = None
        if self.person is not None and action.recipient.contact_point:
            point = self.person.contact_point(action.recipient.contact_point)
        self.point = point
        debts = self.index.debts
        self.debts: tuple[Debt, ...] = tuple(
            debts[debt_id] for debt_id in action.debt_ids if debt_id in debts
        )
        cache = self.index.zone_cache
        cache_key = f"{pack.code}\0{action.recipient.person_id}"
        zones = cache.get(cache_key)
        if zones is None:
            names = self.person.candidate_zones() if self.person is not None else ()
            zones = tuple(zone(name) for name in names or pack.fallback_zones)
            cache[cache_key] = zones
        self.zones: tuple[ZoneInfo, ...] = zones  # type: ignore[assignment]
        """The recipient's candidate zones, or the pack's fallback zones when none is known."""
        self.home_zone: ZoneInfo = self.zones[0]
        """The first candidate zone: the one dates in explanations are given in."""
        self.firm_keys: tuple[str, ...] = action.actor.history_keys
        """History buckets of the acting collector firm (`model.firm_key`)."""
        self._screen: wording.Screen | None = None
        self._set_time(at)

    def _set_time(self, at: datetime) -> None:
        self.at = at
        self.ts = at.timestamp()
        self.local: datetime = at.astimezone(self.home_zone)
        """`at` on the home zone's wall clock."""
        self.memo: dict[str, object] = {}
        """Per-evaluation cache rules may share (keyed by rule-module-chosen names)."""
        self._day_starts: dict[tuple[int, ZoneInfo], float] = {}

    def day_start(self, days_back: int = 0, tz: ZoneInfo | None = None) -> float:
        """Epoch seconds of local midnight in `tz` (the home zone unless given), `days_back`
        days before `at`'s date there."""
        zone = self.home_zone if tz is None else tz
        found = self._day_starts.get((days_back, zone))
        if found is None:
            day = self.at.astimezone(zone).date() - timedelta(days=days_back)
            found = self._day_starts[days_back, zone] = local_midnight(day, zone).timestamp()
        return found

    def firm_history(
        self, table: Mapping[Any, tuple[float, ...]], *key: str
    ) -> tuple[float, ...]:
        """Sorted stamps of `table[(firm, *key)]` over the acting firm's history buckets."""
        found = [stamps for firm in self.firm_keys if (stamps := table.get((firm, *key)))]
        if len(found) < 2:
            return found[0] if found else ()
        return tuple(sorted(found[0] + found[1]))

    def at_time(self, at: datetime) -> Context:
        """The same evaluation at another instant (sharing the zone and wording caches)."""
        other = copy.copy(self)
        other._set_time(at)
        return other

    @property
    def screen(self) -> wording.Screen:
        result = self._screen
        if result is None:
            result = wording.screen(self.action.content)
            self._screen = result
        return result


def _evaluate(
    rules: tuple[Rule, ...], context: Context, skipped: list[str] | None = None
) -> tuple[list[tuple[Rule, Finding, bool]], list[tuple[Rule, Finding]]]:
    """Run `rules`; rule ids whose scope excludes the action are appended to `skipped`."""
    blocking: list[tuple[Rule, Finding, bool]] = []
    review: list[tuple[Rule, Finding]] = []
    scopes: dict[object, bool] = {}
    for rule in rules:
        try:
            scope = rule.scope
            if scope is not None:
                applies = scopes.get(scope)
                if applies is None:
                    applies = scopes[scope] = scope(context)
                if not applies:
                    if skipped is not None:
                        skipped.append(rule.rule_id)
                    continue
            finding = rule.check(context)
        except Exception as error:  # noqa: BLE001 - fail closed on any rule error
            name = type(error).__name__
            blocking.append(
                (
                    rule,
                    Finding(
                        detail_en=f"the rule could not be evaluated ({name}: {error}); "
                        "the action is refused until it can",
                        detail_zh=f"规则无法评估（{name}: {error}），在能够评估之前拒绝该操作",
                    ),
                    True,
                )
            )
            continue
        if finding is None:
            continue
        if finding.severity is Severity.BLOCK:
            blocking.append((rule, finding, False))
        else:
            review.append((rule, finding))
    return blocking, review


def _in_force(pack: Pack, action: Action, at: datetime) -> tuple[Rule, ...]:
    return pack.rules_at(action.kind, at, bool(action.content))


def _next_allowed(
    context: Context,
    blocking: list[tuple[Rule, Finding, bool]],
) -> datetime | None:
    start = context.at
    current = context
    limit = start + SEARCH_HORIZON
    for _ in range(SEARCH_STEPS):
        bound: datetime | None = None
        for _rule, finding, errored in blocking:
            if errored or finding.not_before is None:
                return None
            if bound is None or finding.not_before > bound:
                bound = finding.not_before
        if bound is None or bound <= current.at or bound > limit:
            return None
        current = current.at_time(bound)
        blocking, _ = _evaluate(_in_force(context.pack, context.action, bound), current)
        if not blocking:
            return bound
    return None


def decide(action: Action, facts: Facts, pack: Pack, at: datetime) -> Decision:
    """Decide whether `action` may be taken at `at` under `pack`, and explain why not."""
    require_aware(at)
    rules = _in_force(pack, action, at)
    context = Context(action, facts, pack, at)
    skipped: list[str] = []
    blocking, review = _evaluate(rules, context, skipped)
    evaluated = pack.rule_ids(rules)
    if skipped:
        evaluated = tuple(rule_id for rule_id in evaluated if rule_id not in skipped)
    violations = () if not blocking else tuple(
        Violation(
            rule_id=rule.rule_id,
            ref=rule.ref,
            citation=rule.citation,
            reason_en=rule.reason_en,
            reason_zh=rule.reason_zh,
            detail_en=finding.detail_en,
            detail_zh=finding.detail_zh,
            matches=finding.matches,
            error=errored,
        )
        for rule, finding, errored in blocking
    )
    flags = () if not review else tuple(
        Flag(
            rule_id=rule.rule_id,
            ref=rule.ref,
            citation=rule.citation,
            reason_en=rule.reason_en,
            reason_zh=rule.reason_zh,
            detail_en=finding.detail_en,
            detail_zh=finding.detail_zh,
            matches=finding.matches,
        )
        for rule, finding in review
    )
    next_allowed = _next_allowed(context, blocking) if blocking else None
    return Decision(
        allowed=not blocking,
        at=at,
        pack=pack.code,
        pack_version=pack.version,
        violations=violations,
        flags=flags,
        next_allowed_at=next_allowed,
        evaluated=evaluated,
    )
