"""United States: FDCPA (15 U.S.C. 1692 et seq.) and Regulation F (12 CFR part 1006).

Each rule cites the provision it implements, carries its effective date and the id of its
entry in shared/reference/rules.md (`ref`). Numbers are `USParams` fields; those marked [U]
in rules.md are documented defaults to confirm with counsel. Not legal advice.

Conduct rules bind FDCPA "debt collectors" collecting consumer debts (US-1): a creditor's own
staff collecting in the creditor's own name is outside them (state law may still apply).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from arrears.compliance.engine import Context
from arrears.compliance.facts import ConsentScope, Debt, NoticeKind, Outcome
from arrears.compliance.model import (
    CONTACT_KINDS,
    ELECTRONIC_KINDS,
    ActionKind,
    Check,
    Finding,
    Pack,
    Purpose,
    Role,
    Rule,
    firm_key,
)
from arrears.compliance.packs import common
from arrears.compliance.predicates import (
    count_between,
    from_stamp,
    last_before,
    local_midnight,
    stamps_between,
    validation_period_end,
)

REG_F = date(2021, 11, 30)
"""Regulation F took effect on 2021-11-30."""
FDCPA = date(1978, 3, 20)

CONSUMER_ROLES = frozenset({Role.BORROWER, Role.GUARANTOR, Role.SPOUSE})
"""1006.6(a): 'consumer' includes the spouse; a co-signer/guarantor is obligated on the debt."""
PERMITTED_PARTIES = CONSUMER_ROLES | {Role.ATTORNEY}
FORBIDDEN_HARASSMENT = ("threat_violence", "insult", "third_party_disclosure")
FORBIDDEN_FALSE = (
    "threat_arrest",
    "impersonation",
    "false_blacklist",
    "exaggerated_consequence",
    "unlawful_seizure",
)

_URL = re.compile(r"https?://\S+", re.IGNORECASE)
_PHONE = re.compile(r"\d[\d\-\s().]{6,}\d")


@dataclass(frozen=True, slots=True, kw_only=True)
class USParams:
    """Numbers the US rules read. Defaults follow rules.md; [U] marks unconfirmed ones."""

    day_start: time = time(8, 0)
    """US-7: earliest convenient local time (inclusive)."""
    day_end: time = time(21, 0)
    """US-7: latest convenient local time (exclusive) [U on the exact-minute boundary]."""
    max_calls: int = 7
    """US-2: placed calls per (collector, person, debt) within `window_days`."""
    window_days: int = 7
    cooldown_days: int = 7
    """US-3: days (conversation day = day 1) with no further calls after a conversation."""
    consent_days: int = 7
    """US-4: a direct consent excludes calls for at most this many days (consent day = day 1)."""
    rapid_redial: timedelta = timedelta(minutes=5)
    """US-6: two unanswered calls to one number within this time -> review."""
    calls_per_number_per_day_review: int = 7
    """US-6: this many calls to one number in a local day -> review."""
    texts_per_day_review: int = 10
    """US-5 / 1006.14(a): this many texts to a person in a local day -> review."""
    attorney_response_days: int = 30
    """US-11: 'reasonable period' for the attorney to respond [U]."""
    validation_send_days: int = 5
    """US-20: calendar days after the initial communication to send the validation notice [U]."""
    receipt_business_days: int = 5
    """US-22: business days to assumed receipt."""
    validation_period_days: int = 30
    exclude_observed_holidays: bool = True
    """US-22 [U]: whether a holiday's weekday observance (Christmas 2022 on Monday 12-26) is
    also skipped when counting to assumed receipt; True gives the later, safer date."""
    text_freshness_days: int = 60
    """US-18: days after the consumer's last text/consent to rely on the number."""
    report_wait_days: int = 14
    """US-26: days to wait after mailing/sending a message about the debt before furnishing."""
    reporting_years: int = 7
    """US-32: years after the 180-day period a collection item may be reported."""
    fallback_zones: tuple[str, ...] = (
        "America/New_York",
        "America/Chicago",
        "America/Denver",
        "America/Los_Angeles",
    )
    """US-8: zones assumed when the location is unknown (all contiguous-US zones)."""
    house_policy_from: date = date.min
    """When the lender began holding its own staff to the borrower's stated preferences."""


DEFAULT_PARAMS = USParams()


def debt_collector_scope(context: Context) -> bool:
    """US-1: FDCPA/Reg F conduct rules bind debt collectors collecting consumer debts."""
    if not context.action.actor.is_debt_collector:
        return False
    if not context.debts:
        return True  # unknown debts: assume consumer debts (fail closed)
    return any(debt.consumer for debt in context.debts)


def outside_fdcpa(context: Context) -> bool:
    """The complement of `debt_collector_scope`: a creditor's own staff collecting in its own
    name, where the house applies the borrower-preference rules the FDCPA does not (US-1)."""
    return not debt_collector_scope(context)


# --- frequency: US-2 … US-6 ------------------------------------------------------------------


def _consent_excludes(context: Context, params: USParams, at: datetime) -> bool:
    """US-4(i): a call placed with the person's direct prior consent, within its period."""
    person_id = context.action.recipient.person_id
    tz = context.home_zone
    for consent in context.facts.consents:
        if consent.scope is not ConsentScope.CALLS or consent.person_id != person_id:
            continue
        if not common.given_to_firm(context, consent) or consent.given_at > at:
            continue
        given_day = consent.given_at.astimezone(tz).date()
        expires = min(
            consent.valid_until,
            local_midnight(given_day + timedelta(days=params.consent_days), tz),
        )
        if not consent.valid_from <= at < expires:
            continue
        used = False
        # The consented conversation is one after the consent was given: not the conversation
        # it was given in, which may carry the same instant.
        if consent.valid_from > consent.given_at:
            start = consent.valid_from.timestamp()
        else:
            start = consent.given_at.timestamp() + 1e-6
        for debt_id in context.action.debt_ids:
            talks = context.firm_history(context.index.conversations, person_id, debt_id)
            if stamps_between(talks, start, at.timestamp()):
                used = True  # the consented conversation has happened
        if not used:
            return True
    return False


