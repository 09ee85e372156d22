"""PRC pack: one test per worked example in shared/reference/rules.md, named by rule id."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from arrears.compliance import packs

from compliance_builders import SHANGHAI, action, at, attempt, blocked_by, decide, facts, person

HOURS = "cn.gbt45251.collection_hours"
FREQ = "cn.gbt45251.call_frequency"
TARGET = "cn.card2011.collection_target"


def bj(text: str) -> Any:
    return at(text, SHANGHAI)


def debtor(**extra: Any) -> dict[str, Any]:
    extra.setdefault("points", ({"id": "m1", "kind": "cell"}, {"id": "m2", "kind": "cell"}))
    return person("p", zones=(SHANGHAI,), **extra)


def cn_facts(**document: Any) -> Any:
    document.setdefault("people", [debtor()])
    document.setdefault("debts", [{"debt_id": "D1", "dpd": 45,
                                   "balance": {"amount": "5000.00", "currency": "CNY"}}])
    return facts(**document)


def call(**extra: Any) -> Any:
    extra.setdefault("actor", {"actor_id": "lender-7", "kind": "internal",
                               "organisation": "某消费金融公司"})
    extra.setdefault("recipient", {"person_id": "p", "role": "borrower", "contact_point": "m1"})
    return action("call", **extra)


def cn_attempt(when: str, organisation: str = "", **extra: Any) -> dict[str, Any]:
    extra.setdefault("point", "m1")
    extra.setdefault("actor", "lender-7")
    return {**attempt(when, tz=SHANGHAI, **extra), "organisation": organisation}


def test_cn_1_collection_hours() -> None:
    fx = cn_facts()
    assert decide("cn", call(), fx, bj("2025-06-02T21:59")).allowed
    late = decide("cn", call(), fx, bj("2025-06-02T22:00"))
    assert blocked_by(late) == {HOURS}
    assert late.next_allowed_at == bj("2025-06-03T08:00")
    visit = action("field_visit", recipient={"person_id": "p", "role": "borrower"},
                   visit={"collector_ids": ["c1", "c2"], "recording": True})
    assert HOURS in blocked_by(decide("cn", visit, fx, bj("2025-06-02T07:30")))
    agreed = {"person_id": "p", "scope": "hours", "given_at": bj("2025-06-01T10:00").isoformat(),
              "valid_from": bj("2025-06-02T22:30").isoformat(),
              "valid_until": bj("2025-06-02T23:00").isoformat()}
    fx = cn_facts(consents=[agreed])
    assert decide("cn", call(), fx, bj("2025-06-02T22:30")).allowed
    before = decide("cn", call(), fx, bj("2025-06-02T22:10"))
    assert before.next_allowed_at == bj("2025-06-02T22:30")


def test_cn_2_three_connected_calls_across_lender_and_agency() -> None:
    history = [
        cn_attempt("2025-06-02T09:00", outcome="answered"),
        cn_attempt("2025-06-02T11:00", outcome="conversation", actor="agency-1"),
        cn_attempt("2025-06-02T15:00", outcome="answered"),
    ]
    fx = cn_facts(attempts=history)
    fourth = decide("cn", call(), fx, bj("2025-06-02T17:00"))
    assert blocked_by(fourth) == {FREQ}
    assert fourth.next_allowed_at == bj("2025-06-03T08:00")
    assert decide("cn", call(), cn_facts(attempts=history[:2]), bj("2025-06-02T17:00")).allowed


def test_cn_2_six_unanswered_attempts_per_contact_method() -> None:
    history = [cn_attempt(f"2025-06-02T{9 + i // 2:02d}:{(i % 2) * 30:02d}") for i in range(6)]
    fx = cn_facts(attempts=history)
    assert FREQ in blocked_by(decide("cn", call(), fx, bj("2025-06-02T12:00")))
    second_number = call(recipient={"person_id": "p", "role": "borrower", "contact_point": "m2"})
    assert decide("cn", second_number, fx, bj("2025-06-02T12:00")).allowed


def test_cn_4_contacts_are_not_collection_targets() -> None:
    mother = person("mum", role="emergency_contact", zones=(SHANGHAI,), pre_agreed_contact=True)
    to_mother = call(recipient={"person_id": "mum", "role": "emergency_contact"},
                     purpose="location_info", content="请让他给我们回个电话。")
    reachable = cn_facts(people=[debtor(), mother])
    assert TARGET in blocked_by(decide("cn", to_mother, reachable, bj("2025-06-02T10:00")))
    lost = debtor(points=({"id": "m1", "kind": "cell", "invalid": True},))
    unreachable = cn_facts(people=[lost, mother])
    assert decide("cn", to_mother, unreachable, bj("2025-06-02T10:00")).allowed
    owes = call(recipient={"person_id": "mum", "role": "emergency_contact"},
                purpose="location_info", content="他欠了5,000元，请让他回电。")
    decision = decide("cn", owes, unreachable, bj("2025-06-02T10:00"))
    assert "cn.civilcode.non_disclosure" in blocked_by(decision)


def test_cn_5_group_message_to_contact_list() -> None:
    friend = person("f", role="third_party", zones=(SHANGHAI,))
    blast = action("app_push", recipient={"person_id": "f", "role": "third_party"},
                   actor={"actor_id": "lender-7", "kind": "internal"},
                   publicly_visible=True, content="张三贷款逾期未还，请转告他尽快还款！")
    decision = decide("cn", blast, cn_facts(people=[debtor(), friend]), bj("2025-06-02T10:00"))
    assert "cn.civilcode.non_disclosure" in blocked_by(decision)


def test_cn_6_impersonating_the_court_and_private_phones() -> None:
    fx = cn_facts()
    court = call(content="This is the court enforcement office. 我们是法院执行局的。")
    assert "cn.nifa2018.identification" in blocked_by(decide("cn", court, fx,
                                                             bj("2025-06-02T10:00")))
    private = call(actor={"actor_id": "a1", "kind": "agency", "on_private_channel": True})
    assert "cn.nifa2018.identification" in blocked_by(decide("cn", private, fx,
                                                             bj("2025-06-02T10:00")))


def test_cn_7_prohibited_conduct() -> None:
    fx = cn_facts()
    borrow = action("sms", actor={"actor_id": "lender-7", "kind": "internal"},
                    recipient={"person_id": "p", "role": "borrower", "contact_point": "m1"},
                    content="今天就去別的平台借錢還我們！ borrow from another app to pay us today")
    decision = decide("cn", borrow, fx, bj("2025-06-02T10:00"))
    assert "cn.cba2026.prohibited_conduct" in blocked_by(decision)
    categories = {m.category for v in decision.violations for m in v.matches}
    assert "borrow_elsewhere" in categories
    door = action("letter", actor={"actor_id": "lender-7", "kind": "internal"},
                  recipient={"person_id": "p", "role": "borrower"}, publicly_visible=True,
                  content="催收通知")
    assert "cn.cba2026.prohibited_conduct" in blocked_by(decide("cn", door, fx,
                                                                bj("2025-06-02T10:00")))
    blacklist = call(content="你 会 上 全 国 黑 名 单")
    assert "cn.cba2026.prohibited_conduct" in blocked_by(decide("cn", blacklist, fx,
                                                                bj("2025-06-02T10:00")))


def test_cn_8_personal_repayment_account() -> None:
    fx = cn_facts(designated_repayment_accounts=["ICBC-0001"])
    alipay = call(content="请转到我的支付宝", repayment_account="alipay:collector-personal")
    assert "cn.nifa2018.repayment_channels" in blocked_by(decide("cn", alipay, fx,
                                                                 bj("2025-06-02T10:00")))
    assert decide("cn", call(repayment_account="ICBC-0001"), fx, bj("2025-06-02T10:00")).allowed


def _visit_facts(**extra: Any) -> Any:
    window = {"valid_from": bj("2026-01-01T00:00").isoformat(),
              "valid_until": bj("2027-01-01T00:00").isoformat()}
    return cn_facts(
        credentials=[{"collector_id": "c1", **window}, {"collector_id": "c2", **window}],
        visit_authorizations=[{
            "authorization_id": "V1", "debt_ids": ["D1"], "collector_ids": ["c1", "c2"],
            "issued_at": bj("2026-06-01T09:00").isoformat(),
            "valid_until": bj("2026-06-30T00:00").isoformat(),
            "legal_review_at": bj("2026-06-01T10:00").isoformat(),
        }],
        refused_to_pay_at=bj("2026-05-20T10:00").isoformat(),
        **extra,
    )


def _visit(**visit: Any) -> Any:
    body = {"collector_ids": ["c1", "c2"], "recording": True, "authorization_id": "V1", **visit}
    return action("field_visit", actor={"actor_id": "lender-7", "kind": "internal"},
                  recipient={"person_id": "p", "role": "borrower"}, visit=body)


def test_cn_9_field_visits() -> None:
    fx = _visit_facts()
    alone = decide("cn", _visit(collector_ids=["c1"]), fx, bj("2026-06-02T15:00"))
    assert blocked_by(alone) == {"cn.cba2026.field_visit"}
    assert decide("cn", _visit(), fx, bj("2026-06-02T15:00")).allowed
    entering = decide("cn", _visit(enters_premises=True), fx, bj("2026-06-02T15:00"))
    assert blocked_by(entering) == {"cn.criminal2021.visit_premises"}
    no_recording = decide("cn", _visit(recording=False), fx, bj("2026-06-02T15:00"))
    assert blocked_by(no_recording) == {"cn.nifa2018.visit_recording"}
    assert "全程录音录像" in no_recording.violations[0].detail_zh


# Each visit requirement, the date it took effect, and a visit that breaks only it.
VISIT_REQUIREMENTS = [
    ("cn.nifa2018.visit_credentials", "2018-03-28", {"collector_ids": ["c1", "c9"]}),
    ("cn.nifa2018.visit_recording", "2018-03-28", {"recording": False}),
    ("cn.nifa2018.visit_dress", "2018-03-28", {"misleading_uniform": True}),
    ("cn.criminal2021.visit_premises", "2021-03-01", {"enters_premises": True}),
    ("cn.cba2026.field_visit", "2026-01-30", {"collector_ids": ["c1"]}),
]


def _dated_visit_facts(day: str) -> Any:
    """Everything in order for a visit on `day` except what the test breaks."""
    window = {"valid_from": bj("2015-01-01T00:00").isoformat(),
              "valid_until": bj("2030-01-01T00:00").isoformat()}
    revoked = {"revoked_at": window["valid_from"]}
    return cn_facts(
        credentials=[{"collector_id": "c1", **window}, {"collector_id": "c2", **window},
                     {"collector_id": "c9", **window, **revoked}],
        visit_authorizations=[{
            "authorization_id": "V1", "debt_ids": ["D1"], "collector_ids": ["c1", "c2", "c9"],
            "issued_at": bj(f"{day}T00:00").isoformat(),
            "valid_until": bj("2030-01-01T00:00").isoformat(),
            "legal_review_at": bj(f"{day}T00:00").isoformat(),
        }],
        refused_to_pay_at=bj("2015-01-01T00:00").isoformat(),
    )


@pytest.mark.parametrize(("rule_id", "effective", "broken"), VISIT_REQUIREMENTS)
def test_cn_9_each_visit_requirement_is_judged_from_its_own_date(
    rule_id: str, effective: str, broken: dict[str, Any]
) -> None:
    """A visit before a requirement existed is not held to it; from that day on it is, and
    the earlier requirements keep applying to earlier visits (NIFA 2018 already required
    recording and credentials before the CBA 2026 guideline)."""
    day_before = (date.fromisoformat(effective) - timedelta(days=1)).isoformat()
    for day, in_force in ((day_before, False), (effective, True), ("2026-06-02", True)):
        decision = decide("cn", _visit(**broken), _dated_visit_facts(day), bj(f"{day}T15:00"))
        assert (rule_id in blocked_by(decision)) is in_force, (day, decision.violations)
        assert blocked_by(decision) <= {rule_id}, (day, decision.violations)


def test_cn_9_an_early_visit_is_checked_not_waved_through() -> None:
    """A 2025 visit by one unrecorded collector without a credential: the 2018 rules block it,
    the 2026 two-collector rule does not yet apply."""
    fx = _dated_visit_facts("2025-06-02")
    visit = _visit(collector_ids=["c9"], recording=False)
    assert blocked_by(decide("cn", visit, fx, bj("2025-06-02T15:00"))) == {
        "cn.nifa2018.visit_credentials", "cn.nifa2018.visit_recording"}


def test_cn_9_house_conditions_hold_on_every_date() -> None:
    fx = _dated_visit_facts("2017-06-02")
    unauthorized = _visit(authorization_id="V-none")
    assert blocked_by(decide("cn", unauthorized, fx, bj("2017-06-02T15:00"))) == {
        "cn.house.visit_conditions"}


def test_cn_11_agency_not_on_whitelist() -> None:
    fx = cn_facts(agency_whitelist=["Good Agency Ltd"])
    rogue = call(actor={"actor_id": "x1", "kind": "agency", "organisation": "Rogue Ltd"})
    assert {"cn.cba2026.agency_whitelist", "cn.cbrc2009.agency_approval"} <= blocked_by(
        decide("cn", rogue, fx, bj("2026-06-02T10:00")))
    good = call(actor={"actor_id": "g1", "kind": "agency", "organisation": "Good Agency Ltd"})
    assert decide("cn", good, fx, bj("2026-06-02T10:00")).allowed


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("2009-06-18", set()),
        ("2009-06-19", {"cn.cbrc2009.agency_approval"}),
        ("2025-06-02", {"cn.cbrc2009.agency_approval"}),
        ("2026-01-30", {"cn.cbrc2009.agency_approval", "cn.cba2026.agency_whitelist"}),
    ],
)
def test_cn_11_outsourcing_before_the_whitelist_is_judged_by_the_2009_notice(
    day: str, expected: set[str]
) -> None:
    fx = cn_facts(agency_whitelist=["Good Agency Ltd"])
    rogue = call(actor={"actor_id": "x1", "kind": "agency", "organisation": "Rogue Ltd"})
    decision = decide("cn", rogue, fx, bj(f"{day}T10:00"))
    assert {r for r in blocked_by(decision) if "agency" in r} == expected


# --- issue 16 item 8: CN-2 counts per creditor, its own team and agencies together ---------


def test_cn_2_connected_calls_count_per_creditor() -> None:
    debts = [{"debt_id": "D1", "creditor": "Bank A", "dpd": 45},
             {"debt_id": "D2", "creditor": "Bank B", "dpd": 45}]
    history = [
        cn_attempt("2025-06-02T09:00", outcome="answered", actor="a-agent",
                   organisation="Agency 1"),
        cn_attempt("2025-06-02T11:00", outcome="conversation", actor="lender-7"),
        cn_attempt("2025-06-02T15:00", outcome="answered", actor="b-agent",
                   organisation="Agency 2"),
    ]
    fx = cn_facts(debts=debts, attempts=history)
    assert FREQ in blocked_by(decide("cn", call(), fx, bj("2025-06-02T17:00")))
    for_b = call(debt_ids=["D2"])
    assert decide("cn", for_b, fx, bj("2025-06-02T17:00")).allowed
    unknown = call(debt_ids=["D9"])  # a debt the facts do not know: every creditor's calls
    assert FREQ in blocked_by(decide("cn", unknown, fx, bj("2025-06-02T17:00")))
def test_cn_21_negative_report_needs_prior_notice() -> None:
    report = action("credit_report", actor={"actor_id": "lender-7", "kind": "internal"},
                    recipient={"person_id": "p", "role": "borrower"}, report={"negative": True})
    assert "cn.credit2013.pre_report_notice" in blocked_by(
        decide("cn", report, cn_facts(), bj("2025-06-30T23:00"))
    )
    notified = cn_facts(notices=[{"debt_id": "D1", "kind": "pre_report", "channel": "sms",
                                  "sent_at": bj("2025-06-25T10:00").isoformat()}])
    assert decide("cn", report, notified, bj("2025-06-30T23:00")).allowed


def test_cn_22_negative_record_kept_five_years() -> None:
    fx = cn_facts(
        debts=[{"debt_id": "D1", "paid_in_full_on": "2024-03-15"}],
        notices=[{"debt_id": "D1", "kind": "pre_report", "channel": "sms",
                  "sent_at": bj("2024-01-01T10:00").isoformat()}],
    )
    report = action("credit_report", actor={"actor_id": "lender-7", "kind": "internal"},
                    recipient={"person_id": "p", "role": "borrower"}, report={"negative": True})
    assert decide("cn", report, fx, bj("2029-03-14T10:00")).allowed
    assert "cn.credit2013.negative_retention" in blocked_by(decide("cn", report, fx,
                                                                   bj("2029-04-01T10:00")))


def test_cn_23_objection_must_be_marked() -> None:
    fx = cn_facts(
        disputes=[{"debt_id": "D1", "received_at": bj("2026-03-02T10:00").isoformat(),
                   "in_writing": True}],
        notices=[{"debt_id": "D1", "kind": "pre_report", "channel": "sms",
                  "sent_at": bj("2026-02-01T10:00").isoformat()}],
    )
    report = action("credit_report", actor={"actor_id": "lender-7", "kind": "internal"},
                    recipient={"person_id": "p", "role": "borrower"}, report={"negative": True})
    assert "cn.credit2013.objection_mark" in blocked_by(decide("cn", report, fx,
                                                               bj("2026-03-05T10:00")))


OPT_OUT = "cn.house.opt_out"


def test_cn_house_opt_out_is_a_house_policy_motivated_by_cn_7() -> None:
    rule = packs.get("cn").rule(OPT_OUT)
    assert (rule.ref, rule.layer) == ("CN-7", "house policy")
    assert rule.citation.startswith("house policy")


def test_cn_house_opt_out_of_sms_blocks_sms_only_from_when_it_was_received() -> None:
    fx = cn_facts(opt_outs=[{"person_id": "p", "channel": "sms",
                             "at": bj("2026-03-10T09:00").isoformat()}])
    sms = action("sms", actor={"actor_id": "lender-7", "kind": "internal"},
                 recipient={"person_id": "p", "role": "borrower", "contact_point": "m1"},
                 content="【某消费金融】您的账单已逾期，请及时还款。回复TD退订")
    assert blocked_by(decide("cn", sms, fx, bj("2026-03-10T10:00"))) == {OPT_OUT}
    assert decide("cn", sms, fx, bj("2026-03-10T08:30")).allowed  # before it was received
    assert decide("cn", call(), fx, bj("2026-03-10T10:00")).allowed  # calls are not covered


def test_cn_house_oral_stop_calling_blocks_calls_and_a_written_request_blocks_all() -> None:
    oral = cn_facts(cease_notices=[{"person_id": "p", "in_writing": False, "channels": ["call"],
                                    "received_at": bj("2026-03-10T09:00").isoformat()}])
    refused = decide("cn", call(), oral, bj("2026-03-11T10:00"))
    assert blocked_by(refused) == {OPT_OUT} and refused.next_allowed_at is None
    letter = action("letter", actor={"actor_id": "lender-7", "kind": "internal"},
                    recipient={"person_id": "p", "role": "borrower",
                               "contact_point": "m1"})
    assert decide("cn", letter, oral, bj("2026-03-11T10:00")).allowed
    written = cn_facts(cease_notices=[{"person_id": "p", "in_writing": True,
                                       "received_at": bj("2026-03-10T09:00").isoformat()}])
    assert blocked_by(decide("cn", letter, written, bj("2026-03-11T10:00"))) == {OPT_OUT}
    notice = action("letter", actor={"actor_id": "lender-7", "kind": "internal"},
                    recipient={"person_id": "p", "role": "borrower", "contact_point": "m1"},
                    purpose="pre_report_notice")
    assert decide("cn", notice, written, bj("2026-03-11T10:00")).allowed  # owed (CN-21)
