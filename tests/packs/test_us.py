"""US pack: one test per worked example in shared/reference/rules.md, named by rule id."""

from __future__ import annotations

from datetime import date, time
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.compliance import packs
from arrears.compliance.predicates import validation_period_end

from compliance_builders import (
    action,
    at,
    attempt,
    blocked_by,
    decide,
    facts,
    flagged_by,
    person,
    t,
    us_debt,
)

FREQ = "us.regf.call_frequency_7in7"
COOL = "us.regf.call_after_conversation"
HOURS = "us.fdcpa.inconvenient_time"

MON_TUE_WED_SEVEN = [
    attempt("2025-06-02T09:00"),
    attempt("2025-06-02T12:00"),
    attempt("2025-06-02T15:00"),
    attempt("2025-06-03T10:00"),
    attempt("2025-06-03T14:00"),
    attempt("2025-06-04T10:00"),
    attempt("2025-06-04T14:00"),
]


def test_us_1_creditor_in_own_name_is_outside_reg_f() -> None:
    fx = facts(attempts=MON_TUE_WED_SEVEN)
    creditor = action(actor={"actor_id": "bank", "kind": "internal", "collects_in_own_name": True})
    assert decide("us", creditor, fx, at("2025-06-05T10:00")).allowed
    agency = action()
    agency_fx = facts(attempts=[{**a, "actor_id": "agent"} for a in MON_TUE_WED_SEVEN])
    assert FREQ in blocked_by(decide("us", agency, agency_fx, at("2025-06-05T10:00")))


def test_us_2_seven_calls_in_seven_days() -> None:
    fx = facts(attempts=MON_TUE_WED_SEVEN[:-1])
    assert decide("us", action(), fx, at("2025-06-04T14:00")).allowed  # the 7th call
    fx = facts(attempts=MON_TUE_WED_SEVEN)
    thursday = decide("us", action(), fx, at("2025-06-05T10:00"))
    assert not thursday.allowed and blocked_by(thursday) == {FREQ}
    assert thursday.next_allowed_at == at("2025-06-09T08:00")
    sunday = decide("us", action(), fx, at("2025-06-08T10:00"))
    assert FREQ in blocked_by(sunday)
    monday = decide("us", action(), fx, at("2025-06-09T10:00"))
    assert monday.allowed
    # 06-03..06-09 holds 4 calls: three more are allowed on Monday, not a fourth.
    more = [attempt("2025-06-09T10:00"), attempt("2025-06-09T11:00"), attempt("2025-06-09T12:00")]
    assert decide("us", action(), facts(attempts=MON_TUE_WED_SEVEN + more[:2]),
                  at("2025-06-09T12:00")).allowed
    assert FREQ in blocked_by(
        decide("us", action(), facts(attempts=MON_TUE_WED_SEVEN + more), at("2025-06-09T13:00"))
    )


def test_us_3_conversation_starts_seven_day_cooldown() -> None:
    fx = facts(attempts=[attempt("2025-06-02T10:00", outcome="conversation")])
    assert COOL in blocked_by(decide("us", action(), fx, at("2025-06-02T15:00")))  # same day
    wednesday = decide("us", action(), fx, at("2025-06-04T10:00"))
    assert blocked_by(wednesday) == {COOL}
    assert wednesday.next_allowed_at == at("2025-06-09T08:00")
    assert COOL in blocked_by(decide("us", action(), fx, at("2025-06-08T10:00")))
    assert decide("us", action(), fx, at("2025-06-09T10:00")).allowed


def test_us_3_inbound_conversation_about_two_debts() -> None:
    fx = facts(
        debts=[us_debt("D1"), us_debt("D2")],
        attempts=[
            attempt("2025-06-02T11:00", outcome="conversation", direction="inbound",
                    debts=("D1", "D2"))
        ],
    )
    about_d2 = action(debt_ids=["D2"])
    assert COOL in blocked_by(decide("us", about_d2, fx, at("2025-06-05T10:00")))


def test_us_4_consent_to_call_back_thursday() -> None:
    consent = {
        "person_id": "p",
        "scope": "calls",
        "actor_id": "agent",
        "given_at": t("2025-06-02T10:05"),
        "valid_from": t("2025-06-05T00:00"),
        "valid_until": t("2025-06-06T00:00"),
    }
    fx = facts(attempts=[attempt("2025-06-02T10:00", outcome="conversation")], consents=[consent])
    assert decide("us", action(), fx, at("2025-06-05T10:00")).allowed
    friday = decide("us", action(), fx, at("2025-06-06T10:00"))
    assert COOL in blocked_by(friday)


def test_us_4_consent_relayed_by_creditor_does_not_exclude() -> None:
    consent = {
        "person_id": "p",
        "scope": "calls",
        "actor_id": "",
        "given_at": t("2025-06-02T10:05"),
        "valid_from": t("2025-06-05T00:00"),
        "valid_until": t("2025-06-06T00:00"),
    }
    fx = facts(attempts=[attempt("2025-06-02T10:00", outcome="conversation")], consents=[consent])
    assert COOL in blocked_by(decide("us", action(), fx, at("2025-06-05T10:00")))