def _has_call_consent(context: Context) -> bool:
    """Whether the recipient ever gave the acting firm a direct consent to calls (US-4(i))."""
    person_id = context.action.recipient.person_id
    return any(
        consent.scope is ConsentScope.CALLS
        and consent.person_id == person_id
        and common.given_to_firm(context, consent)
        for consent in context.facts.consents
    )


def _frequency_applies(context: Context) -> bool:
    return context.action.recipient.role is not Role.ATTORNEY


def call_count(params: USParams) -> Check:
    """US-2: no more than `max_calls` placed calls in `window_days` consecutive local days.
    Where the consumer's location is uncertain (US-8), the days are counted in every
    candidate zone and the call is blocked if any zone's week is full: a call late in the
    evening in Los Angeles is already the next day in New York."""

    def check(context: Context) -> Finding | None:
        if not _frequency_applies(context):
            return None
        if _consent_excludes(context, params, context.at):
            return None
        person = context.action.recipient.person_id
        worst: tuple[int, str, datetime, ZoneInfo] | None = None
        consents = _has_call_consent(context)
        starts: dict[ZoneInfo, float] = {}
        for debt_id in context.action.debt_ids:
            stamps = context.firm_history(context.index.placed_calls, person, debt_id)
            if len(stamps) < params.max_calls:  # too few to fill a week in any zone
                continue
            starts = starts or {tz: context.day_start(params.window_days - 1, tz)
                                for tz in context.zones}
            if consents:
                # US-4(i): calls placed with direct consent, within its period, count toward
                # neither prong; drop them from the history before counting.
                stamps = tuple(
                    s for s in stamps_between(stamps, min(starts.values()), context.ts + 1e-6)
                    if not _consent_excludes(context, params, from_stamp(s))
                )
            for tz, since in starts.items():
                count, bound = common.day_count_block(
                    stamps,
                    context,
                    limit=params.max_calls,
                    days=params.window_days,
                    tz_day_start=since,
                    tz=tz,
                )
                if bound is not None and (worst is None or bound > worst[2]):
                    worst = (count, debt_id, bound, tz)
        if worst is None:
            return None
        count, debt_id, bound, tz = worst
        today = context.at.astimezone(tz).date()
        consent = common.next_consent_start(context, ConsentScope.CALLS, direct=True)
        return Finding(
            detail_en=f"{count} calls about {debt_id} already placed to this person in the "
            f"{params.window_days} days ending {today.isoformat()} ({tz.key})",
            detail_zh=f"截至 {today.isoformat()}（{tz.key}）的 {params.window_days} 天内，"
            f"已就债务 {debt_id} 向此人拨打 {count} 次电话",
            not_before=common.earliest(bound, consent),
        )

    return check


def conversation_cooldown(params: USParams) -> Check:
    """US-3: no call within `cooldown_days` after a telephone conversation about the debt,
    the conversation's day and the call's day read in every candidate zone (US-8): the call
    is blocked while any zone's cool-down lasts."""

    def check(context: Context) -> Finding | None:
        if not _frequency_applies(context):
            return None
        if _consent_excludes(context, params, context.at):
            return None
        person = context.action.recipient.person_id
        latest: tuple[datetime, date, str, ZoneInfo] | None = None
        for debt_id in context.action.debt_ids:
            talks = context.firm_history(context.index.conversations, person, debt_id)
            last = last_before(talks, context.ts + 1e-6)
            if last is None:
                continue
            for tz in context.zones:
                day = from_stamp(last).astimezone(tz).date()
                ends = day + timedelta(days=params.cooldown_days)
                if context.at.astimezone(tz).date() >= ends:  # over in this zone
                    continue
                bound = local_midnight(ends, tz)
                if latest is None or bound > latest[0]:
                    latest = (bound, day, debt_id, tz)
        if latest is None:
            return None
        bound, day, debt_id, tz = latest
        consent = common.next_consent_start(context, ConsentScope.CALLS, direct=True)
        return Finding(
            detail_en=f"a telephone conversation about {debt_id} took place on "
            f"{day.isoformat()} ({tz.key}); no calls until "
            f"{bound.astimezone(tz).date().isoformat()}",
            detail_zh=f"已于 {day.isoformat()}（{tz.key}）就债务 {debt_id} 进行过电话沟通，"
            f"{bound.astimezone(tz).date().isoformat()} 之前不得再致电",
            not_before=common.earliest(bound, consent),
        )

    return check


