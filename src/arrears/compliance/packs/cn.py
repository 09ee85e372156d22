"""People's Republic of China: collection conduct, contact limits, visits and credit reporting.

Layers (strictest applicable wins, rules.md Part B): law (民法典, 刑法), administrative
regulation (征信业管理条例), regulator rules (信用卡业务监督管理办法), the national standard
GB/T 45251-2025, and self-regulation (NIFA 2018 公约, NIFA 2024 指引, CBA 2026 指引). Each rule
records its layer, cites its source, carries its effective date and its rules.md id. Numbers
are `CNParams` fields; [U] marks defaults not confirmed in the text read. Not legal advice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta
from decimal import Decimal

from arrears.compliance.engine import Context
from arrears.compliance.facts import ConsentScope, NoticeKind, Outcome
from arrears.compliance.model import (
    CONTACT_KINDS,
    ActionKind,
    ActorKind,
    Check,
    Finding,
    Pack,
    Purpose,
    Role,
    Rule,
)
from arrears.compliance.packs import common
from arrears.compliance.predicates import count_since, local_midnight, zone

GBT_45251 = date(2025, 2, 28)
NIFA_2018 = date(2018, 3, 28)
NIFA_2024 = date(2024, 5, 15)
CBA_2026 = date(2026, 1, 30)
CARD_2011 = date(2011, 1, 13)
CREDIT_REG_2013 = date(2013, 3, 15)
CIVIL_CODE = date(2021, 1, 1)

FORBIDDEN_CONDUCT = (
    "threat_violence",
    "threat_arrest",
    "false_blacklist",
    "exaggerated_consequence",
    "third_party_disclosure",
    "borrow_elsewhere",
    "insult",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class CNParams:
    """Numbers the PRC rules read. Defaults follow rules.md; [U] marks unconfirmed ones."""

    day_start: time = time(8, 0)
    """CN-1: no collection from 22:00 to 08:00 the next day."""
    day_end: time = time(22, 0)
    also_beijing_time: bool = False
    """CN-1 [U]: the texts speak of the hours without a zone. Default: judge them in every zone
    the debtor may be in (Beijing time when none is known). True also requires Beijing time."""
    count_zone: str = "Asia/Shanghai"
    """CN-2: the calendar day calls are counted in (Beijing time)."""
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


DEFAULT_PARAMS = CNParams()


def _outside(context: Context) -> bool:
    return context.action.recipient.role not in (Role.BORROWER, Role.GUARANTOR)


def calls_per_day(params: CNParams) -> Check:
    """CN-2: connected calls per debtor per day; unanswered attempts per contact method."""
    count_tz = zone(params.count_zone)

    def check(context: Context) -> Finding | None:
        if context.action.recipient.role not in params.debtor_roles:
            return None
        day = context.at.astimezone(count_tz).date()
        since = local_midnight(day, count_tz).timestamp()
        tomorrow = local_midnight(day + timedelta(days=1), count_tz)
        person = context.action.recipient.person_id
        index = context.index
        connected = sum(
            count_since(index.calls_by_person_outcome.get((person, o.value), ()), since)
            for o in params.connected_outcomes
        )
        if connected >= params.connected_calls_per_day:
            return Finding(
                detail_en=f"{connected} calls to the debtor already connected on {day} "
                "(lender and agencies together)",
                detail_zh=f"{day} 当天（含委外机构）已接通债务人电话 {connected} 次",
                not_before=tomorrow,
            )
        point = context.action.recipient.contact_point
        unanswered = sum(
            count_since(index.calls_by_point_outcome.get((person, point, o.value), ()), since)
            for o in params.unanswered_outcomes
        )
        if unanswered >= params.unanswered_attempts_per_method_per_day and not (
            common.consent_covers(context, ConsentScope.CALLS, direct=False)
        ):
            return Finding(
                detail_en=f"{unanswered} unanswered attempts to this number on {day}",
                detail_zh=f"{day} 当天已对该号码未接通拨打 {unanswered} 次",
                not_before=tomorrow,
            )
        return None

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


def field_visit(params: CNParams) -> Check:
    """CN-9 and house conditions: two credentialed collectors, recording, authorization."""

    def check(context: Context) -> Finding | None:
        visit = context.action.visit
        if visit is None:
            return Finding(detail_en="visit details are missing", detail_zh="缺少外访信息")
        problems: list[tuple[str, str]] = []
        collectors = set(visit.collector_ids)
        if len(collectors) < params.min_field_collectors:
            problems.append(
                (
                    f"at least {params.min_field_collectors} collectors must attend",
                    f"外访至少需要 {params.min_field_collectors} 名催收人员",
                )
            )
        for collector in sorted(collectors):
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
        if not visit.recording:
            problems.append(("the whole visit must be recorded", "外访必须全程录音录像"))
        if visit.misleading_uniform:
            problems.append(("no police-like or misleading dress", "不得穿着误导性（类警服）服装"))
        if visit.enters_premises and not visit.premises_consent:
            problems.append(
                ("no entering the home without consent", "未经同意不得进入住宅或私人场所")
            )
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
                problems.append(("a written visit authorization is required", "需要书面外访授权"))
            else:
                if not auth.issued_at <= context.at < auth.valid_until:
                    problems.append(("the authorization is not valid now", "外访授权不在有效期内"))
                if not set(context.action.debt_ids) <= set(auth.debt_ids):
                    problems.append(
                        ("the authorization does not cover this debt", "外访授权未涵盖该债务")
                    )
                if not collectors <= set(auth.collector_ids):
                    problems.append(
                        ("a collector is not named in the authorization", "有催收人员不在授权名单")
                    )
                if params.visit_requires_legal_review and (
                    auth.legal_review_at is None or auth.legal_review_at > context.at
                ):
                    problems.append(("no legal review is recorded", "没有法务审核记录"))
        if params.visit_requires_remote_failure:
            refused = context.facts.refused_to_pay_at
            if not (
                (refused is not None and refused <= context.at)
                or debtor_unreachable(context, params)
            ):
                problems.append(
                    (
                        "remote contact has neither failed nor been refused",
                        "远程联系既未失败也未被拒绝",
                    )
                )
        for debt in common.debts(context):
            if debt.dpd < params.visit_min_dpd:
                problems.append(
                    (
                        f"{debt.debt_id} is {debt.dpd} days past due (< {params.visit_min_dpd})",
                        f"{debt.debt_id} 逾期 {debt.dpd} 天，未达 {params.visit_min_dpd} 天",
                    )
                )
            if debt.balance is not None and debt.balance.amount < params.visit_min_balance:
                problems.append(
                    (
                        f"{debt.debt_id} balance {debt.balance} is below "
                        f"{params.visit_min_balance}",
                        f"{debt.debt_id} 余额 {debt.balance} 低于 {params.visit_min_balance}",
                    )
                )
        if not problems:
            return None
        return Finding(
            detail_en="; ".join(en for en, _ in problems),
            detail_zh="；".join(zh for _, zh in problems),
        )

    return check


def agency_whitelist(context: Context) -> Finding | None:
    """CN-11: only agencies on the lender's published whitelist may collect."""
    actor = context.action.actor
    whitelist = context.facts.agency_whitelist
    if actor.kind is not ActorKind.AGENCY or whitelist is None:
        return None
    if actor.organisation in whitelist or actor.actor_id in whitelist:
        return None
    return Finding(
        detail_en=f"agency {actor.organisation or actor.actor_id} is not on the published "
        "whitelist",
        detail_zh=f"委外机构 {actor.organisation or actor.actor_id} 不在公布的白名单内",
    )


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
            "cn.cba2026.field_visit", "CN-9", "CBA 指引 第22条; NIFA 公约 第15、20、21条", CBA_2026,
            frozenset({ActionKind.FIELD_VISIT}), field_visit(p),
            "Field visits need two credentialed collectors, full recording, written "
            "authorization and no entry without consent.",
            "外访须至少两名持证人员、全程录音录像、书面授权，未经同意不得入户。",
            "self-regulation",
        ),
        _rule(
            "cn.cba2026.agency_whitelist", "CN-11", "CBA 指引 (2026); 银监发〔2009〕60号 第13条",
            CBA_2026, MESSAGES | REPORT | {ActionKind.LEGAL_ACTION}, agency_whitelist,
            "Only whitelisted agencies may collect.",
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
        version="2026.1",
        reference_zone="Asia/Shanghai",
        fallback_zones=("Asia/Shanghai",),
        rules=rules(params),
        params=params,
    )