def test_us_4_busy_signal_not_counted_voicemail_counted() -> None:
    six = MON_TUE_WED_SEVEN[:6]
    busy = facts(attempts=six + [attempt("2025-06-04T14:00", outcome="not_connected")])
    assert decide("us", action(), busy, at("2025-06-04T16:00")).allowed
    voicemail = facts(attempts=six + [attempt("2025-06-04T14:00", outcome="voicemail")])
    assert FREQ in blocked_by(decide("us", action(), voicemail, at("2025-06-04T16:00")))


def test_us_5_calls_to_every_number_of_a_person_aggregate() -> None:
    calls = [attempt(f"2025-06-0{2 + i % 4}T1{i}:00", point="cell") for i in range(4)] + [
        attempt(f"2025-06-0{2 + i % 4}T1{i}:30", point="home") for i in range(4)
    ]
    fx = facts(attempts=calls)
    assert FREQ in blocked_by(decide("us", action(), fx, at("2025-06-06T10:00")))


def test_us_5_separate_debts_have_separate_buckets_but_volume_is_reviewed() -> None:
    calls = [attempt(f"2025-06-0{2 + i % 3}T09:{i:02d}", debts=("A",)) for i in range(7)]
    calls += [attempt(f"2025-06-0{2 + i % 3}T13:{i:02d}", debts=("B",)) for i in range(6)]
    fx = facts(debts=[us_debt("A"), us_debt("B")], attempts=calls)
    decision = decide("us", action(debt_ids=["B"]), fx, at("2025-06-05T10:00"))
    assert decision.allowed
    assert "us.regf.call_pattern_review" in flagged_by(decision)


def test_us_5_texts_do_not_count_but_ten_a_day_is_reviewed() -> None:
    texts = [attempt(f"2025-06-02T{9 + i:02d}:00", channel="sms", outcome="sent") for i in range(9)]
    fx = facts(attempts=MON_TUE_WED_SEVEN[:6] + texts)
    sms = action("sms", content="ABC Recovery, a debt collector: your payment is due. Reply STOP "
                 "to stop texts.")
    decision = decide("us", sms, fx, at("2025-06-02T19:00"))
    assert decision.allowed
    assert "us.regf.call_pattern_review" in flagged_by(decision)


def test_us_6_seven_calls_in_one_hour_are_reviewed() -> None:
    calls = [attempt(f"2025-06-02T09:{i * 8:02d}") for i in range(6)]
    decision = decide("us", action(), facts(attempts=calls), at("2025-06-02T09:52"))
    assert decision.allowed  # count prong: 7th call is still within the presumption
    assert flagged_by(decision) == {"us.regf.call_pattern_review"}
    assert "today" in decision.flags[0].detail_en


def test_us_7_inconvenient_time_in_the_consumers_zone() -> None:
    fx = facts()
    eastern_0830 = at("2025-06-02T08:30", "America/New_York")
    decision = decide("us", action(), fx, eastern_0830)  # 07:30 in Chicago
    assert blocked_by(decision) == {HOURS}
    assert decision.next_allowed_at == at("2025-06-02T08:00")
    text = action("sms", content="ABC Recovery, a debt collector. Reply STOP to stop texts.")
    assert decide("us", text, fx, at("2025-06-02T20:59")).allowed
    email = action("email", recipient={"person_id": "p", "role": "borrower",
                                       "contact_point": "email"},
                   content="From a debt collector: your account. Reply STOP to opt out.")
    late = decide("us", email, fx, at("2025-06-02T21:15"))
    assert HOURS in blocked_by(late)
    assert late.next_allowed_at == at("2025-06-03T08:00")


def test_us_8_address_and_area_code_in_different_zones() -> None:
    la_with_212 = person(
        zones=("America/Los_Angeles",),
        points=({"id": "cell", "kind": "cell", "zone": "America/New_York"},),
    )
    fx = facts(people=[la_with_212])
    pt = "America/Los_Angeles"
    assert decide("us", action(), fx, at("2025-06-02T09:30", pt)).allowed
    evening = decide("us", action(), fx, at("2025-06-02T19:00", pt))
    assert HOURS in blocked_by(evening)
    assert evening.next_allowed_at == at("2025-06-03T08:00", pt)  # = 11:00 ET
    early = decide("us", action(), fx, at("2025-06-02T07:45", pt))
    assert HOURS in blocked_by(early)
    assert early.next_allowed_at == at("2025-06-02T08:00", pt)