def call_patterns(params: USParams) -> Check:
    """US-5/US-6: patterns that may rebut the presumption of compliance -> human review."""

    def check(context: Context) -> Finding | None:
        day_start = context.day_start(0)
        until = context.ts + 1e-6  # what happened up to the instant judged, not after it
        person = context.action.recipient.person_id
        point = context.action.recipient.contact_point
        index = context.index
        notes_en: list[str] = []
        notes_zh: list[str] = []
        if context.action.kind is ActionKind.CALL:
            on_number = count_between(
                index.calls_by_point.get((person, point), ()), day_start, until
            )
            last_unanswered = last_before(
                index.unanswered_by_point.get((person, point), ()), context.ts + 1e-6
            )
            if on_number + 1 >= params.calls_per_number_per_day_review:
                notes_en.append(f"call {on_number + 1} to this number today")
                notes_zh.append(f"今天第 {on_number + 1} 次拨打此号码")
            if (
                last_unanswered is not None
                and context.ts - last_unanswered < params.rapid_redial.total_seconds()
            ):
                notes_en.append("redial within minutes of an unanswered call")
                notes_zh.append("未接通后数分钟内重拨")
            all_debts = context.firm_history(index.calls_by_firm_person, person)
            since = context.day_start(params.window_days - 1)
            total = count_between(all_debts, since, until)
            if total + 1 > params.max_calls:
                notes_en.append(f"{total + 1} calls to this person across debts in 7 days")
                notes_zh.append(f"7 天内就多笔债务共致电此人 {total + 1} 次")
        elif context.action.kind is ActionKind.SMS:
            texts = index.messages_by_person_channel.get((person, ActionKind.SMS.value), ())
            sent = count_between(texts, day_start, until)
            if sent + 1 >= params.texts_per_day_review:
                notes_en.append(f"text {sent + 1} to this person today")
                notes_zh.append(f"今天第 {sent + 1} 条短信")
        if not notes_en:
            return None
        return common.review("; ".join(notes_en), "；".join(notes_zh))

    return check


# --- time and place: US-7 … US-10 -------------------------------------------------------------


def workplace() -> Check:
    """US-10: not at work when the employer prohibits it; no employer-provided email."""

    def check(context: Context) -> Finding | None:
        person = context.person
        point = context.point
        if person is None or point is None:
            return None
        if point.kind == "work" and person.employer_prohibits_contact:
            return Finding(
                detail_en="the person's employer prohibits such communications at work",
                detail_zh="当事人的雇主禁止在工作场所接收此类联系",
            )
        if (
            context.action.kind is ActionKind.EMAIL
            and point.employer_provided
            and point.consumer_last_used_at is None
            and not common.consent_covers(context, ConsentScope.WORK_EMAIL, direct=True)
        ):
            return Finding(
                detail_en="the address is employer-provided and the person has not used it "
                "with the collector or consented to it",
                detail_zh="该邮箱由雇主提供，当事人未用其联系过催收方，也未同意使用",
            )
        return None

    return check


# --- who may be contacted: US-11 … US-14 ------------------------------------------------------


def attorney(params: USParams) -> Check:
    """US-11: once represented by a known attorney, talk to the attorney, not the consumer."""

    def check(context: Context) -> Finding | None:
        role = context.action.recipient.role
        if role is Role.ATTORNEY:
            return None
        person_id = context.action.recipient.person_id
        for rep in context.facts.representations:
            if rep.person_id != person_id or rep.debt_id not in context.action.debt_ids:
                continue
            if rep.known_at > context.at or not (rep.attorney_name or rep.attorney_address):
                continue
            if rep.attorney_consents_direct:
                continue
            bound: datetime | None = None
            if rep.attorney_contacted_at is not None and not rep.attorney_responded:
                bound = rep.attorney_contacted_at + timedelta(days=params.attorney_response_days)
                if context.at >= bound:
                    continue
            return Finding(
                detail_en=f"the person is represented by {rep.attorney_name or 'an attorney'} "
                f"about {rep.debt_id}; communicate with the attorney",
                detail_zh=f"当事人就债务 {rep.debt_id} 已委托律师"
                f"{rep.attorney_name or ''}，应与律师沟通",
                not_before=bound,
            )
        return None

    return check


def third_parties() -> Check:
    """US-13: about the debt, only the consumer, their attorney (and creditor/CRA parties)."""

    def check(context: Context) -> Finding | None:
        role = context.action.recipient.role
        if role in PERMITTED_PARTIES:
            return None
        if context.action.purpose is Purpose.LOCATION_INFO:
            return None  # US-14 governs location-information contacts
        borrower_consent = any(
            c.scope is ConsentScope.THIRD_PARTY
            and c.given_at <= context.at
            and c.valid_from <= context.at < c.valid_until
            for c in context.facts.consents
        )
        if borrower_consent:
            return None
        return Finding(
            detail_en=f"a {role.value} is not a party the collector may communicate with about "
            "the debt without the consumer's consent",
            detail_zh=f"未经消费者同意，不得就债务与{role.value}沟通",
        )

    return check


def location_contacts() -> Check:
    """US-14: location-information contacts — no debt mention, no postcards, only once."""

    def check(context: Context) -> Finding | None:
        action = context.action
        if action.purpose is not Purpose.LOCATION_INFO or action.recipient.role in CONSUMER_ROLES:
            return None
        mentions = common.matches_of(context, "debt_reference")
        if mentions:
            return Finding(
                detail_en="a location-information contact must not state that the consumer "
                "owes a debt",
                detail_zh="查询联系方式时不得提及消费者欠债",
                matches=mentions,
            )
        if action.postcard:
            return Finding(detail_en="postcards may not be used", detail_zh="不得使用明信片")
        if any(
            rep.debt_id in action.debt_ids and rep.known_at <= context.at
            for rep in context.facts.representations
        ):
            return Finding(
                detail_en="the consumer has an attorney; ask the attorney instead",
                detail_zh="消费者已委托律师，应向律师查询",
            )
        person = context.person
        if person is not None and person.location_recontact_allowed:
            return None
        for attempt in context.facts.attempts:
            if (
                attempt.person_id == action.recipient.person_id
                and firm_key(attempt.actor_id, attempt.organisation) in context.firm_keys
                and attempt.purpose is Purpose.LOCATION_INFO
                and attempt.at < context.at
                and attempt.outcome in (Outcome.ANSWERED, Outcome.CONVERSATION)
            ):
                return Finding(
                    detail_en=f"this person was already asked on {attempt.at.date().isoformat()}",
                    detail_zh=f"已于 {attempt.at.date().isoformat()} 向此人查询过",
                )
        return None

    return check


