"""Rule checks shared by several packs, built from parameters (no pack-specific numbers here).

Each factory returns a `Check`: a function of the evaluation `Context` that returns None when
the rule is satisfied or a `Finding` explaining why not (and, when waiting helps, a lower bound
on when it could pass).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from arrears.compliance.engine import Context
from arrears.compliance.facts import Consent, ConsentScope, Debt, Dispute
from arrears.compliance.model import (
    ActionKind,
    Check,
    Finding,
    Purpose,
    Role,
    Severity,
    WordMatch,
    firm_key,
)
from arrears.compliance.predicates import (
    from_stamp,
    in_window,
    local_midnight,
    next_open_everywhere,
    stamps_between,
    wall_instant,
    zone,
)

DEBTOR_ROLES = frozenset({Role.BORROWER, Role.GUARANTOR})


def hhmm(value: time) -> str:
    return value.strftime("%H:%M")


def given_to_firm(context: Context, consent: Consent) -> bool:
    """Whether `consent` was given directly to the acting collector firm (US-4): to the firm,
    or to this very actor. A relayed consent names neither."""
    if not (consent.actor_id or consent.organisation):
        return False
    return firm_key(consent.actor_id, consent.organisation) in context.firm_keys


def consent_covers(
    context: Context, scope: ConsentScope, *, direct: bool, at: datetime | None = None
) -> bool:
    """Whether the recipient gave a consent of `scope` that covers `at` (default: the action's)."""
    moment = context.at if at is None else at
    person_id = context.action.recipient.person_id
    for consent in context.facts.consents:
        if consent.person_id != person_id or consent.scope is not scope:
            continue
        if direct and not given_to_firm(context, consent):
            continue
        if consent.given_at <= moment and consent.valid_from <= moment < consent.valid_until:
            return True
    return False


def next_consent_start(
    context: Context, scope: ConsentScope, *, direct: bool
) -> datetime | None:
    """The earliest future start of a consent of `scope` already on record."""
    person_id = context.action.recipient.person_id
    best: datetime | None = None
    for consent in context.facts.consents:
        if consent.person_id != person_id or consent.scope is not scope:
            continue
        if direct and not given_to_firm(context, consent):
            continue
        start = max(consent.valid_from, consent.given_at)
        if start > context.at and start < consent.valid_until and (best is None or start < best):
            best = start
    return best


def earliest(*candidates: datetime | None) -> datetime | None:
    present = [c for c in candidates if c is not None]
    return min(present) if present else None


def contact_hours(
    start: time,
    end: time,
    *,
    direct_consent: bool,
    extra_zones: tuple[str, ...] = (),
) -> Check:
    """Contact only inside [start, end) local time in every candidate zone of the recipient."""
    extras = tuple(zone(name) for name in extra_zones)
    start_s = start.hour * 3600 + start.minute * 60 + start.second
    end_s = end.hour * 3600 + end.minute * 60 + end.second
    crosses_midnight = end_s <= start_s

    def check(context: Context) -> Finding | None:
        zones = context.zones
        if extras:
            zones = zones + tuple(z for z in extras if z not in zones)
        closed = []
        at = context.at
        for tz in zones:
            local = at.astimezone(tz)
            second = local.hour * 3600 + local.minute * 60 + local.second
            if crosses_midnight:
                inside = second >= start_s or second < end_s
            else:
                inside = start_s <= second < end_s
            if not inside:
                closed.append(tz)
        if not closed:
            return None
        if consent_covers(context, ConsentScope.HOURS, direct=direct_consent):
            return None
        opening = next_open_everywhere(context.at, zones, start, end)
        consent_start = next_consent_start(context, ConsentScope.HOURS, direct=direct_consent)
        where = ", ".join(
            f"{context.at.astimezone(tz).strftime('%H:%M')} in {tz.key}" for tz in closed
        )
        where_zh = "、".join(
            f"{tz.key} {context.at.astimezone(tz).strftime('%H:%M')}" for tz in closed
        )
        window = f"{hhmm(start)}–{hhmm(end)}"
        return Finding(
            detail_en=f"local time {where} is outside {window}",
            detail_zh=f"当地时间（{where_zh}）不在 {window} 之内",
            not_before=earliest(opening, consent_start),
        )

    return check


def inconvenient_times() -> Check:
    """Not at a time the person said is inconvenient (in any of their candidate zones)."""

    def check(context: Context) -> Finding | None:
        person_id = context.action.recipient.person_id
        point = context.action.recipient.contact_point
        bound: datetime | None = None
        hits: list[str] = []
        for window in context.facts.inconvenient_times:
            if window.person_id != person_id:
                continue
            if window.contact_point and window.contact_point != point:
                continue
            for tz in context.zones:
                local = context.at.astimezone(tz)
                wall = local.time().replace(tzinfo=None)
                if not in_window(wall, window.start, window.end):
                    continue
                # A window crossing midnight (start >= end, e.g. 18:00-09:00; 00:00-00:00 is
                # the whole day) belongs to the day it starts on (US-9).
                began = local.date()
                if window.start >= window.end and wall < window.end:
                    began -= timedelta(days=1)
                if began.weekday() not in window.weekdays:
                    continue
                ends_on = began + timedelta(days=1) if window.start >= window.end else began
                ends = wall_instant(ends_on, window.end, tz)
                if ends <= context.at:  # in a fall-back's repeated hour: its second pass
                    ends = datetime.combine(ends_on, window.end.replace(fold=1), tz).astimezone(UTC)
                hits.append(f"{hhmm(window.start)}–{hhmm(window.end)} {tz.key}")
                if bound is None or ends > bound:
                    bound = ends
        if not hits:
            return None
        if consent_covers(context, ConsentScope.HOURS, direct=True):
            return None
        listed = ", ".join(hits)
        return Finding(
            detail_en=f"the person said {listed} is inconvenient",
            detail_zh=f"当事人已告知 {listed} 不方便联系",
            not_before=earliest(
                bound, next_consent_start(context, ConsentScope.HOURS, direct=True)
            ),
        )

    return check


def medium_opt_out() -> Check:
    """Not through a medium the person asked the collector not to use: an opt-out on record,
    or a medium a request to stop names (`FactsIndex.opt_outs`). One confirmation of the
    opt-out may still go out on that medium (US-19)."""

    def check(context: Context) -> Finding | None:
        action = context.action
        person_id = action.recipient.person_id
        for opt_out in context.index.opt_outs:
            if opt_out.person_id != person_id or opt_out.channel is not action.kind:
                continue
            if opt_out.at > context.at:
                continue
            if opt_out.contact_point and opt_out.contact_point != action.recipient.contact_point:
                continue
            if action.purpose is Purpose.OPT_OUT_CONFIRMATION and not any(
                a.person_id == person_id
                and a.purpose is Purpose.OPT_OUT_CONFIRMATION
                and opt_out.at <= a.at < context.at
                for a in context.facts.attempts
            ):
                continue  # one confirmation of the opt-out is allowed
            on = opt_out.at.astimezone(context.home_zone).date().isoformat()
            return Finding(
                detail_en=f"the person opted out of {action.kind.value} on {on}",
                detail_zh=f"当事人已于 {on} 要求停止通过{action.kind.value}联系",
            )
        return None

    return check


CEASE_NOTICE_PURPOSES = frozenset({Purpose.TERMINATION_NOTICE, Purpose.REMEDY_NOTICE})
"""Letters that may still go out after a written request to stop (US-12's exceptions)."""


def written_cease(*, also_allowed: frozenset[Purpose] = frozenset()) -> Check:
    """After a written request to stop (or refusal to pay), no communication about the debts
    it covers, except letters for `CEASE_NOTICE_PURPOSES` and `also_allowed`."""
    allowed = CEASE_NOTICE_PURPOSES | also_allowed

    def check(context: Context) -> Finding | None:
        if context.action.purpose in allowed and context.action.kind is ActionKind.LETTER:
            return None
        person_id = context.action.recipient.person_id
        for notice in context.facts.cease_notices:
            if notice.person_id != person_id or not notice.in_writing:
                continue
            if notice.received_at > context.at:
                continue
            if notice.debt_ids and not set(notice.debt_ids) & set(context.action.debt_ids):
                continue
            on = notice.received_at.astimezone(context.home_zone).date().isoformat()
            return Finding(
                detail_en=f"a written cease/refusal notice was received {on}",
                detail_zh=f"已于 {on} 收到书面停止联系/拒付通知",
            )
        return None

    return check


def wording(categories: Iterable[str], *, en: str, zh: str) -> Check:
    """Block content that matches any of `categories` in the wording lexicons."""
    wanted = tuple(categories)

    def check(context: Context) -> Finding | None:
        if not context.action.content:
            return None
        matches = context.screen.of(*wanted)
        if not matches:
            return None
        found = "; ".join(f"{m.category}: “{m.matched}”" for m in matches)
        return Finding(detail_en=f"{en}: {found}", detail_zh=f"{zh}：{found}", matches=matches)

    return check


def matches_of(context: Context, *categories: str) -> tuple[WordMatch, ...]:
    if not context.action.content:
        return ()
    return context.screen.of(*categories)


def open_disputes(context: Context, debt_ids: Iterable[str]) -> list[Dispute]:
    wanted = set(debt_ids)
    return [
        dispute
        for dispute in context.facts.disputes
        if dispute.debt_id in wanted
        and dispute.received_at <= context.at
        and (dispute.answered_at is None or dispute.answered_at > context.at)
    ]


def report_marks_disputes() -> Check:
    """A credit report about a debt with an open dispute/objection must mark it disputed."""

    def check(context: Context) -> Finding | None:
        report = context.action.report
        if report is None or report.marked_disputed:
            return None
        disputes = open_disputes(context, context.action.debt_ids)
        if not disputes:
            return None
        first = min(d.received_at for d in disputes)
        return Finding(
            detail_en=f"a dispute received {first.isoformat()} is open; the report must mark it",
            detail_zh=f"{first.isoformat()} 收到的异议尚未处理完毕，报送记录必须标注异议",
        )

    return check


def local_date(context: Context) -> date:
    return context.local.date()


def debts(context: Context) -> tuple[Debt, ...]:
    return context.debts


def day_count_block(
    stamps: tuple[float, ...],
    context: Context,
    *,
    limit: int,
    days: int,
    tz_day_start: float,
    tz: ZoneInfo,
) -> tuple[int, datetime | None]:
    """Count stamps in [tz_day_start, at]; if ≥ limit, when enough have aged out of the window.

    `tz_day_start` is local midnight (epoch seconds) of the window's first day; the window is
    `days` long and slides by local calendar day.
    """
    window = stamps_between(stamps, tz_day_start, context.ts + 1e-6)
    count = len(window)
    if count < limit:
        return count, None
    oldest_kept = window[count - limit]
    day = from_stamp(oldest_kept).astimezone(tz).date()
    return count, local_midnight(day + timedelta(days=days), tz)


def review(en: str, zh: str, matches: tuple[WordMatch, ...] = ()) -> Finding:
    return Finding(detail_en=en, detail_zh=zh, severity=Severity.REVIEW, matches=matches)