def test_us_9_consumer_named_inconvenient_time_at_work() -> None:
    window = {"person_id": "p", "start": "00:00", "end": "12:00", "contact_point": "work"}
    fx = facts(inconvenient_times=[window])
    work = action(recipient={"person_id": "p", "role": "borrower", "contact_point": "work"})
    morning = decide("us", work, fx, at("2025-06-03T09:00"))
    assert blocked_by(morning) == {"us.regf.named_inconvenient_time"}
    assert morning.next_allowed_at == at("2025-06-03T12:00")
    assert decide("us", action(), fx, at("2025-06-03T09:00")).allowed  # cell is fine
    # "busy now" on Tuesday is not recorded as a standing window: Wednesday 14:00 is allowed.
    assert decide("us", action(), facts(), at("2025-06-04T14:00")).allowed


def test_us_10_employer_prohibits_calls_at_work() -> None:
    fx = facts(people=[person(employer_prohibits_contact=True)])
    work = action(recipient={"person_id": "p", "role": "borrower", "contact_point": "work"})
    assert "us.fdcpa.workplace" in blocked_by(decide("us", work, fx, at("2025-06-03T10:00")))


def test_us_11_represented_consumer_is_reached_through_the_attorney() -> None:
    rep = {"person_id": "p", "debt_id": "D1", "known_at": t("2025-06-02T12:00"),
           "attorney_name": "J. Doe", "attorney_address": "1 Main St"}
    fx = facts(
        debts=[us_debt("D1"), us_debt("D9")],
        people=[person(), person("lawyer", role="attorney")],
        representations=[rep],
    )
    call = decide("us", action(), fx, at("2025-06-03T10:00"))
    assert "us.fdcpa.attorney_represented" in blocked_by(call)
    letter = action("letter", recipient={"person_id": "lawyer", "role": "attorney"})
    assert decide("us", letter, fx, at("2025-06-03T10:00")).allowed
    assert decide("us", action(debt_ids=["D9"]), fx, at("2025-06-03T10:00")).allowed


def test_us_12_written_cease_notice() -> None:
    fx = facts(cease_notices=[{"person_id": "p", "received_at": t("2025-06-10T11:00")}])
    call = decide("us", action(), fx, at("2025-06-11T10:00"))
    assert blocked_by(call) == {"us.fdcpa.cease_communication"}
    assert call.next_allowed_at is None
    closing = action("letter", purpose="termination_notice",
                     content="From a debt collector: we are closing our collection efforts.")
    assert decide("us", closing, fx, at("2025-06-12T10:00")).allowed
    oral = facts(cease_notices=[{"person_id": "p", "received_at": t("2025-06-10T11:00"),
                                 "in_writing": False}])
    assert decide("us", action(), oral, at("2025-06-11T10:00")).allowed


def test_us_13_third_party_communications() -> None:
    fx = facts(people=[person(), person("sister", role="third_party"),
                       person("spouse", role="spouse")])
    to_sister = action(recipient={"person_id": "sister", "role": "third_party"},
                       content="Your brother owes $2,000. This is from a debt collector.")
    assert "us.fdcpa.third_party_communication" in blocked_by(
        decide("us", to_sister, fx, at("2025-06-03T10:00"))
    )
    to_spouse = action(recipient={"person_id": "spouse", "role": "spouse"},
                       content="Your husband owes $2,000. This is from a debt collector.")
    assert decide("us", to_spouse, fx, at("2025-06-03T10:00")).allowed


def test_us_14_location_contact_only_once_and_without_the_debt() -> None:
    neighbour = person("n", role="third_party")
    first = attempt("2025-06-02T10:00", person_id="n", outcome="answered",
                    purpose="location_info")
    fx = facts(people=[person(), neighbour], attempts=[first])
    ask = action(purpose="location_info", recipient={"person_id": "n", "role": "third_party"},
                 content="Hi, I'm Robin Smith confirming how to reach your neighbour.")
    again = decide("us", ask, fx, at("2025-06-09T10:00"))
    assert "us.fdcpa.location_information" in blocked_by(again)
    debt = action(purpose="location_info", recipient={"person_id": "n", "role": "third_party"},
                  content="Your neighbour owes us money, where is he?")
    first_time = facts(people=[person(), neighbour])
    assert "us.fdcpa.location_information" in blocked_by(
        decide("us", debt, first_time, at("2025-06-02T10:00"))
    )


def test_us_15_limited_content_message() -> None:
    fx = facts()
    lcm = "Hi, this is Robin Smith from ABC Inc. Please call me at 800-555-1212."
    assert decide("us", action(voicemail=True, content=lcm), fx, at("2025-06-03T10:00")).allowed
    as_text = decide("us", action("sms", content=lcm), fx, at("2025-06-03T10:00"))
    assert not as_text.allowed  # not an LCM: an SMS needs the opt-out notice
    for extra in (" regarding your account", " from XYZ Collections"):
        decision = decide("us", action(voicemail=True, content=lcm + extra), fx,
                          at("2025-06-03T10:00"))
        assert "us.regf.limited_content_message" in blocked_by(decision)