# --- electronic and message content: US-15 … US-19 ----------------------------------------------


def limited_content(context: Context) -> Finding | None:
    """US-15: a voicemail naming the debt is a communication, not a limited-content message."""
    action = context.action
    if action.kind is not ActionKind.CALL or not action.voicemail:
        return None
    debt = common.matches_of(context, "debt_reference")
    if debt:
        return Finding(
            detail_en="the voicemail mentions the debt, so it is not a limited-content message: "
            "it may disclose the debt to whoever hears it",
            detail_zh="语音留言提及债务，不属于有限内容留言，可能向第三人泄露债务信息",
            matches=debt,
        )
    content = action.content
    missing = []
    if not common.matches_of(context, "reply_request"):
        missing.append("a request to reply")
    if not _PHONE.search(content):
        missing.append("a telephone number")
    if missing:
        return common.review(
            "the voicemail lacks " + " and ".join(missing) + " of a limited-content message",
            "语音留言缺少有限内容留言的必备要素：" + "、".join(missing),
        )
    return None


def mini_miranda(context: Context) -> Finding | None:
    """US-16: communications about the debt carry the debt-collector disclosure."""
    action = context.action
    if not action.content or action.recipient.role not in CONSUMER_ROLES:
        return None
    if not common.matches_of(context, "debt_reference"):
        return None  # not a communication about the debt (e.g. a limited-content message)
    if action.purpose is Purpose.OPT_OUT_CONFIRMATION:
        return None
    initial = True
    for debt in common.debts(context):
        if debt.initial_communication_at is not None and debt.initial_communication_at < context.at:
            initial = False
    if initial:
        if common.matches_of(context, "mini_miranda_initial") and common.matches_of(
            context, "mini_miranda_purpose"
        ):
            return None
        return Finding(
            detail_en="an initial communication must say the collector is attempting to collect "
            "a debt and that information obtained will be used for that purpose",
            detail_zh="首次沟通必须声明正在催收债务，且所获信息将用于该目的",
        )
    if common.matches_of(context, "debt_collector_disclosure", "mini_miranda_initial"):
        return None
    return Finding(
        detail_en="a subsequent communication must say it is from a debt collector",
        detail_zh="后续沟通必须声明信息来自债务催收方",
    )


def opt_out_notice(context: Context) -> Finding | None:
    """US-17: every electronic message offers a reasonable and simple way to opt out."""
    action = context.action
    if action.purpose is Purpose.OPT_OUT_CONFIRMATION or not action.content:
        return None
    if common.matches_of(context, "opt_out_method"):
        return None
    if common.matches_of(context, "opt_out_mention") and _URL.search(action.content):
        return None
    return Finding(
        detail_en="the message has no simple opt-out method (e.g. “Reply STOP” or a link)",
        detail_zh="电子信息缺少简便的退订方式（如“回复 STOP”或退订链接）",
    )


def text_number(params: USParams) -> Check:
    """US-18: text a number the consumer used recently, or one checked against reassignment."""

    def check(context: Context) -> Finding | None:
        point = context.point
        if point is None:
            return Finding(
                detail_en="the number is not among the person's known contact points",
                detail_zh="该号码不在当事人已知的联系方式中",
            )
        used = point.consumer_last_used_at
        if used is not None and context.at - used <= timedelta(days=params.text_freshness_days):
            return None
        checked = point.reassigned_check_at
        if checked is not None and checked <= context.at and (used is None or checked >= used):
            return None
        return Finding(
            detail_en=f"the consumer has not used this number with the collector in the last "
            f"{params.text_freshness_days} days and no reassigned-number check is on record",
            detail_zh=f"消费者近 {params.text_freshness_days} 天未用此号码联系催收方，"
            "且无号码转让核验记录",
        )

    return check


def public_social_media(context: Context) -> Finding | None:
    """US-19: never through social media viewable by the public or the person's contacts."""
    if context.action.kind is ActionKind.SOCIAL_MEDIA and context.action.publicly_visible:
        return Finding(
            detail_en="social-media messages visible to the public or the person's contacts "
            "are prohibited",
            detail_zh="禁止通过公众或当事人联系人可见的社交媒体联系",
        )
    return None


# --- validation and disputes: US-20 … US-24 ---------------------------------------------------


def validation_timing(params: USParams) -> Check:
    """US-20: validation information within `validation_send_days` of the initial communication."""

    def check(context: Context) -> Finding | None:
        today = common.local_date(context)
        for debt in common.debts(context):
            first = debt.initial_communication_at
            if first is None or debt.validation_sent_on is not None:
                continue
            due = first.astimezone(context.home_zone).date() + timedelta(
                days=params.validation_send_days
            )
            if debt.paid_in_full_on is not None and debt.paid_in_full_on <= due:
                continue
            if today <= due:
                continue
            if context.action.purpose is Purpose.VALIDATION_NOTICE:
                return common.review(
                    f"the validation notice for {debt.debt_id} was due by {due.isoformat()}; "
                    "sending it late is itself a violation to report",
                    f"债务 {debt.debt_id} 的债务确认通知应于 {due.isoformat()} 前发出，"
                    "逾期发送需上报",
                )
            return Finding(
                detail_en=f"no validation notice was sent for {debt.debt_id} by "
                f"{due.isoformat()}; send it before further collection",
                detail_zh=f"债务 {debt.debt_id} 未在 {due.isoformat()} 前发送债务确认通知，"
                "在发送前不得继续催收",
            )
        return None

    return check


