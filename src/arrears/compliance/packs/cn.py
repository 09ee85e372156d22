"""People's Republic of China: collection conduct, contact limits, visits and credit reporting.

Layers (strictest applicable wins, rules.md Part B): law (民法典, 刑法), administrative
regulation (征信业管理条例), regulator rules (信用卡业务监督管理办法), the national standard
GB/T 45251-2025, and self-regulation (NIFA 2018 公约, NIFA 2024 指引, CBA 2026 指引). Each rule
records its layer, cites its source, carries its effective date and its rules.md id. Numbers
are `CNParams` fields; [U] marks defaults not confirmed in the text read. Not legal advice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, time, timedelta
from decimal import Decimal

from arrears.compliance.engine import Context
from arrears.compliance.facts import (
    ConsentScope,
    Direction,
    NoticeKind,
    Outcome,
    attempt_creditors,
)
from arrears.compliance.model import (
    CONTACT_KINDS,
    ActionKind,
    ActorKind,
    Check,
    FieldVisit,
    Finding,
    Pack,
    Purpose,
    Role,
    Rule,
)
from arrears.compliance.packs import common
from arrears.compliance.predicates import count_between, local_midnight, zone

GBT_45251 = date(2025, 2, 28)
NIFA_2018 = date(2018, 3, 28)
NIFA_2024 = date(2024, 5, 15)
CBA_2026 = date(2026, 1, 30)
CARD_2011 = date(2011, 1, 13)
CREDIT_REG_2013 = date(2013, 3, 15)
CIVIL_CODE = date(2021, 1, 1)
CRIMINAL_AMENDMENT_XI = date(2021, 3, 1)
"""刑法修正案（十一） in force: Art. 293-1 (collecting illegal debts by intrusion, harassment)."""
CBRC_2009 = date(2009, 6, 19)
"""银监发〔2009〕60号 (credit-card business notice) [U: day of issue as reported]."""

FORBIDDEN_CONDUCT = (
    "threat_violence",
    "threat_arrest",
    "false_blacklist",
    "exaggerated_consequence",
    "third_party_disclosure",
    "borrow_elsewhere",
    "insult",
    "unlawful_seizure",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class CNParams:
    """Numbers the PRC rules read. Defaults follow rules.md; [U] marks unconfirmed ones."""

    day_start: time = time(8, 0)
    """CN-1: no collection from 22:00 to 08:00 the next day."""
    day_end: time = time(22, 0)
    also_beijing_time: bool = True
    """CN-1: the hours are Beijing time (rules.md's params); whether a debtor outside UTC+8 is
    also judged on their own clock is [U]. Both are judged by default, every zone the debtor
    may be in as well as Beijing time — the strictest reading, as rules.md asks where layers
    differ. False judges only the debtor's zones (Beijing time when none is known)."""
    count_zone: str = "Asia/Shanghai"
    """CN-2: the calendar day calls are counted in (Beijing time)."""
    collection_interval_days: int | None = None
    """CN-3 [U]: GB/T 45251-2025 is reported to set the collection interval for one credit
    product at no fewer than 7 natural days, but what the interval is was not read. Off
    (None) by default; a lender that reads it as one collection contact per debt every N
    natural days (Beijing dates, `count_zone`; reminders and the borrower's own calls aside)
    sets N, and the rule joins the pack."""
    connected_calls_per_day: int = 3
    """CN-2(a): connected calls per debtor per day, lender and agencies together."""
    connected_outcomes: frozenset[Outcome] = frozenset({Outcome.ANSWERED, Outcome.CONVERSATION})
    unanswered_attempts_per_method_per_day: int = 6
    """CN-2(b): unanswered attempts per contact method per day (CBA: 不宜超过)."""
    unanswered_outcomes: frozenset[Outcome] = frozenset(
        {Outcome.NOT_CONNECTED, Outcome.UNANSWERED, Outcome.VOICEMAIL}
    )
    debtor_roles: frozenset[Role] = frozenset({Role.BORROWER, Role.GUARANTOR})
    """CN-4: collection targets (信用卡办法 Art. 68: the debtor and the guarantor)."""
    lost_contact_attempts: int = 3
    """CN-4 [U]: consecutive failed attempts after which the debtor counts as unreachable."""
    min_field_collectors: int = 2
    """CN-9 (CBA Art. 22)."""
    visit_requires_authorization: bool = True
    """CN-9 [U]: a written visit authorization from the creditor (house policy)."""
    visit_requires_legal_review: bool = True
    """CN-9 house policy: legal review recorded on the authorization."""
    visit_requires_remote_failure: bool = True
    """CN-9 house policy: remote contact failed (unreachable) or the debtor refused to pay."""
    visit_min_dpd: int = 31
    """CN-9 house policy: days past due before any visit."""
    visit_min_balance: Decimal = Decimal("1000")
    """CN-9 house policy: outstanding balance (in the debt's currency) before any visit."""
    negative_record_years: int = 5
    """CN-22: years a negative record is kept after the adverse event ends."""
    house_policy_from: date = date.min
    """CN-9: when the lender's own visit conditions above took effect (default: always)."""
    opt_out_policy_from: date = date.min
    """When the lender began honouring borrowers' opt-outs and requests to stop (house
    policy `cn.house.opt_out`; default: always)."""
    objection_policy_from: date = date.min
    """When the lender began stopping collection on a debt under objection (house policy
    `cn.house.objection_suspends`; default: always)."""

    def __post_init__(self) -> None:
        days = self.collection_interval_days
        if days is not None and (type(days) is not int or days < 1):
            raise ValueError("collection_interval_days: must be a whole number of days, at "
                             "least 1, or None (off)")


DEFAULT_PARAMS = CNParams()


def _outside(context: Context) -> bool:
    return context.action.recipient.role not in (Role.BORROWER, Role.GUARANTOR)


def _creditors_counted(context: Context, creditor: str) -> tuple[str, ...]:
    """Whose calls count against `creditor`'s cap: its own and those about unknown debts; an
    unknown creditor is charged with every creditor's calls (CN-2, fail closed)."""
    if creditor:
        return (creditor, "")
    return context.index.creditors_by_person.get(context.action.recipient.person_id, ())


def calls_per_day(params: CNParams) -> Check:
    """CN-2: connected calls per debtor per day; unanswered attempts per contact method. Both
    count per creditor: the institution and its agencies together, whichever agent dialled."""
    count_tz = zone(params.count_zone)

    def check(context: Context) -> Finding | None:
        if context.action.recipient.role not in params.debtor_roles:
            return None
        day = context.at.astimezone(count_tz).date()
        since = local_midnight(day, count_tz).timestamp()
        until = context.ts + 1e-6  # calls up to this instant, as US-2 counts (not later ones)
        tomorrow = local_midnight(day + timedelta(days=1), count_tz)
        person = context.action.recipient.person_id
        point = context.action.recipient.contact_point
        index = context.index
        connected = unanswered = 0
        for creditor in attempt_creditors(context.action.debt_ids, index.debts):
            counted = _creditors_counted(context, creditor)
            connected = max(connected, sum(
                count_between(index.calls_by_creditor.get((c, person, o.value), ()), since, until)
                for c in counted
                for o in params.connected_outcomes
            ))
            unanswered = max(unanswered, sum(
                count_between(
                    index.calls_by_creditor_point.get((c, person, point, o.value), ()),
                    since, until)
                for c in counted
                for o in params.unanswered_outcomes
            ))
        if connected >= params.connected_calls_per_day:
            return Finding(
                detail_en=f"{connected} calls to the debtor already connected on {day} "
                "(lender and agencies together)",
                detail_zh=f"{day} 当天（含委外机构）已接通债务人电话 {connected} 次",
                not_before=tomorrow,
            )
        if unanswered >= params.unanswered_attempts_per_method_per_day and not (
            common.consent_covers(context, ConsentScope.CALLS, direct=False)
        ):
            return Finding(
                detail_en=f"{unanswered} unanswered attempts to this number on {day}",
                detail_zh=f"{day} 当天已对该号码未接通拨打 {unanswered} 次",
                not_before=common.earliest(  # an agreement starting before tomorrow lifts it
                    tomorrow, common.next_consent_start(context, ConsentScope.CALLS, direct=False)
                ),
            )
        return None

    return check


_NOT_MADE = frozenset({Outcome.NOT_CONNECTED, Outcome.UNDELIVERABLE})
"""Attempts that reached no one (a busy or dead number, a bounced message): no contact."""


def collection_interval(days: int, params: CNParams) -> Check:
    """CN-3 [U]: no collection contact about a debt within `days` natural days of the last
    one made about it, by the lender or its agencies (`collection_interval_days`)."""
    count_tz = zone(params.count_zone)

    def check(context: Context) -> Finding | None:
        if context.action.purpose is not Purpose.COLLECTION:
            return None
        debts = set(context.action.debt_ids)
        last = max((a.at for a in context.facts.attempts
                    if a.direction is Direction.OUTBOUND and a.purpose is Purpose.COLLECTION
                    and a.outcome not in _NOT_MADE and a.at <= context.at
                    and debts.intersection(a.debt_ids)), default=None)
        if last is None:
            return None
        since = last.astimezone(count_tz).date()
        resume = since + timedelta(days=days)
        until = local_midnight(resume, count_tz)
        if context.at >= until:
            return None
        return Finding(
            detail_en=f"the last collection contact about this debt was on {since} (Beijing "
            f"time); the next may be made from {resume}",
            detail_zh=f"上次就该债务催收为 {since}（北京时间），{resume} 起方可再次催收",
            not_before=until,
        )

    return check


def debtor_unreachable(context: Context, params: CNParams) -> bool:
    """CN-4 'lost contact' [U]: every debtor number invalid, or the last attempts all failed."""
    debtors = [
        p for p in context.facts.people if p.role in params.debtor_roles
    ]
    points = [point for person in debtors for point in person.contact_points]
    if points and all(point.invalid for point in points):
        return True
    ids = {person.person_id for person in debtors}
    recent = sorted(
        (a for a in context.facts.attempts if a.person_id in ids and a.at <= context.at),
        key=lambda a: a.at,
    )[-params.lost_contact_attempts :]
    failed = {Outcome.NOT_CONNECTED, Outcome.UNANSWERED, Outcome.VOICEMAIL, Outcome.UNDELIVERABLE}
    return len(recent) == params.lost_contact_attempts and all(a.outcome in failed for a in recent)


def collection_target(params: CNParams) -> Check:
    """CN-4: collect only from the debtor; others only when lost contact, to restore it."""

    def check(context: Context) -> Finding | None:
        role = context.action.recipient.role
        if role in params.debtor_roles or role is Role.ATTORNEY:
            return None
        person = context.person
        if not debtor_unreachable(context, params):
            return Finding(
                detail_en=f"the debtor can be reached; the {role.value} is not a collection target",
                detail_zh="债务人可以联系上，不得联系其他人催收",
            )
        if person is None or not person.pre_agreed_contact:
            return Finding(
                detail_en="only a contact the debtor named in advance may be contacted",
                detail_zh="失联时仅可联系债务人事先同意的联系人",
            )
        if context.action.purpose is not Purpose.LOCATION_INFO:
            return Finding(
                detail_en="a contact person may only be asked to help restore contact",
                detail_zh="联系人仅可被请求转告或协助恢复与债务人的联系",
            )
        return None

    return check


def disclosure(context: Context) -> Finding | None:
    """CN-5: no debt information to anyone but the debtor; nothing publicly visible."""
    action = context.action
    mentions = common.matches_of(context, "debt_reference")
    if action.publicly_visible:
        return Finding(
            detail_en="collection content must not be made visible to the public or contacts",
            detail_zh="不得公开或向通讯录联系人展示催收内容",
            matches=mentions,
        )
    if _outside(context) and action.recipient.role is not Role.ATTORNEY and mentions:
        return Finding(
            detail_en="the message discloses the debt to someone other than the debtor",
            detail_zh="信息向债务人以外的人披露了债务信息",
            matches=mentions,
        )
    return None


def identification(context: Context) -> Finding | None:
    """CN-6: identify the institution; no impersonation; agencies not on private channels."""
    action = context.action
    impersonation = common.matches_of(context, "impersonation")
    if impersonation:
        return Finding(
            detail_en="the wording impersonates a court, police or government body",
            detail_zh="话术冒充司法、公安或行政机关",
            matches=impersonation,
        )
    if not action.caller_identified:
        return Finding(
            detail_en="the collector must state the (entrusting) institution's name",
            detail_zh="催收人员必须表明（委托）机构名称",
        )
    actor = action.actor
    if (
        actor.kind is ActorKind.AGENCY
        and actor.on_private_channel
        and not actor.private_channel_approved
    ):
        return Finding(
            detail_en="an agency collector may not use a personal phone or social account "
            "without the lender's approval",
            detail_zh="委外催收人员未经授权不得使用私人电话或社交账号",
        )
    return None


def conduct(context: Context) -> Finding | None:
    """CN-7: no threats, insults, fake blacklists, exaggeration, disclosure, borrowing pressure."""
    found = common.matches_of(context, *FORBIDDEN_CONDUCT)
    if found:
        listed = "; ".join(f"{m.category}: “{m.matched}”" for m in found)
        return Finding(
            detail_en=f"prohibited collection wording: {listed}",
            detail_zh=f"禁止的催收用语：{listed}",
            matches=found,
        )
    if context.action.kind is ActionKind.LETTER and context.action.publicly_visible:
        return Finding(
            detail_en="collection notices must not be posted in public places",
            detail_zh="不得在公共场所张贴催收通知或律师函",
        )
    return None


def repayment(context: Context) -> Finding | None:
    """CN-8: repayment only to designated channels; no fees in the name of collection."""
    action = context.action
    if action.repayment_account and (
        action.repayment_account not in context.facts.designated_repayment_accounts
    ):
        return Finding(
            detail_en=f"{action.repayment_account!r} is not a designated repayment channel",
            detail_zh=f"{action.repayment_account!r} 不是指定的还款渠道",
        )
    fee = action.fee
    if action.kind is ActionKind.FEE and fee is not None and fee.in_name_of_collection:
        return Finding(
            detail_en=f"the fee {fee.amount} is charged in the name of collection",
            detail_zh=f"以催收名义收取费用 {fee.amount}",
        )
    return None


# --- field visits (CN-9): one rule per requirement, each from the text that introduced it ---


def _visit_check(
    problems: Callable[[Context, FieldVisit], list[tuple[str, str]]],
) -> Check:
    """A visit rule: `problems` lists what is wrong with the visit; none means it passes."""

    def check(context: Context) -> Finding | None:
        visit = context.action.visit
        if visit is None:
            return Finding(detail_en="visit details are missing", detail_zh="缺少外访信息")
        found = problems(context, visit)
        if not found:
            return None
        return Finding(
            detail_en="; ".join(en for en, _ in found),
            detail_zh="；".join(zh for _, zh in found),
        )

    return check


def visit_team(params: CNParams) -> Check:
    """CN-9 (CBA Art. 22): at least two collectors attend."""

    def problems(context: Context, visit: FieldVisit) -> list[tuple[str, str]]:
        if len(set(visit.collector_ids)) >= params.min_field_collectors:
            return []
        return [(
            f"at least {params.min_field_collectors} collectors must attend",
            f"外访至少需要 {params.min_field_collectors} 名催收人员",
        )]

    return _visit_check(problems)


def _visit_credentials(context: Context, visit: FieldVisit) -> list[tuple[str, str]]:
    """CN-9 (NIFA 公约 Art. 15): every collector shows a valid credential."""
    problems: list[tuple[str, str]] = []
    for collector in sorted(set(visit.collector_ids)):
        valid = any(
            c.collector_id == collector
            and c.valid_from <= context.at < c.valid_until
            and (c.revoked_at is None or c.revoked_at > context.at)
            for c in context.facts.credentials
        )
        if not valid:
            problems.append(
                (f"{collector} has no valid credential", f"{collector} 没有有效的催收证件")
            )
    return problems


def _visit_recording(context: Context, visit: FieldVisit) -> list[tuple[str, str]]:
    """CN-9 (NIFA 2018: 现场催收要全程录音录像)."""
    return [] if visit.recording else [("the whole visit must be recorded", "外访必须全程录音录像")]


def _visit_dress(context: Context, visit: FieldVisit) -> list[tuple[str, str]]:
    """CN-9 (NIFA 公约 Art. 20) / CN-6: no police-like or otherwise misleading dress."""
    if not visit.misleading_uniform:
        return []
    return [("no police-like or misleading dress", "不得穿着误导性（类警服）服装")]


def _visit_premises(context: Context, visit: FieldVisit) -> list[tuple[str, str]]:
    """CN-9 / CN-7: no entering the home or other private premises without consent."""
    if visit.enters_premises and not visit.premises_consent:
        return [("no entering the home without consent", "未经同意不得进入住宅或私人场所")]
    return []


def visit_house_conditions(params: CNParams) -> Check:
    """CN-9 house policy (`CNParams`): written authorization with legal review, remote contact
    failed or refused, minimum days past due and balance."""

    def problems(context: Context, visit: FieldVisit) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        if params.visit_requires_authorization:
            auth = next(
                (
                    a
                    for a in context.facts.visit_authorizations
                    if a.authorization_id == visit.authorization_id
                ),
                None,
            )
            if auth is None or not auth.written:
                found.append(("a written visit authorization is required", "需要书面外访授权"))
            else:
                if not auth.issued_at <= context.at < auth.valid_until:
                    found.append(("the authorization is not valid now", "外访授权不在有效期内"))
                if not set(context.action.debt_ids) <= set(auth.debt_ids):
                    found.append(
                        ("the authorization does not cover this debt", "外访授权未涵盖该债务")
                    )
                if not set(visit.collector_ids) <= set(auth.collector_ids):
                    found.append(
                        ("a collector is not named in the authorization", "有催收人员不在授权名单")
                    )
                if params.visit_requires_legal_review and (
                    auth.legal_review_at is None or auth.legal_review_at > context.at
                ):
                    found.append(("no legal review is recorded", "没有法务审核记录"))
        if params.visit_requires_remote_failure:
            refused = context.facts.refused_to_pay_at
            if not (
                (refused is not None and refused <= context.at)
                or debtor_unreachable(context, params)
            ):
                found.append(
                    (
                        "remote contact has neither failed nor been refused",
                        "远程联系既未失败也未被拒绝",
                    )
                )
        for debt in common.debts(context):
            if debt.dpd < params.visit_min_dpd:
                found.append(
                    (
                        f"{debt.debt_id} is {debt.dpd} days past due (< {params.visit_min_dpd})",
                        f"{debt.debt_id} 逾期 {debt.dpd} 天，未达 {params.visit_min_dpd} 天",
                    )
                )
            if debt.balance is not None and debt.balance.amount < params.visit_min_balance:
                found.append(
                    (
                        f"{debt.debt_id} balance {debt.balance} is below "
                        f"{params.visit_min_balance}",
                        f"{debt.debt_id} 余额 {debt.balance} 低于 {params.visit_min_balance}",
                    )
                )
        return found

    return _visit_check(problems)


# --- borrower's requests to stop (house policy, CN-7) -----------------------------------------


STOP_NOTICE_PURPOSES = frozenset({Purpose.PRE_REPORT_NOTICE})
"""A letter the lender owes even after a written request to stop: the advance notice of a
negative credit report (CN-21)."""


def stop_requests() -> Check:
    """House policy: no contact through a medium the borrower opted out of or asked the lender
    to stop using, and after a written request to stop, no contact at all but the notices
    owed. No PRC text read obliges this (rules.md Part B); contacting a person who asked not
    to be contacted is the harassment CN-7 forbids (民法典 1033(1): no disturbing private life
    by phone or message without consent)."""
    opted_out = common.medium_opt_out()
    ceased = common.written_cease(also_allowed=STOP_NOTICE_PURPOSES)

    def check(context: Context) -> Finding | None:
        return opted_out(context) or ceased(context)

    return check


# --- objections (house policy, CN-23) ---------------------------------------------------------


OBJECTION_PURPOSES = frozenset({Purpose.VERIFICATION, Purpose.OPT_OUT_CONFIRMATION,
                                Purpose.TERMINATION_NOTICE})
"""What may still go out while an objection is open: its written reply, and confirmations."""


def objection_suspends(context: Context) -> Finding | None:
    """House policy: while an objection (异议) about a debt is unanswered, nothing is collected
    on it. CN-23 only requires the item be marked and answered within 20 days; collecting a
    debt the lender is still verifying would press an amount that may be wrong (CN-7)."""
    if context.action.purpose in OBJECTION_PURPOSES:
        return None
    for dispute in common.open_disputes(context, context.action.debt_ids):
        on = dispute.received_at.astimezone(context.home_zone).date().isoformat()
        return Finding(
            detail_en=f"an objection about {dispute.debt_id} received {on} has not been "
            "answered",
            detail_zh=f"{on} 收到的关于 {dispute.debt_id} 的异议尚未答复，催收暂停",
        )
    return None


# --- outsourcing (CN-11) --------------------------------------------------------------------


def _agency_listed(context: Context, en: str, zh: str) -> Finding | None:
    actor = context.action.actor
    whitelist = context.facts.agency_whitelist
    if actor.kind is not ActorKind.AGENCY or whitelist is None:
        return None
    if actor.organisation in whitelist or actor.actor_id in whitelist:
        return None
    name = actor.organisation or actor.actor_id
    return Finding(detail_en=f"agency {name} is not on the {en}",
                   detail_zh=f"委外机构 {name} 不在{zh}内")


def agency_approved(context: Context) -> Finding | None:
    """CN-11 (银监发〔2009〕60号 Art. 13): only agencies approved by the lender's head office
    collect; `agency_whitelist` is that list (before 2026 it need not be published)."""
    return _agency_listed(context, "lender's approved agency list", "总行批准的委外机构名单")


def agency_whitelist(context: Context) -> Finding | None:
    """CN-11 (CBA 2026): only agencies on the lender's published whitelist may collect."""
    return _agency_listed(context, "published whitelist", "公布的白名单")


def pre_report_notice(context: Context) -> Finding | None:
    """CN-21: notify the debtor before reporting negative information."""
    report = context.action.report
    if report is None or not report.negative:
        return None
    for debt_id in context.action.debt_ids:
        notified = any(
            n.debt_id == debt_id and n.kind is NoticeKind.PRE_REPORT and n.sent_at < context.at
            for n in context.facts.notices
        )
        if not notified:
            return Finding(
                detail_en=f"no advance notice to the debtor before reporting {debt_id} negatively",
                detail_zh=f"报送 {debt_id} 不良信息前未事先告知信息主体",
            )
    return None


def negative_retention(params: CNParams) -> Check:
    """CN-22: negative records go 5 years after the adverse event ends."""

    def check(context: Context) -> Finding | None:
        report = context.action.report
        if report is None or not report.negative:
            return None
        today = context.at.astimezone(zone(params.count_zone)).date()
        for debt in common.debts(context):
            ended = debt.paid_in_full_on
            if ended is None:
                continue
            try:
                expiry = ended.replace(year=ended.year + params.negative_record_years)
            except ValueError:
                expiry = date(ended.year + params.negative_record_years, 3, 1)
            if today >= expiry:
                return Finding(
                    detail_en=f"the negative record for {debt.debt_id} expired on {expiry}",
                    detail_zh=f"{debt.debt_id} 的不良信息已于 {expiry} 到期，应删除",
                )
        return None

    return check


def _rule(
    rule_id: str,
    ref: str,
    citation: str,
    effective_from: date,
    kinds: frozenset[ActionKind],
    check: Check,
    reason_en: str,
    reason_zh: str,
    layer: str,
    *,
    needs_content: bool = False,
) -> Rule:
    return Rule(
        rule_id=rule_id,
        ref=ref,
        citation=citation,
        effective_from=effective_from,
        kinds=kinds,
        check=check,
        reason_en=reason_en,
        reason_zh=reason_zh,
        layer=layer,
        needs_content=needs_content,
    )


CALL = frozenset({ActionKind.CALL})
TIMED = CONTACT_KINDS - {ActionKind.LETTER}
MESSAGES = CONTACT_KINDS
REPORT = frozenset({ActionKind.CREDIT_REPORT})
VISIT = frozenset({ActionKind.FIELD_VISIT})


def rules(params: CNParams = DEFAULT_PARAMS) -> tuple[Rule, ...]:
    p = params
    extra = ("Asia/Shanghai",) if p.also_beijing_time else ()
    return (
        _rule(
            "cn.gbt45251.collection_hours", "CN-1",
            "GB/T 45251-2025; NIFA 《互联网金融贷后催收业务指引》(2024); "
            "CBA 《金融机构个人消费类贷款催收工作指引（试行）》(2026)", GBT_45251, TIMED,
            common.contact_hours(p.day_start, p.day_end, direct_consent=False, extra_zones=extra),
            "No collection between 22:00 and 08:00 without the debtor's agreement.",
            "未经债务人同意，不得在每日 22:00 至次日 8:00 催收。",
            "national standard",
        ),
        _rule(
            "cn.gbt45251.call_frequency", "CN-2",
            "GB/T 45251-2025; NIFA 指引 (2024); CBA 指引 (2026)", GBT_45251, CALL,
            calls_per_day(p),
            "At most 3 connected calls a day to a debtor (lender and agencies together) and "
            "6 unanswered attempts a day per contact method.",
            "每日接通债务人电话合计不超过 3 次（含委外机构），同一联系方式未接通拨打不超过 6 次。",
            "national standard",
        ),
        *((_rule(
            "cn.gbt45251.collection_interval", "CN-3", "GB/T 45251-2025 (reported) [U]",
            GBT_45251, MESSAGES, collection_interval(p.collection_interval_days, p),
            f"At most one collection contact about a debt every {p.collection_interval_days} "
            "natural days (as configured).",
            f"同一笔债务的催收间隔不少于 {p.collection_interval_days} 个自然日（按配置）。",
            "national standard",
        ),) if p.collection_interval_days else ()),
        _rule(
            "cn.card2011.collection_target", "CN-4",
            "商业银行信用卡业务监督管理办法 第68条; GB/T 45251-2025; NIFA 公约 第13-14条; CBA 指引",
            CARD_2011, MESSAGES, collection_target(p),
            "Collect only from the debtor (and guarantor); contacts only when the debtor is "
            "unreachable, to restore contact.",
            "仅向债务人（及担保人）催收；失联时仅可请联系人协助恢复联系。",
            "regulator rule",
        ),
        _rule(
            "cn.civilcode.non_disclosure", "CN-5",
            "民法典 第1032-1033条; NIFA 公约 第18条; CBA 指引", CIVIL_CODE, MESSAGES, disclosure,
            "Do not disclose the debt to anyone but the debtor.",
            "不得向债务人以外的人披露债务信息。",
            "law",
        ),
        _rule(
            "cn.nifa2018.identification", "CN-6", "NIFA 公约 第15条; CBA 指引", NIFA_2018,
            MESSAGES, identification,
            "State the institution; never impersonate courts, police or government.",
            "须表明机构身份，不得冒充司法、公安或行政机关。",
            "self-regulation",
        ),
        _rule(
            "cn.cba2026.prohibited_conduct", "CN-7",
            "CBA 指引 (2026); NIFA 公约 第16、19条; 刑法 第293条之一; 民法典 第1033条", NIFA_2018,
            MESSAGES, conduct,
            "No threats, insults, fake blacklists, exaggerated consequences, disclosure or "
            "pressure to borrow elsewhere.",
            "不得威胁、辱骂、虚构黑名单、夸大后果、泄露信息或诱导借新还旧。",
            "self-regulation",
        ),
        _rule(
            "cn.nifa2018.repayment_channels", "CN-8", "NIFA 公约 第19条; CBA 指引", NIFA_2018,
            MESSAGES | {ActionKind.FEE}, repayment,
            "Repayment only through designated channels; no collection fees.",
            "仅可引导至指定还款渠道，不得以催收名义收费。",
            "self-regulation",
        ),
        _rule(
            "cn.nifa2018.visit_credentials", "CN-9", "NIFA 公约 第15条; CBA 指引 (2026)",
            NIFA_2018, VISIT, _visit_check(_visit_credentials),
            "Field collectors show valid credentials.",
            "外访人员须主动出示有效证件。",
            "self-regulation",
        ),
        _rule(
            "cn.nifa2018.visit_recording", "CN-9",
            "NIFA 公约 第21条 (“现场催收要全程录音录像”); CBA 指引 (2026)", NIFA_2018, VISIT,
            _visit_check(_visit_recording),
            "The whole field visit is audio- and video-recorded.",
            "外访须全程录音录像。",
            "self-regulation",
        ),
        _rule(
            "cn.nifa2018.visit_dress", "CN-9",
            "NIFA 公约 第15、20条 [U: Art. 20 attribution]; CBA 指引 (2026)", NIFA_2018, VISIT,
            _visit_check(_visit_dress),
            "No police-like or otherwise misleading dress on a field visit.",
            "外访不得穿着类警服等误导性服装。",
            "self-regulation",
        ),
        _rule(
            "cn.criminal2021.visit_premises", "CN-9",
            "刑法 第293条之一 (刑法修正案（十一）); CBA 指引 (2026)", CRIMINAL_AMENDMENT_XI,
            VISIT, _visit_check(_visit_premises),
            "No entering the home or other private premises without consent.",
            "未经同意不得进入住宅或其他私人场所。",
            "law",
        ),
        _rule(
            "cn.cba2026.field_visit", "CN-9", "CBA 指引 第22条", CBA_2026, VISIT, visit_team(p),
            "Field visits need at least two collectors.",
            "外访须至少两名催收人员。",
            "self-regulation",
        ),
        _rule(
            "cn.house.visit_conditions", "CN-9", "house policy (CNParams): authorization, "
            "legal review, failed or refused remote contact, minimum DPD and balance",
            p.house_policy_from, VISIT, visit_house_conditions(p),
            "The lender's own conditions for a field visit must hold.",
            "外访须满足本机构的外访条件（授权、法务审核、远程联系失败或拒绝还款、逾期天数与金额）。",
            "house policy",
        ),
        _rule(
            "cn.house.opt_out", "CN-7", "house policy, after the harassment red line: "
            "CBA 指引 (2026); NIFA 公约 第16条; 民法典 第1033条",
            p.opt_out_policy_from, CONTACT_KINDS, stop_requests(),
            "A borrower's opt-out of a channel, or request to stop calls or all contact, is "
            "honoured.",
            "借款人退订某一联系渠道或要求停止致电、停止联系的，予以尊重。",
            "house policy",
        ),
        _rule(
            "cn.house.objection_suspends", "CN-23", "house policy, after 征信业管理条例 "
            "第25条 and CN-7", p.objection_policy_from, CONTACT_KINDS, objection_suspends,
            "Collection of a debt stops while the borrower's objection to it is unanswered.",
            "借款人对债务提出异议且尚未答复的，暂停对该债务的催收。",
            "house policy",
        ),
        _rule(
            "cn.cbrc2009.agency_approval", "CN-11", "银监发〔2009〕60号 第13条", CBRC_2009,
            MESSAGES | REPORT | {ActionKind.LEGAL_ACTION}, agency_approved,
            "Only agencies approved by the lender's head office may collect.",
            "仅经总行批准的委外机构可以催收。",
            "regulator rule",
        ),
        _rule(
            "cn.cba2026.agency_whitelist", "CN-11", "CBA 指引 (2026)",
            CBA_2026, MESSAGES | REPORT | {ActionKind.LEGAL_ACTION}, agency_whitelist,
            "Only agencies on the lender's published whitelist may collect.",
            "仅白名单内的委外机构可以催收。",
            "self-regulation",
        ),
        _rule(
            "cn.credit2013.pre_report_notice", "CN-21", "征信业管理条例 第15条", CREDIT_REG_2013,
            REPORT, pre_report_notice,
            "Notify the debtor before reporting negative information.",
            "报送不良信息前应事先告知信息主体。",
            "administrative regulation",
        ),
        _rule(
            "cn.credit2013.negative_retention", "CN-22", "征信业管理条例 第16条", CREDIT_REG_2013,
            REPORT, negative_retention(p),
            "Negative records are kept 5 years after the adverse event ends, then deleted.",
            "不良信息自不良行为终止之日起保存 5 年，期满删除。",
            "administrative regulation",
        ),
        _rule(
            "cn.credit2013.objection_mark", "CN-23", "征信业管理条例 第25条", CREDIT_REG_2013,
            REPORT, common.report_marks_disputes(),
            "An item under objection must be marked as disputed.",
            "存在异议的信息应予以标注。",
            "administrative regulation",
        ),
    )


def pack(params: CNParams = DEFAULT_PARAMS) -> Pack:
    """The PRC pack built with `params`."""
    return Pack(
        code="cn",
        name="中华人民共和国 — 催收规范",
        version="2026.3",
        reference_zone="Asia/Shanghai",
        fallback_zones=("Asia/Shanghai",),
        rules=rules(params),
        params=params,
    )