def test_us_16_mini_miranda() -> None:
    fresh = facts(debts=[{"debt_id": "D1"}])
    script = "Hello, this is Robin from ABC about the balance on your loan."
    first = decide("us", action(content=script), fresh, at("2025-06-02T10:00"))
    assert "us.fdcpa.debt_collector_disclosure" in blocked_by(first)
    proper = (script + " We are attempting to collect a debt and any information obtained will "
              "be used for that purpose.")
    assert decide("us", action(content=proper), fresh, at("2025-06-02T10:00")).allowed
    email = action("email", recipient={"person_id": "p", "role": "borrower",
                                       "contact_point": "email"},
                   content="Your balance is $300. Reply STOP to opt out.")
    second = decide("us", email, facts(), at("2025-06-03T10:00"))
    assert "us.fdcpa.debt_collector_disclosure" in blocked_by(second)


def test_us_17_electronic_opt_out_notice() -> None:
    fx = facts()
    sms = action("sms", content="From a debt collector: a payment is due. Reply STOP to stop "
                 "texts to this number.")
    assert decide("us", sms, fx, at("2025-06-03T10:00")).allowed
    email = action("email", recipient={"person_id": "p", "role": "borrower",
                                       "contact_point": "email"},
                   content="From a debt collector: a payment is due. To opt out, write to "
                   "PO Box 1.")
    assert "us.regf.electronic_opt_out_notice" in blocked_by(
        decide("us", email, fx, at("2025-06-03T10:00"))
    )


def test_us_18_text_within_sixty_days_or_after_reassignment_check() -> None:
    stale = {"id": "cell", "kind": "cell", "consumer_last_used_at": t("2025-03-01T10:00")}
    sms = action("sms", content="From a debt collector. Reply STOP to stop texts.")
    blocked = decide("us", sms, facts(people=[person(points=(stale,))]), at("2025-05-15T10:00"))
    assert "us.regf.text_number_procedures" in blocked_by(blocked)
    checked = {**stale, "reassigned_check_at": t("2025-05-14T10:00")}
    ok = decide("us", sms, facts(people=[person(points=(checked,))]), at("2025-05-15T10:00"))
    assert ok.allowed


def test_us_19_stop_reply_and_one_confirmation() -> None:
    opt_out = {"person_id": "p", "channel": "sms", "at": t("2025-06-02T10:00")}
    fx = facts(opt_outs=[opt_out])
    confirm = action("sms", purpose="opt_out_confirmation", content="You have been unsubscribed.")
    assert decide("us", confirm, fx, at("2025-06-02T10:01")).allowed
    reminder = action("sms", content="From a debt collector: payment due. Reply STOP to stop.")
    blocked = decide("us", reminder, fx, at("2025-06-03T10:00"))
    assert "us.regf.medium_opt_out" in blocked_by(blocked)


def test_us_19_public_social_media_post() -> None:
    post = action("social_media", publicly_visible=True, content="Pay your debt. Reply STOP.")
    assert "us.regf.public_social_media" in blocked_by(
        decide("us", post, facts(), at("2025-06-03T10:00"))
    )


def test_us_20_validation_notice_within_five_days() -> None:
    debt = {"debt_id": "D1", "initial_communication_at": t("2025-06-02T10:00")}
    fx = facts(debts=[debt])
    notice = action("letter", purpose="validation_notice")
    on_time = decide("us", notice, fx, at("2025-06-07T10:00"))
    assert "us.regf.validation_timing" not in blocked_by(on_time) | flagged_by(on_time)
    late = decide("us", notice, fx, at("2025-06-09T10:00"))
    assert "us.regf.validation_timing" in flagged_by(late)
    assert "us.regf.validation_timing" in blocked_by(decide("us", action(), fx,
                                                            at("2025-06-09T10:00")))
    paid = facts(debts=[{**debt, "paid_in_full_on": "2025-06-03"}])
    assert "us.regf.validation_timing" not in blocked_by(
        decide("us", action(), paid, at("2025-06-09T10:00"))
    )


def _notice(end: str | None, current: str = "120.00") -> dict[str, object]:
    usd = "USD"
    return {
        "period_end_on": end,
        "itemization_amount": {"amount": "100.00", "currency": usd},
        "interest": {"amount": "15.00", "currency": usd},
        "fees": {"amount": "10.00", "currency": usd},
        "payments": {"amount": "5.00", "currency": usd},
        "credits": {"amount": "0.00", "currency": usd},
        "current_amount": {"amount": current, "currency": usd},
    }


def test_us_21_notice_missing_end_date_or_bad_itemization() -> None:
    debt = {"debt_id": "D1", "initial_communication_at": t("2025-03-05T10:00")}
    fx = facts(debts=[debt])
    rule = "us.regf.validation_notice_content"
    missing = action("letter", purpose="validation_notice", notice=_notice(None))
    assert rule in blocked_by(decide("us", missing, fx, at("2025-03-05T10:00")))
    wrong = action("letter", purpose="validation_notice", notice=_notice("2025-04-11", "130.00"))
    assert rule in blocked_by(decide("us", wrong, fx, at("2025-03-05T10:00")))
    good = action("letter", purpose="validation_notice", notice=_notice("2025-04-11"))
    assert decide("us", good, fx, at("2025-03-05T10:00")).allowed