def validation_content(params: USParams) -> Check:
    """US-21/US-22: the notice shows a correct end date and an itemization that adds up."""

    def check(context: Context) -> Finding | None:
        action = context.action
        if action.purpose is not Purpose.VALIDATION_NOTICE:
            return None
        notice = action.notice
        if notice is None:
            return Finding(
                detail_en="the validation notice content is missing",
                detail_zh="缺少债务确认通知内容",
            )
        sent = common.local_date(context)
        end = validation_period_end(
            sent, params.receipt_business_days, params.validation_period_days,
            params.exclude_observed_holidays,
        )
        if notice.period_end_on is None:
            return Finding(
                detail_en=f"the notice must state the validation period end date ({end})",
                detail_zh=f"通知必须载明异议期截止日（{end}）",
            )
        if notice.period_end_on < end:
            return Finding(
                detail_en=f"the notice's end date {notice.period_end_on} is earlier than {end}",
                detail_zh=f"通知载明的截止日 {notice.period_end_on} 早于应有的 {end}",
            )
        expected = (
            notice.itemization_amount + notice.interest + notice.fees
            - notice.payments - notice.credits
        )
        if expected.amount - notice.current_amount.amount != Decimal(0):
            return Finding(
                detail_en=f"the itemization adds up to {expected}, not {notice.current_amount}",
                detail_zh=f"分项合计为 {expected}，与当前金额 {notice.current_amount} 不符",
            )
        return None

    return check


def _validation_end(debt: Debt, params: USParams) -> date | None:
    """Last day of the debt's validation period: computed from the send date (US-22), or the
    date printed on the notice when that is later (the collector may give more time)."""
    if debt.validation_sent_on is None:
        return debt.validation_period_end_on
    end = validation_period_end(
        debt.validation_sent_on, params.receipt_business_days, params.validation_period_days,
        params.exclude_observed_holidays,
    )
    printed = debt.validation_period_end_on
    return printed if printed is not None and printed > end else end


def disputes_suspend(params: USParams) -> Check:
    """US-23: a written dispute in the validation period suspends collection until answered."""

    exempt = {Purpose.VERIFICATION, Purpose.OPT_OUT_CONFIRMATION, Purpose.TERMINATION_NOTICE}

    def check(context: Context) -> Finding | None:
        if context.action.purpose in exempt:
            return None
        for dispute in common.open_disputes(context, context.action.debt_ids):
            if not dispute.in_writing:
                continue
            debt = context.index.debts.get(dispute.debt_id)
            end = _validation_end(debt, params) if debt is not None else None
            if end is not None:
                if dispute.received_at.astimezone(context.home_zone).date() > end:
                    continue
            return Finding(
                detail_en=f"a written {dispute.kind.value} about {dispute.debt_id} received "
                f"{dispute.received_at.date().isoformat()} has not been answered",
                detail_zh=f"{dispute.received_at.date().isoformat()} 收到的关于 {dispute.debt_id} "
                "的书面异议尚未答复，催收暂停",
            )
        return None

    return check


def overshadowing(params: USParams) -> Check:
    """US-24: no demands during the validation period that overshadow the dispute rights."""

    def check(context: Context) -> Finding | None:
        found = common.matches_of(context, "overshadowing")
        if not found:
            return None
        today = common.local_date(context)
        for debt in common.debts(context):
            end = _validation_end(debt, params)
            if end is None or debt.validation_sent_on is None:
                continue
            if debt.validation_sent_on <= today <= end:
                return common.review(
                    f"a payment demand during the validation period (ends {end}) may "
                    "overshadow the right to dispute",
                    f"异议期（至 {end}）内的付款要求可能妨碍消费者的异议权利",
                    found,
                )
        return None

    return check


# --- time-barred debt, reporting, fees: US-25 … US-32 ------------------------------------------


def time_barred(context: Context) -> Finding | None:
    """US-25: no suit, and no threat of suit, on a time-barred debt."""
    today = common.local_date(context)
    barred = [
        d.debt_id
        for d in common.debts(context)
        if d.time_barred_on is not None and d.time_barred_on <= today
    ]
    if not barred:
        return None
    if context.action.kind is ActionKind.LEGAL_ACTION:
        return Finding(
            detail_en=f"the statute of limitations has run on {', '.join(barred)}",
            detail_zh=f"债务 {', '.join(barred)} 已过诉讼时效",
        )
    threats = common.matches_of(context, "legal_threat")
    if threats:
        return Finding(
            detail_en=f"the message threatens legal action on time-barred {', '.join(barred)}",
            detail_zh=f"信息以诉讼威胁已过时效的债务 {', '.join(barred)}",
            matches=threats,
        )
    return None


