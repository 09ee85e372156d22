"""PRC pack: one test per worked example in shared/reference/rules.md, named by rule id."""

from __future__ import annotations

from typing import Any

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


def cn_attempt(when: str, **extra: Any) -> dict[str, Any]:
    extra.setdefault("point", "m1")
    extra.setdefault("actor", "lender-7")
    return attempt(when, tz=SHANGHAI, **extra)


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
    assert "cn.cba2026.field_visit" in blocked_by(alone)
    assert decide("cn", _visit(), fx, bj("2026-06-02T15:00")).allowed
    entering = decide("cn", _visit(enters_premises=True), fx, bj("2026-06-02T15:00"))
    assert "cn.cba2026.field_visit" in blocked_by(entering)
    no_recording = decide("cn", _visit(recording=False), fx, bj("2026-06-02T15:00"))
    assert "全程录音录像" in no_recording.violations[0].detail_zh


def test_cn_11_agency_not_on_whitelist() -> None:
    fx = cn_facts(agency_whitelist=["Good Agency Ltd"])
    rogue = call(actor={"actor_id": "x1", "kind": "agency", "organisation": "Rogue Ltd"})
    assert "cn.cba2026.agency_whitelist" in blocked_by(decide("cn", rogue, fx,
                                                              bj("2026-06-02T10:00")))
    good = call(actor={"actor_id": "g1", "kind": "agency", "organisation": "Good Agency Ltd"})
    assert decide("cn", good, fx, bj("2026-06-02T10:00")).allowed


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