def test_us_22_validation_period_end_dates() -> None:
    assert validation_period_end(date(2025, 3, 5)) == date(2025, 4, 11)
    assert validation_period_end(date(2025, 1, 17)) == date(2025, 2, 26)  # MLK Day
    assert validation_period_end(date(2025, 11, 24)) == date(2026, 1, 1)  # Thanksgiving
    debt = {"debt_id": "D1", "initial_communication_at": t("2025-03-05T10:00")}
    fx = facts(debts=[debt])
    early = action("letter", purpose="validation_notice", notice=_notice("2025-04-10"))
    assert "us.regf.validation_notice_content" in blocked_by(
        decide("us", early, fx, at("2025-03-05T10:00"))
    )
    later = action("letter", purpose="validation_notice", notice=_notice("2025-04-14"))
    assert decide("us", later, fx, at("2025-03-05T10:00")).allowed


def test_us_23_written_dispute_suspends_until_verification() -> None:
    debt = us_debt(validation_sent_on="2025-03-05")
    dispute = {"debt_id": "D1", "received_at": t("2025-04-09T09:00"), "in_writing": True,
               "answered_at": t("2025-04-20T12:00")}
    fx = facts(debts=[debt], disputes=[dispute])
    rule = "us.fdcpa.dispute_suspends_collection"
    assert rule in blocked_by(decide("us", action(), fx, at("2025-04-15T10:00")))
    letter = action("letter", content="From a debt collector: your balance is $120.")
    assert rule in blocked_by(decide("us", letter, fx, at("2025-04-15T10:00")))
    assert decide("us", action(), fx, at("2025-04-21T10:00")).allowed
    oral = facts(debts=[debt], disputes=[{**dispute, "in_writing": False}])
    assert decide("us", action(), oral, at("2025-04-15T10:00")).allowed


def test_us_24_overshadowing_demand_is_reviewed() -> None:
    fx = facts(debts=[us_debt(validation_sent_on="2025-06-02")])
    letter = action("letter", content="From a debt collector: pay within 10 days or we will sue.")
    decision = decide("us", letter, fx, at("2025-06-04T10:00"))
    assert "us.fdcpa.overshadowing" in flagged_by(decision)


def test_us_25_time_barred_debt() -> None:
    fx = facts(debts=[us_debt(time_barred_on="2024-12-31")])
    letter = action("letter", content="From a debt collector: we may take legal action.")
    threat = decide("us", letter, fx, at("2025-06-02T10:00"))
    assert "us.regf.time_barred_debt" in blocked_by(threat)
    suit = action("legal_action", recipient={"person_id": "p", "role": "borrower"})
    assert "us.regf.time_barred_debt" in blocked_by(decide("us", suit, fx, at("2025-06-02T10:00")))


def test_us_26_no_passive_collection() -> None:
    debt = {"debt_id": "D1", "initial_communication_at": t("2025-07-01T10:00"),
            "validation_sent_on": "2025-07-01"}
    fx = facts(debts=[debt])
    report = action("credit_report", recipient={"person_id": "p", "role": "borrower"},
                    report={"negative": True})
    early = decide("us", report, fx, at("2025-07-10T10:00"))
    assert "us.regf.no_passive_collection" in blocked_by(early)
    assert early.next_allowed_at == at("2025-07-15T00:00")
    assert decide("us", report, fx, at("2025-07-15T10:00")).allowed
    returned = facts(
        debts=[{**debt, "validation_sent_on": None}],
        notices=[{"debt_id": "D1", "kind": "about_debt", "channel": "letter",
                  "sent_at": t("2025-07-01T10:00"), "undeliverable_at": t("2025-07-08T10:00")}],
    )
    assert "us.regf.no_passive_collection" in blocked_by(
        decide("us", report, returned, at("2025-07-15T10:00"))
    )


def test_us_27_disputed_debt_reported_as_disputed() -> None:
    fx = facts(disputes=[{"debt_id": "D1", "received_at": t("2025-06-02T10:00"),
                          "in_writing": False}])
    plain = action("credit_report", recipient={"person_id": "p", "role": "borrower"},
                   report={"negative": True})
    assert "us.fdcpa.report_disputed" in blocked_by(decide("us", plain, fx, at("2025-06-30T10:00")))
    marked = action("credit_report", recipient={"person_id": "p", "role": "borrower"},
                    report={"negative": True, "marked_disputed": True})
    assert "us.fdcpa.report_disputed" not in blocked_by(
        decide("us", marked, fx, at("2025-06-30T10:00"))
    )