def report_after_contact(params: USParams) -> Check:
    """US-26: speak to the consumer, or mail/send a message and wait, before furnishing."""

    def check(context: Context) -> Finding | None:
        tz = context.home_zone
        person = context.action.recipient.person_id
        today = common.local_date(context)
        pending: datetime | None = None
        for debt_id in context.action.debt_ids:
            talks = context.firm_history(context.index.conversations, person, debt_id)
            if last_before(talks, context.ts + 1e-6) is not None:
                continue
            sends: list[tuple[date, datetime | None]] = []
            for notice in context.facts.notices:
                if (
                    notice.debt_id == debt_id
                    and notice.kind is NoticeKind.ABOUT_DEBT
                    and notice.sent_at <= context.at
                ):
                    sent_on = notice.sent_at.astimezone(tz).date()
                    sends.append((sent_on, notice.undeliverable_at))
            debt = context.index.debts.get(debt_id)
            if debt is not None and debt.validation_sent_on is not None:
                sends.append((debt.validation_sent_on, None))
            satisfied = False
            for sent_on, bounced in sends:
                if bounced is not None and bounced <= context.at:
                    continue
                ready = sent_on + timedelta(days=params.report_wait_days)
                if today >= ready:
                    satisfied = True
                    break
                start = local_midnight(ready, tz)
                pending = start if pending is None or start < pending else pending
            if satisfied:
                continue
            return Finding(
                detail_en=f"no conversation about {debt_id} and no deliverable message sent at "
                f"least {params.report_wait_days} days ago",
                detail_zh=f"未就 {debt_id} 与消费者通话，也没有至少 {params.report_wait_days} "
                "天前发出且未被退回的通知",
                not_before=pending,
            )
        return None

    return check


def reporting_limits(params: USParams) -> Check:
    """US-32: no re-aging of the first-delinquency date, nothing past the 7-year limit."""

    def check(context: Context) -> Finding | None:
        report = context.action.report
        today = common.local_date(context)
        for debt in common.debts(context):
            start = debt.delinquency_commenced_on
            if start is None:
                continue
            if report is not None and report.first_delinquency_on not in (None, start):
                return Finding(
                    detail_en=f"the reported first-delinquency date {report.first_delinquency_on} "
                    f"differs from {start} (re-aging)",
                    detail_zh=f"报送的首次逾期日 {report.first_delinquency_on} 与 {start} 不符"
                    "（重置账龄）",
                )
            period_end = start + timedelta(days=180)  # the 180-day period has expired
            try:
                obsolete = period_end.replace(year=period_end.year + params.reporting_years)
            except ValueError:  # 29 February
                obsolete = date(period_end.year + params.reporting_years, 3, 1)
            if today >= obsolete:
                return Finding(
                    detail_en=f"the item became obsolete on {obsolete}",
                    detail_zh=f"该记录已于 {obsolete} 超过可报送期限",
                )
        return None

    return check


def caller_identity(context: Context) -> Finding | None:
    """US-29: no calls without meaningful disclosure of the caller's identity."""
    action = context.action
    if action.caller_identified or action.purpose is Purpose.LOCATION_INFO:
        return None
    return Finding(
        detail_en="the caller does not meaningfully disclose who is calling",
        detail_zh="来电未有效表明身份",
    )


def unfair_practices(context: Context) -> Finding | None:
    """US-31: no unauthorized amounts; no postcards."""
    action = context.action
    fee = action.fee
    if action.kind is ActionKind.FEE and fee is not None:
        if not (fee.authorized_by_contract or fee.permitted_by_law):
            return Finding(
                detail_en=f"the fee {fee.amount} is not authorized by the agreement or by law",
                detail_zh=f"费用 {fee.amount} 既无合同约定也无法律允许",
            )
    if action.postcard:
        return Finding(
            detail_en="communicating by postcard is prohibited",
            detail_zh="禁止使用明信片联系",
        )
    return None


def _rule(
    rule_id: str,
    ref: str,
    citation: str,
    effective_from: date,
    kinds: frozenset[ActionKind],
    check: Check,
    reason_en: str,
    reason_zh: str,
    *,
    scoped: bool = True,
    needs_content: bool = False,
) -> Rule:
    return Rule(
        rule_id=rule_id,
        ref=ref,
        citation=citation,
        effective_from=effective_from,
        kinds=kinds,
        check=check,
        scope=debt_collector_scope if scoped else None,
        needs_content=needs_content,
        reason_en=reason_en,
        reason_zh=reason_zh,
        layer="federal",
    )


CALL = frozenset({ActionKind.CALL})
REPORT = frozenset({ActionKind.CREDIT_REPORT})
MESSAGES = frozenset(
    {ActionKind.CALL, ActionKind.SMS, ActionKind.EMAIL, ActionKind.LETTER, ActionKind.APP_PUSH}
)
TIMED = CONTACT_KINDS - {ActionKind.LETTER}
COLLECTING = CONTACT_KINDS | {ActionKind.LEGAL_ACTION, ActionKind.CREDIT_REPORT}


def rules(params: USParams = DEFAULT_PARAMS) -> tuple[Rule, ...]:
    p = params
    return (
        _rule(
            "us.regf.call_frequency_7in7", "US-2", "12 CFR 1006.14(b)(2)(i)(A)", REG_F, CALL,
            call_count(p),
            "More than seven calls in seven days about one debt is presumed harassment.",
            "七天内就同一笔债务致电超过七次，推定构成骚扰。",
        ),
        _rule(
            "us.regf.call_after_conversation", "US-3", "12 CFR 1006.14(b)(2)(i)(B)", REG_F, CALL,
            conversation_cooldown(p),
            "After a telephone conversation about a debt, no calls for seven days.",
            "就债务进行电话沟通后七天内不得再致电。",
        ),
        _rule(
            "us.regf.call_pattern_review", "US-6", "12 CFR 1006.14(b)(1), (b)(4)", REG_F,
            frozenset({ActionKind.CALL, ActionKind.SMS}), call_patterns(p),
            "A calling pattern that may rebut the presumption of compliance; review it.",
            "该呼叫模式可能推翻合规推定，需人工复核。",
        ),
        _rule(
            "us.fdcpa.inconvenient_time", "US-7", "15 U.S.C. 1692c(a)(1); 12 CFR 1006.6(b)(1)(i)",
            FDCPA, TIMED,
            common.contact_hours(p.day_start, p.day_end, direct_consent=True),
            "No communication before 8 a.m. or after 9 p.m. at the consumer's location "
            "(every zone the collector's information indicates).",
            "不得在消费者所在地（按已知的每个时区）早 8 点前或晚 9 点后联系。",
        ),
        _rule(
            "us.regf.named_inconvenient_time", "US-9", "12 CFR 1006.6(b)(1)(i)", REG_F, TIMED,
            common.inconvenient_times(),
            "Not at a time the consumer said is inconvenient.",
            "不得在消费者告知的不便时间联系。",
        ),
        _rule(
            "us.fdcpa.workplace", "US-10", "15 U.S.C. 1692c(a)(3); 12 CFR 1006.6(b)(1)(iii), "
            "1006.22(f)(3)", FDCPA, CONTACT_KINDS, workplace(),
            "No communication at work when the employer prohibits it, nor to a work email "
            "address without the consumer's consent.",
            "雇主禁止时不得在工作场所联系，未经同意不得发送至工作邮箱。",
        ),
        _rule(
            "us.fdcpa.attorney_represented", "US-11", "15 U.S.C. 1692c(a)(2); 12 CFR 1006.6(b)(2)",
            FDCPA, CONTACT_KINDS, attorney(p),
            "A consumer represented by an attorney about the debt is contacted through the "
            "attorney.",
            "消费者已就该债务委托律师的，应通过律师联系。",
        ),
        _rule(
            "us.fdcpa.cease_communication", "US-12", "15 U.S.C. 1692c(c); 12 CFR 1006.6(c)",
            FDCPA, CONTACT_KINDS | {ActionKind.LEGAL_ACTION}, common.written_cease(),
            "After a written refusal to pay or request to cease, stop communicating except "
            "the permitted notices.",
            "收到书面拒付或停止联系通知后，除法定通知外不得再联系。",
        ),
        _rule(
            "us.fdcpa.third_party_communication", "US-13", "15 U.S.C. 1692c(b); 12 CFR 1006.6(d)",
            FDCPA, CONTACT_KINDS, third_parties(),
            "Do not discuss the debt with third parties.",
            "不得与第三方讨论债务。",
        ),
        _rule(
            "us.fdcpa.location_information", "US-14", "15 U.S.C. 1692b; 12 CFR 1006.10",
            FDCPA, CONTACT_KINDS, location_contacts(),
            "Location-information contacts must not mention the debt and happen only once.",
            "向第三方查询联系方式时不得提及债务，且原则上仅限一次。",
        ),
        _rule(
            "us.regf.limited_content_message", "US-15", "12 CFR 1006.2(j)", REG_F, CALL,
            limited_content,
            "A voicemail that names the debt is a communication that may reach third parties.",
            "提及债务的语音留言属于沟通，可能被第三人听到。",
            needs_content=True,
        ),
        _rule(
            "us.fdcpa.debt_collector_disclosure", "US-16", "15 U.S.C. 1692e(11); "
            "12 CFR 1006.18(e)", FDCPA, MESSAGES, mini_miranda,
            "Communications must disclose that they are from a debt collector.",
            "沟通中必须声明来自债务催收方。",
            needs_content=True,
        ),
        _rule(
            "us.regf.electronic_opt_out_notice", "US-17", "12 CFR 1006.6(e)", REG_F,
            ELECTRONIC_KINDS, opt_out_notice,
            "Every electronic message must include a simple way to opt out.",
            "每条电子信息都必须包含简便的退订方式。",
            needs_content=True,
        ),
        _rule(
            "us.regf.text_number_procedures", "US-18", "12 CFR 1006.6(d)(4)-(5)", REG_F,
            frozenset({ActionKind.SMS}), text_number(p),
            "Text only a number the consumer recently used with the collector or one "
            "confirmed not reassigned.",
            "仅可向消费者近期使用过或经核验未转让的号码发送短信。",
        ),
        _rule(
            "us.regf.medium_opt_out", "US-19", "12 CFR 1006.14(h)(1)", REG_F, CONTACT_KINDS,
            common.medium_opt_out(),
            "Do not use a medium the person asked the collector not to use.",
            "不得使用当事人已要求停止的联系方式。",
        ),
        _rule(
            "us.regf.public_social_media", "US-19", "12 CFR 1006.22(f)(4)", REG_F,
            frozenset({ActionKind.SOCIAL_MEDIA}), public_social_media,
            "Never communicate through social media visible to the public or the person's "
            "contacts.",
            "不得通过公众或联系人可见的社交媒体联系。",
        ),
        _rule(
            "us.regf.validation_timing", "US-20", "15 U.S.C. 1692g(a); 12 CFR 1006.34(a)(1)",
            REG_F, COLLECTING, validation_timing(p),
            "The validation notice is due within five days after the initial communication.",
            "首次沟通后五天内必须发送债务确认通知。",
        ),
        _rule(
            "us.regf.validation_notice_content", "US-22", "12 CFR 1006.34(b)(5), (c)", REG_F,
            frozenset({ActionKind.LETTER, ActionKind.EMAIL}), validation_content(p),
            "The validation notice must state a correct period end date and an itemization "
            "that adds up.",
            "债务确认通知必须载明正确的异议期截止日，且分项金额须相符。",
        ),
        _rule(
            "us.fdcpa.dispute_suspends_collection", "US-23", "15 U.S.C. 1692g(b); "
            "12 CFR 1006.38(d)(2)", FDCPA, COLLECTING, disputes_suspend(p),
            "A written dispute within the validation period stops collection until verified.",
            "异议期内的书面异议使催收暂停，直至提供核实材料。",
        ),
        _rule(
            "us.fdcpa.overshadowing", "US-24", "15 U.S.C. 1692g(b); 12 CFR 1006.38(b)", FDCPA,
            MESSAGES, overshadowing(p),
            "Demands during the validation period must not overshadow the right to dispute.",
            "异议期内的要求不得妨碍消费者的异议权利。",
            needs_content=True,
        ),
        _rule(
            "us.regf.time_barred_debt", "US-25", "12 CFR 1006.26(b)", REG_F,
            MESSAGES | {ActionKind.LEGAL_ACTION}, time_barred,
            "No suit or threat of suit on a time-barred debt.",
            "对已过诉讼时效的债务不得起诉或以诉讼相威胁。",
        ),
        _rule(
            "us.regf.no_passive_collection", "US-26", "12 CFR 1006.30(a)", REG_F, REPORT,
            report_after_contact(p),
            "Before reporting, speak to the consumer or send a message and wait for bounces.",
            "报送前须与消费者通话，或发出通知并等待退回期满。",
        ),
        _rule(
            "us.fdcpa.report_disputed", "US-27", "15 U.S.C. 1692e(8)", FDCPA, REPORT,
            common.report_marks_disputes(),
            "Credit information about a disputed debt must say it is disputed.",
            "报送有争议的债务时必须注明争议。",
        ),
        _rule(
            "us.fdcpa.harassing_wording", "US-29", "15 U.S.C. 1692d; 12 CFR 1006.14", FDCPA,
            MESSAGES | CONTACT_KINDS,
            common.wording(
                FORBIDDEN_HARASSMENT, en="harassing or abusive wording", zh="骚扰或辱骂用语"
            ),
            "No threats, abusive language or publicising the debt.",
            "不得威胁、辱骂或公开债务。",
            needs_content=True,
        ),
        _rule(
            "us.fdcpa.caller_identity", "US-29", "15 U.S.C. 1692d(6); 12 CFR 1006.14(g)", FDCPA,
            CALL, caller_identity,
            "Calls must meaningfully disclose the caller's identity.",
            "来电必须有效表明身份。",
        ),
        _rule(
            "us.fdcpa.false_representation", "US-30", "15 U.S.C. 1692e; 12 CFR 1006.18", FDCPA,
            MESSAGES | CONTACT_KINDS,
            common.wording(
                FORBIDDEN_FALSE, en="false or misleading wording", zh="虚假或误导性用语"
            ),
            "No false threats of arrest, impersonation of officials or false credit claims.",
            "不得虚假威胁逮捕、冒充公职人员或虚构信用后果。",
            needs_content=True,
        ),
        _rule(
            "us.fdcpa.unfair_practices", "US-31", "15 U.S.C. 1692f(1), (7); 12 CFR 1006.22",
            FDCPA, frozenset({ActionKind.FEE, ActionKind.LETTER}), unfair_practices,
            "No unauthorized amounts and no postcards.",
            "不得收取未经授权的费用，不得使用明信片。",
        ),
        _rule(
            "us.fcra.reporting_period", "US-32", "15 U.S.C. 1681c(a)(4), (c)(1)",
            date(1997, 9, 30), REPORT, reporting_limits(p),
            "Collection items are reported at most 7 years after the 180-day period, "
            "without re-aging.",
            "催收记录最长报送至 180 天期满后 7 年，且不得重置账龄。",
            scoped=False,
        ),
    )