def test_us_29_threat_to_tell_neighbours_and_hidden_caller_id() -> None:
    script = action(content="This is a debt collector. Pay or we'll tell your neighbours.")
    decision = decide("us", script, facts(), at("2025-06-03T10:00"))
    assert "us.fdcpa.harassing_wording" in blocked_by(decision)
    assert decision.violations[0].matches
    hidden = action(caller_identified=False)
    assert "us.fdcpa.caller_identity" in blocked_by(decide("us", hidden, facts(),
                                                            at("2025-06-03T10:00")))


def test_us_30_false_threats_and_court_letterhead() -> None:
    fx = facts(debts=[us_debt(time_barred_on="2024-12-31")])
    threat = action(content="This is a debt collector. Pay today or you'll be arrested and we "
                    "will take legal action.")
    decision = decide("us", threat, fx, at("2025-06-03T10:00"))
    assert {"us.fdcpa.false_representation", "us.regf.time_barred_debt"} <= blocked_by(decision)
    letterhead = action("letter", content="Court Services Division. From a debt collector.")
    assert "us.fdcpa.false_representation" in blocked_by(
        decide("us", letterhead, facts(), at("2025-06-03T10:00"))
    )


def test_us_31_unauthorized_processing_fee() -> None:
    fee = action("fee", fee={"amount": {"amount": "25.00", "currency": "USD"}})
    assert "us.fdcpa.unfair_practices" in blocked_by(decide("us", fee, facts(),
                                                            at("2025-06-10T10:00")))
    agreed = action("fee", fee={"amount": {"amount": "25.00", "currency": "USD"},
                                "authorized_by_contract": True})
    assert decide("us", agreed, facts(), at("2025-06-10T10:00")).allowed


def test_us_32_seven_year_limit_and_no_re_aging() -> None:
    fx = facts(debts=[us_debt(delinquency_commenced_on="2020-01-31")])
    report = action("credit_report", recipient={"person_id": "p", "role": "borrower"},
                    report={"negative": True, "first_delinquency_on": "2020-01-31"})
    talk = [attempt("2025-01-05T10:00", outcome="conversation")]
    fx = facts(debts=[us_debt(delinquency_commenced_on="2020-01-31")], attempts=talk)
    assert decide("us", report, fx, at("2027-07-28T10:00")).allowed
    assert "us.fcra.reporting_period" in blocked_by(decide("us", report, fx,
                                                           at("2027-07-29T10:00")))
    re_aged = action("credit_report", recipient={"person_id": "p", "role": "borrower"},
                     report={"negative": True, "first_delinquency_on": "2023-05-01"})
    assert "us.fcra.reporting_period" in blocked_by(decide("us", re_aged, fx,
                                                           at("2025-06-10T10:00")))


# --- issue 16 item 8: Reg F counts per debt collector, the firm (US-2, US-3, US-4, US-5) -------

ABC = {"actor_id": "agent-b", "kind": "agency", "organisation": "ABC Recovery"}


def _firm_attempts(agents: list[str], org: str = "ABC Recovery") -> list[dict[str, object]]:
    return [{**a, "actor_id": agent, "organisation": org}
            for a, agent in zip(MON_TUE_WED_SEVEN, agents, strict=True)]


def test_us_2_two_agents_of_one_agency_share_one_allowance() -> None:
    fx = facts(attempts=_firm_attempts(["agent-a"] * 4 + ["agent-c"] * 3))
    decision = decide("us", action(actor=ABC), fx, at("2025-06-05T10:00"))
    assert FREQ in blocked_by(decision)
    assert decision.next_allowed_at == at("2025-06-09T08:00")
    other_firm = {"actor_id": "agent-x", "kind": "agency", "organisation": "XYZ Collect"}
    assert decide("us", action(actor=other_firm), fx, at("2025-06-05T10:00")).allowed


def test_us_2_records_without_an_organisation_stay_the_actors_own() -> None:
    """Documents written before organisations were recorded keep their meaning: an attempt
    without one counts for its actor (whatever firm that actor now names), not for others."""
    own = facts(attempts=[{**a, "actor_id": "agent-b"} for a in MON_TUE_WED_SEVEN])
    assert FREQ in blocked_by(decide("us", action(actor=ABC), own, at("2025-06-05T10:00")))
    colleague = facts(attempts=[{**a, "actor_id": "agent-a"} for a in MON_TUE_WED_SEVEN])
    assert decide("us", action(actor=ABC), colleague, at("2025-06-05T10:00")).allowed


@settings(max_examples=60, deadline=None)
@given(agents=st.lists(st.sampled_from(["agent-a", "agent-b", "agent-c"]), min_size=7,
                       max_size=7),
       day=st.integers(min_value=4, max_value=9))