HOUSE_PREFERENCES = (
    "house policy: a creditor collecting its own debts in its own name is outside the FDCPA "
    "(US-1); the lender still honours what the borrower asked"
)


def house_rules(params: USParams = DEFAULT_PARAMS) -> tuple[Rule, ...]:
    """The borrower's stated preferences and written disputes bind the lender's own staff too:
    the same checks as US-12, US-19, US-9 and US-23, in the scope the FDCPA leaves out."""

    def house(rule_id: str, ref: str, kinds: frozenset[ActionKind], check: Check,
              en: str, zh: str) -> Rule:
        return Rule(rule_id=rule_id, ref=ref, citation=f"{HOUSE_PREFERENCES} ({ref})",
                    effective_from=params.house_policy_from, kinds=kinds, check=check,
                    scope=outside_fdcpa, reason_en=en, reason_zh=zh, layer="house policy")

    return (
        house("us.house.cease_communication", "US-12", CONTACT_KINDS, common.written_cease(),
              "After a written request to stop, the lender's own staff stop communicating "
              "except the permitted notices.",
              "收到书面停止联系请求后，本机构人员除法定通知外不再联系。"),
        house("us.house.medium_opt_out", "US-19", CONTACT_KINDS, common.medium_opt_out(),
              "The lender's own staff do not use a medium the borrower opted out of.",
              "本机构人员不使用借款人已退订的联系方式。"),
        house("us.house.named_inconvenient_time", "US-9", TIMED, common.inconvenient_times(),
              "The lender's own staff do not call at a time the borrower said is inconvenient.",
              "本机构人员不在借款人告知的不便时间联系。"),
        house("us.house.dispute_suspends", "US-23", COLLECTING, disputes_suspend(params),
              "The lender's own staff stop collecting a debt disputed in writing until the "
              "verification is sent.",
              "借款人书面提出异议后，本机构人员在发出核实材料前暂停催收该债务。"),
    )


def pack(params: USParams = DEFAULT_PARAMS) -> Pack:
    """The US pack built with `params`."""
    return Pack(
        code="us",
        name="United States — FDCPA / Regulation F",
        version="2025.3",
        reference_zone="America/New_York",
        fallback_zones=params.fallback_zones,
        rules=rules(params) + house_rules(params),
        params=params,
    )


__all__ = ["DEFAULT_PARAMS", "USParams", "house_rules", "pack", "rules"]