def test_us_2_decision_does_not_depend_on_which_agent_of_the_firm_dialled(
    agents: list[str], day: int
) -> None:
    when = at(f"2025-06-{day:02d}T16:00")
    spread = decide("us", action(actor=ABC), facts(attempts=_firm_attempts(agents)), when)
    single = decide("us", action(actor=ABC), facts(attempts=_firm_attempts(["agent-b"] * 7)),
                    when)
    assert (spread.allowed, blocked_by(spread), spread.next_allowed_at) == (
        single.allowed, blocked_by(single), single.next_allowed_at)


def test_us_3_a_colleagues_conversation_starts_the_firms_cooldown() -> None:
    talk = attempt("2025-06-02T10:00", outcome="conversation", actor="agent-a")
    fx = facts(attempts=[{**talk, "organisation": "ABC Recovery"}])
    assert COOL in blocked_by(decide("us", action(actor=ABC), fx, at("2025-06-04T10:00")))
    other = {"actor_id": "agent-x", "kind": "agency", "organisation": "XYZ Collect"}
    assert decide("us", action(actor=other), fx, at("2025-06-04T10:00")).allowed


def test_us_4_consent_given_to_the_firm_covers_its_agents_only() -> None:
    talk = {**attempt("2025-06-02T10:00", outcome="conversation", actor="agent-a"),
            "organisation": "ABC Recovery"}
    consent = {"person_id": "p", "scope": "calls", "actor_id": "agent-a",
               "organisation": "ABC Recovery", "given_at": t("2025-06-02T10:05"),
               "valid_from": t("2025-06-05T00:00"), "valid_until": t("2025-06-06T00:00")}
    fx = facts(attempts=[talk], consents=[consent])
    assert decide("us", action(actor=ABC), fx, at("2025-06-05T10:00")).allowed
    to_agent_only = facts(attempts=[talk], consents=[{**consent, "organisation": ""}])
    assert COOL in blocked_by(decide("us", action(actor=ABC), to_agent_only,
                                     at("2025-06-05T10:00")))


# --- issue 16 item 9: printed end date, oral "stop calling", several zones per number -----------


def test_us_22_23_a_later_printed_end_date_extends_the_dispute_window() -> None:
    # Sent Wed 2025-03-05 -> computed end Fri 2025-04-11; the notice printed 2025-04-30.
    dispute = {"debt_id": "D1", "received_at": t("2025-04-20T10:00"), "in_writing": True}
    computed = facts(debts=[us_debt(validation_sent_on="2025-03-05")], disputes=[dispute])
    assert decide("us", action(), computed, at("2025-04-22T10:00")).allowed
    printed = facts(debts=[us_debt(validation_sent_on="2025-03-05",
                                   validation_period_end_on="2025-04-30")], disputes=[dispute])
    assert "us.fdcpa.dispute_suspends_collection" in blocked_by(
        decide("us", action(), printed, at("2025-04-22T10:00")))
    earlier = facts(debts=[us_debt(validation_sent_on="2025-03-05",
                                   validation_period_end_on="2025-04-01")],
                    disputes=[{**dispute, "received_at": t("2025-04-09T10:00")}])
    assert "us.fdcpa.dispute_suspends_collection" in blocked_by(  # never shortened
        decide("us", action(), earlier, at("2025-04-10T10:00")))


def test_us_24_printed_end_date_extends_the_overshadowing_window() -> None:
    letter = action("letter", content="From a debt collector: pay within 10 days or we will sue.")
    debt = us_debt(validation_sent_on="2025-03-05")
    assert not flagged_by(decide("us", letter, facts(debts=[debt]), at("2025-04-20T10:00")))
    printed = facts(debts=[{**debt, "validation_period_end_on": "2025-04-30"}])
    assert "us.fdcpa.overshadowing" in flagged_by(decide("us", letter, printed,
                                                         at("2025-04-20T10:00")))


def test_us_12_19_oral_stop_calling_is_one_fact() -> None:
    stop = {"person_id": "p", "received_at": t("2025-06-10T11:00"), "in_writing": False,
            "channels": ["call"]}
    fx = facts(cease_notices=[stop])
    call = decide("us", action(), fx, at("2025-06-11T10:00"))
    assert blocked_by(call) == {"us.regf.medium_opt_out"}  # not a written cease (US-12)
    sms = action("sms", content="From a debt collector: please call us. Reply STOP to opt out.")
    assert decide("us", sms, fx, at("2025-06-11T10:00")).allowed
    assert decide("us", action(), fx, at("2025-06-10T10:00")).allowed  # before it was said


@pytest.mark.parametrize(
    ("wall", "allowed"),
    [("2025-06-03T07:30", False), ("2025-06-03T08:30", False), ("2025-06-03T09:00", True),
     ("2025-06-03T19:59", True), ("2025-06-03T20:00", False)],
)
def test_us_8_a_contact_point_spanning_two_zones(wall: str, allowed: bool) -> None:
    # The address is in Chicago; the number is known in New York and Denver. Allowed only when
    # 08:00-21:00 holds in all three: 09:00-20:00 Chicago time.
    cell = {"id": "cell", "kind": "cell", "zones": ["America/New_York", "America/Denver"],
            "reassigned_check_at": t("2025-01-02T10:00")}
    fx = facts(people=[person(points=(cell,))])
    decision = decide("us", action(), fx, at(wall))
    assert decision.allowed is allowed
    if not allowed:
        assert blocked_by(decision) == {HOURS}
        assert decision.next_allowed_at in (at("2025-06-03T09:00"), at("2025-06-04T09:00"))
        opens = decision.next_allowed_at
        assert opens is not None
        for zone_name in ("America/New_York", "America/Denver", "America/Chicago"):
            local = opens.astimezone(ZoneInfo(zone_name)).time()
            assert time(8) <= local < time(21)


# --- issue 16 items 5-6: false threats and required disclosures in messages (US-25, US-30) ----


@pytest.mark.parametrize(
    "content",
    [
        "This is a debt collector. You will be a r r e s t e d.",
        "This is a debt collector. A warrant has been issued in your name.",
        "This is a debt collector. The P.O.L.I.C.E. will come to your house.",
        "This is a debt collector. We will garnish your wages without a court order.",
        "This is a debt collector. We will press charges.",
    ],
)
def test_us_30_false_threats_through_evasions(content: str) -> None:
    decision = decide("us", action(content=content), facts(), at("2025-06-03T10:00"))
    assert "us.fdcpa.false_representation" in blocked_by(decision)


TIME_BARRED_DISCLOSURES = [
    "From a debt collector. The law limits how long you can be sued on a debt. Because of the "
    "age of your debt, we will not sue you for it. Reply STOP to opt out.",
    "From a debt collector. Because of the age of your debt, we cannot sue you for it. Reply "
    "STOP to opt out.",
    "From a debt collector. 由于债务已超过诉讼时效，我们不会起诉您。Reply STOP to opt out.",
]


@pytest.mark.parametrize("content", TIME_BARRED_DISCLOSURES)
@pytest.mark.parametrize("kind", ["letter", "sms"])
def test_us_25_required_time_barred_disclosure_can_be_sent(content: str, kind: str) -> None:
    fx = facts(debts=[us_debt(time_barred_on="2024-12-31")])
    decision = decide("us", action(kind, content=content), fx, at("2025-06-02T10:00"))
    assert decision.allowed, decision.violations


@pytest.mark.parametrize(
    "threat",
    [
        "if you don't pay we will sue",
        "We won't hesitate to sue.",
        "We will not sue you if you pay today.",
        "不还钱就起诉你",
        "我们不会手软，将起诉",
    ],
)
def test_us_25_threats_phrased_around_a_negation_are_still_blocked(threat: str) -> None:
    fx = facts(debts=[us_debt(time_barred_on="2024-12-31")])
    letter = action("letter", content=f"From a debt collector. {threat}")
    assert "us.regf.time_barred_debt" in blocked_by(decide("us", letter, fx,
                                                           at("2025-06-02T10:00")))


CREDITOR = {"actor_id": "bank", "kind": "internal", "collects_in_own_name": True}
STOP_SMS = [{"person_id": "p", "channel": "sms", "at": t("2025-06-02T10:00")}]
TEXT = "From a debt collector: please call us. Reply STOP to opt out."


def test_us_17_19_after_reply_stop_no_more_texts_from_collector_or_creditor() -> None:
    fx = facts(opt_outs=STOP_SMS)
    agency = decide("us", action("sms", content=TEXT), fx, at("2025-06-03T10:00"))
    assert blocked_by(agency) == {"us.regf.medium_opt_out"}
    own = decide("us", action("sms", actor=CREDITOR, content=TEXT), fx, at("2025-06-03T10:00"))
    assert blocked_by(own) == {"us.house.medium_opt_out"}  # house policy outside US-1
    assert decide("us", action(actor=CREDITOR), fx, at("2025-06-03T10:00")).allowed  # a call


def test_us_house_rules_bind_the_creditor_to_cease_and_inconvenient_times() -> None:
    written = facts(cease_notices=[{"person_id": "p", "received_at": t("2025-06-10T11:00")}])
    creditor = action(actor=CREDITOR)
    assert blocked_by(decide("us", creditor, written, at("2025-06-11T10:00"))) == {
        "us.house.cease_communication"}
    assert blocked_by(decide("us", action(), written, at("2025-06-11T10:00"))) == {
        "us.fdcpa.cease_communication"}
    busy = facts(inconvenient_times=[{"person_id": "p", "start": "09:00", "end": "12:00"}])
    refused = decide("us", creditor, busy, at("2025-06-11T10:00"))
    assert blocked_by(refused) == {"us.house.named_inconvenient_time"}
    assert refused.next_allowed_at == at("2025-06-11T12:00")
    rule = packs.get("us").rule("us.house.medium_opt_out")
    assert (rule.ref, rule.layer) == ("US-19", "house policy")
