"""Hardship plans on a real book: propose → preview → approve → end-of-day → kept or broken;
the rules that refuse a plan; undo; restatement across a plan; prepayments kept on replay."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from arrears import bootstrap
from arrears.adapters.channels.render import JinjaRenderer
from arrears.adapters.db import collections_tables as ct
from arrears.adapters.db import plan_tables as pt
from arrears.adapters.db import tables as t
from arrears.application.access import Role
from arrears.application.handlers import collections, eod, payments, plans, servicing
from arrears.application.loan_file import money_text
from arrears.application.strategy import parse_strategy_text
from arrears.domain.delinquency import LoanStatus
from arrears.domain.errors import DomainError
from arrears.domain.loan import Payment, due_on, restructure, state_on, summarize
from arrears.domain.product import Component

from book_checks import assert_ledger_consistent
from shipped import default_policies, default_products

EXAMPLES = Path(__file__).parents[2] / "examples"
OPEN = date(2026, 2, 2)
PLAN_DAY = date(2026, 3, 2)  # WLD-1001's first installment (due 2026-02-15) is 15 days late
LOAN = "WLD-1001"
REAGE = {"kind": "reage", "terms": 6}
FIRST_NEW_DUE = date(2026, 4, 2)


def _book(services: bootstrap.Services, **policy: Any) -> None:
    """The example book, closed through the day before PLAN_DAY, WLD-DAILY's policy changed
    by `policy`."""
    servicing.init_book(OPEN, default_products(), uow_factory=services.uow_factory)
    servicing.import_loans_csv((EXAMPLES / "loans.csv").read_text(),
                               uow_factory=services.uow_factory, clock=services.clock)
    policies = default_policies()
    policies["WLD-DAILY"].update(policy)
    plans.set_policies(policies, uow_factory=services.uow_factory)
    _eod(services, PLAN_DAY - timedelta(days=1))


def _eod(services: bootstrap.Services, through: date, **options: Any) -> None:
    eod.run_eod_through(through, uow_factory=services.uow_factory, clock=services.clock,
                        **options)


def _propose(services: bootstrap.Services, terms: dict[str, Any] = REAGE, loan: str = LOAN,
             by: str = "borrower") -> dict[str, Any]:
    return plans.propose(loan, terms, proposed_by=by, uow_factory=services.uow_factory,
                         clock=services.clock)


def _approve(services: bootstrap.Services, plan_id: str, by: str = "C-02",
             role: Role = Role.COLLECTOR) -> dict[str, Any]:
    return plans.approve(plan_id, by=by, role=role, uow_factory=services.uow_factory,
                         clock=services.clock)


def _booked(services: bootstrap.Services, loan: str = LOAN):
    with services.uow_factory() as uow:
        booked = uow.book.get(loan)
    assert booked is not None
    return booked


def _status(services: bootstrap.Services, plan_id: str) -> str:
    with services.engine.connect() as connection:
        return str(connection.scalar(sa.select(pt.plan.c.status)
                                     .where(pt.plan.c.plan_ref == plan_id)))


def _pay_due(services: bootstrap.Services, day: date, key: str) -> None:
    booked = _booked(services)
    amount = due_on(booked.loan, eod.current_state(booked, day - timedelta(days=1)), day)
    payments.post_payment(LOAN, amount, day, key, uow_factory=services.uow_factory,
                          clock=services.clock)


def _standing(services: bootstrap.Services) -> list[Payment]:
    with services.uow_factory() as uow:
        booked = uow.book.get(LOAN)
        assert booked is not None
        return payments.live_payments(uow.book, booked)


def _refused(call: Any, field: str) -> DomainError:
    with pytest.raises(DomainError) as refused:
        call()
    assert refused.value.field == field, refused.value
    return refused.value


def test_propose_preview_approve_then_end_of_day_finds_it_kept(services):
    _book(services, kept_after_payments=1)
    shown = _propose(services)
    assert shown["status"] == "proposed" and shown["kind"] == "reage"
    assert [row["due_date"] for row in shown["new_schedule"]] == [
        (FIRST_NEW_DUE.replace(month=FIRST_NEW_DUE.month + k)).isoformat() for k in range(6)]
    assert shown["old_schedule"][0]["due_date"] == "2026-02-15"
    assert shown["apr"]["cap"]["exceeded"] is False
    assert set(shown["waived"]) == {"fee", "penalty", "compound", "interest", "principal"}
    untouched = _booked(services).state
    assert _booked(services).state == untouched  # a proposal changes nothing

    _approve(services, shown["plan_id"])
    booked = _booked(services)
    assert [p.plan_id for p in booked.loan.plans] == [shown["plan_id"]]
    summary = summarize(booked.loan, booked.state)
    assert summary.dpd == 0
    assert summary.first_delinquency_on == date(2026, 2, 16)  # never re-aged
    assert max(row.number for row in booked.state.installments) > 12  # new rows appended
    eve = state_on(booked.loan, _standing(services), PLAN_DAY - timedelta(days=1))
    assert booked.state == restructure(booked.loan, eve, booked.loan.plans[0])
    assert_ledger_consistent(services)

    _eod(services, FIRST_NEW_DUE - timedelta(days=1))
    assert _status(services, shown["plan_id"]) == "approved"
    booked = _booked(services)
    summary = summarize(booked.loan,
                        eod.current_state(booked, FIRST_NEW_DUE - timedelta(days=1)))
    assert summary.restructured and summary.first_delinquency_on == date(2026, 2, 16)
    _pay_due(services, FIRST_NEW_DUE, "plan-first")
    _eod(services, FIRST_NEW_DUE)
    assert _status(services, shown["plan_id"]) == "kept"
    assert_ledger_consistent(services)


@pytest.mark.parametrize("on_break", ["keep", "revert"])
def test_end_of_day_finds_a_plan_broken_and_keeps_or_reverts_it(services, on_break):
    _book(services, broken_after_days=15, on_break=on_break)
    plan_id = _propose(services, {"kind": "reage", "terms": 6,
                                  "treatments": {"penalty": "waive"}})["plan_id"]
    _approve(services, plan_id)
    waived = _booked(services).state.waived.total()
    assert waived > 0
    _eod(services, FIRST_NEW_DUE + timedelta(days=15))
    assert _status(services, plan_id) == "approved"  # 15 days late: not yet
    _eod(services, FIRST_NEW_DUE + timedelta(days=16))
    assert _status(services, plan_id) == "broken"
    booked = _booked(services)
    if on_break == "keep":
        assert [p.plan_id for p in booked.loan.plans] == [plan_id]
        assert booked.state.waived.total() == waived
    else:  # rescinded: the loan as if the plan had never been
        assert booked.loan.plans == ()
        assert booked.state == state_on(booked.loan, [], booked.state.as_of)
        assert booked.state.waived.total() == 0
    assert_ledger_consistent(services)


def test_the_approver_is_never_the_proposer(services):
    _book(services)
    plan_id = _propose(services, by="C-01")["plan_id"]
    _refused(lambda: _approve(services, plan_id, by="C-01"), "plan.approved_by")
    _refused(lambda: plans.reject(plan_id, by="C-01", uow_factory=services.uow_factory,
                                  clock=services.clock), "plan.approved_by")
    assert _status(services, plan_id) == "proposed"
    plans.reject(plan_id, by="S-01", uow_factory=services.uow_factory, clock=services.clock)
    assert _status(services, plan_id) == "rejected"
    assert _booked(services).loan.plans == ()


@pytest.mark.parametrize(("policy", "terms", "field"), [
    ({"kinds": ["deferral"]}, REAGE, "policy.kinds"),
    ({"dpd": [30, 90]}, REAGE, "policy.dpd"),
    ({"max_extra_terms": 0}, {"kind": "deferral", "months": 2}, "policy.max_extra_terms"),
    ({"max_waiver_share": "0"}, {"kind": "waiver", "waive": {"penalty": "1"}},
     "policy.max_waiver_share"),
    ({"min_first_payment": "5000.00"}, REAGE, "policy.min_first_payment"),
])
def test_a_proposal_outside_the_policy_is_refused_naming_the_rule(services, policy, terms,
                                                                  field):
    _book(services, **policy)
    _refused(lambda: _propose(services, terms), field)
    with services.engine.connect() as connection:
        assert connection.scalar(sa.select(sa.func.count()).select_from(pt.plan)) == 0


def test_plans_per_year_are_limited(services):
    _book(services, plans_per_year=1, dpd=[0, 90])
    _approve(services, _propose(services)["plan_id"])
    _refused(lambda: _propose(services, {"kind": "waiver", "waive": {"penalty": "1"}}),
             "policy.plans_per_year")


def test_a_waiver_above_the_collectors_limit_needs_a_supervisor(services):
    _book(services, collector_waiver_limit="0.01")
    plan_id = _propose(services, {"kind": "waiver", "waive": {"penalty": "1",
                                                              "compound": "1"}})["plan_id"]
    _refused(lambda: _approve(services, plan_id), "policy.collector_waiver_limit")
    assert _status(services, plan_id) == "proposed"
    _approve(services, plan_id, by="S-01", role=Role.SUPERVISOR)
    assert _status(services, plan_id) == "approved"
    summary = summarize(_booked(services).loan, _booked(services).state)
    assert summary.penalty_interest == summary.compound_interest == 0
    assert_ledger_consistent(services)


def test_no_plan_for_a_written_off_loan(services):
    servicing.init_book(OPEN, default_products(), uow_factory=services.uow_factory)
    servicing.import_loans_csv((EXAMPLES / "loans.csv").read_text(),
                               uow_factory=services.uow_factory, clock=services.clock)
    plans.set_policies(default_policies(), uow_factory=services.uow_factory)
    _eod(services, PLAN_DAY - timedelta(days=1), write_off_dpd=10)
    assert _booked(services).status is LoanStatus.WRITTEN_OFF
    _refused(lambda: _propose(services), "loan.written_off")


def test_a_plan_whose_apr_exceeds_the_cap_is_refused(services):
    _book(services)
    refused = _refused(lambda: _propose(services, {**REAGE, "rate": "0.30"}), "apr.cap")
    assert "24.00%" in refused.reason


@pytest.mark.parametrize("zero", ["0.00000000", "0E-8", "0", "-0.000"])
def test_a_zero_rate_with_many_places_is_stored_fixed_point_and_approved(services, zero):
    _book(services)
    if "E" in zero:  # an input edge still refuses exponent forms
        _refused(lambda: _propose(services, {**REAGE, "rate": zero}), "plan.rate")
        return
    plan_id = _propose(services, {**REAGE, "rate": zero})["plan_id"]
    with services.engine.connect() as connection:
        stored = json.loads(connection.scalar(
            sa.select(pt.plan.c.terms).where(pt.plan.c.plan_ref == plan_id)))
    assert "E" not in stored["rate"].upper()
    _approve(services, plan_id)
    assert _booked(services).loan.plans[0].rate == 0


@pytest.mark.parametrize(("rate", "share"), [("0E-8", "1E+0"), ("1.5E-2", "5E-1")])
def test_a_plan_stored_in_exponent_form_by_an_older_version_still_reads(services, rate,
                                                                        share):
    """Older versions wrote plans with str(Decimal): the book reads them without a migration."""
    _book(services)
    plan_id = _propose(services, {**REAGE, "rate": "0.01"})["plan_id"]
    waiver_id = _propose(services, {"kind": "waiver", "waive": {"penalty": "1"}},
                         loan="WLD-1002")["plan_id"]
    _approve(services, plan_id)
    _approve(services, waiver_id)
    with services.engine.begin() as connection:
        for ref, key, value in ((plan_id, "rate", rate), (waiver_id, "waive", {"penalty": share})):
            terms = json.loads(connection.scalar(
                sa.select(pt.plan.c.terms).where(pt.plan.c.plan_ref == ref)))
            connection.execute(pt.plan.update().where(pt.plan.c.plan_ref == ref)
                               .values(terms=json.dumps({**terms, key: value})))
    assert _booked(services).loan.plans[0].rate == Decimal(rate)
    assert _booked(services, "WLD-1002").loan.plans[0].waive == (
        (Component.PENALTY, Decimal(share)),)


def _loan_rows(services: bootstrap.Services) -> dict[str, list[tuple[Any, ...]]]:
    with services.engine.connect() as connection:
        loan_id = connection.scalar(sa.select(t.loan.c.id).where(t.loan.c.loan_ref == LOAN))
        return {
            "loan": [tuple(row) for row in connection.execute(
                sa.select(t.loan).where(t.loan.c.id == loan_id))],
            "installment": [tuple(row) for row in connection.execute(
                sa.select(t.installment).where(t.installment.c.loan_id == loan_id)
                .order_by(t.installment.c.number))],
        }


def test_undo_restores_the_loan_exactly_and_nets_the_ledger_to_zero(services):
    _book(services)
    before = _loan_rows(services)
    plan_id = _propose(services, {"kind": "reage", "terms": 6,
                                  "treatments": {"penalty": "waive",
                                                 "compound": "capitalise"}})["plan_id"]
    _approve(services, plan_id)
    assert _loan_rows(services) != before
    plans.undo(plan_id, by="S-01", uow_factory=services.uow_factory, clock=services.clock)
    assert _loan_rows(services) == before
    assert _status(services, plan_id) == "undone"
    assert _booked(services).loan.plans == ()
    net: dict[str, int] = defaultdict(int)
    with services.engine.connect() as connection:
        for account, amount in connection.execute(
                sa.select(t.posting.c.account, t.posting.c.amount)
                .where(t.posting.c.entry.in_([f"plan:{plan_id}", f"plan-undo:{plan_id}"]))):
            net[account] += amount
    assert net and all(amount == 0 for amount in net.values())
    assert_ledger_consistent(services)


def test_undo_is_refused_once_a_payment_came_after_the_plan(services):
    _book(services)
    plan_id = _propose(services)["plan_id"]
    _approve(services, plan_id)
    payments.post_payment(LOAN, 10_000, PLAN_DAY, "after-plan", uow_factory=services.uow_factory,
                          clock=services.clock)
    _refused(lambda: plans.undo(plan_id, by="S-01", uow_factory=services.uow_factory,
                                clock=services.clock), "plan.latest")


def test_a_back_dated_payment_before_a_plan_replays_across_it(services):
    _book(services)
    plan_id = _propose(services)["plan_id"]
    _approve(services, plan_id)
    _eod(services, date(2026, 3, 10))
    payments.post_payment(LOAN, 50_000, date(2026, 2, 20), "late-news",
                          uow_factory=services.uow_factory, clock=services.clock)
    booked = _booked(services)
    assert [p.plan_id for p in booked.loan.plans] == [plan_id]
    assert booked.state == state_on(booked.loan, _standing(services), date(2026, 3, 10))
    assert booked.state != state_on(replace(booked.loan, plans=()), _standing(services),
                                    date(2026, 3, 10))
    assert_ledger_consistent(services)


def test_a_prepayment_keeps_its_flag_through_restatement(services):
    _book(services)
    payments.post_payment(LOAN, 300_000, PLAN_DAY, "prepay", uow_factory=services.uow_factory,
                          clock=services.clock, prepayment=True)
    payments.post_payment(LOAN, 1_000, date(2026, 2, 25), "back-dated",
                          uow_factory=services.uow_factory, clock=services.clock)
    standing = _standing(services)
    assert [p.prepayment for p in standing] == [False, True]
    booked = _booked(services)
    closed = PLAN_DAY - timedelta(days=1)
    assert booked.state.prepaid_principal > 0
    assert booked.state == payments.restate(booked, standing, closed)[0]
    as_plain = [replace(p, prepayment=False) for p in standing]
    assert booked.state != payments.restate(booked, as_plain, closed)[0]
    assert_ledger_consistent(services)


DUNNING = """
name = "dunning"
product = "WLD-DAILY"
send_time = "10:00"
[reminders]
channels = ["sms"]
[[champion]]
name = "sms-late"
kind = "sms"
from = 1
to = 400
template = "overdue"
"""


def test_dunning_stops_under_a_plan_being_kept_but_its_reminders_go_out(services):
    _book(services, broken_after_days=15)
    plan_id = _propose(services)["plan_id"]
    _approve(services, plan_id)
    day = FIRST_NEW_DUE + timedelta(days=2)  # the first plan installment is 3 days late next
    _eod(services, day)
    assert _status(services, plan_id) == "approved"
    collections.run_strategies(day, uow_factory=services.uow_factory, clock=services.clock,
                               renderer=JinjaRenderer(),
                               strategies={"WLD-DAILY": parse_strategy_text(DUNNING)})
    with services.engine.connect() as connection:
        steps = defaultdict(set)
        for loan, step in connection.execute(
                sa.select(t.loan.c.loan_ref, ct.collection_action.c.step)
                .join(t.loan, t.loan.c.id == ct.collection_action.c.loan_id)):
            steps[loan].add(step)
    assert steps[LOAN] == {"reminder+3-sms"}  # the plan's reminder, no dunning
    assert "sms-late" in steps["WLD-1002"]  # a loan without a plan is dunned


OFFERING = """
name = "offering"
product = "WLD-DAILY"
send_time = "10:00"
[[champion]]
name = "offer-reage"
kind = "sms"
from = 1
to = 400
offer = { kind = "reage", terms = 6 }
"""


def _offer(services: bootstrap.Services, day: date) -> None:
    collections.run_strategies(day, uow_factory=services.uow_factory, clock=services.clock,
                               renderer=JinjaRenderer(),
                               strategies={"WLD-DAILY": parse_strategy_text(OFFERING)})


def _actions(services: bootstrap.Services, loan: str = LOAN) -> list[tuple[str, str, str]]:
    with services.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(
            sa.select(ct.collection_action.c.status, ct.collection_action.c.reason,
                      ct.collection_action.c.message_id)
            .join(t.loan, t.loan.c.id == ct.collection_action.c.loan_id)
            .where(t.loan.c.loan_ref == loan).order_by(ct.collection_action.c.id))]


def test_a_strategy_step_offers_a_plan_in_a_screened_message_stating_its_cost(services):
    _book(services)
    _offer(services, PLAN_DAY - timedelta(days=1))
    [(status, _, message_id)] = _actions(services)
    assert status == "scheduled"
    with services.engine.connect() as connection:
        body, compliance = connection.execute(
            sa.select(ct.message_content.c.body, ct.message_content.c.compliance)
            .join(ct.message, ct.message.c.id == ct.message_content.c.id)
            .where(ct.message.c.message_id == message_id)).one()
        record = connection.execute(
            sa.select(pt.plan).join(t.loan, t.loan.c.id == pt.plan.c.loan_id)
            .where(t.loan.c.loan_ref == LOAN)).one()
    assert (record.status, record.kind, record.proposed_by) == (
        "proposed", "reage", "strategy:offering")
    preview = record.preview if isinstance(record.preview, dict) else json.loads(
        record.preview)
    # The message names the proposed plan and states what it costs in all and first asks,
    # the preview's own figures; the compliance engine decided on this very text.
    assert record.plan_ref in body
    assert preview["borrower_total_after"] in body
    assert preview["new_schedule"][0]["payment"] in body
    assert record.plan_ref in json.loads(compliance)["action"]["content"]
    # The proposal waits for a person: approving it is the ordinary maker-checker flow.
    _approve(services, record.plan_ref)
    assert _status(services, record.plan_ref) == "approved"


def _proposals(services: bootstrap.Services) -> list[Any]:
    with services.engine.connect() as connection:
        return list(connection.execute(
            sa.select(pt.plan).join(t.loan, t.loan.c.id == pt.plan.c.loan_id)
            .where(t.loan.c.loan_ref == LOAN).order_by(pt.plan.c.id)))


def test_a_plan_is_offered_once_while_the_offer_is_open(services):
    """One open offer a loan: a re-run of the day and a second offer step add none; once its
    business date has passed it can no longer be approved, so it lapses (it blocked every
    later offer, and the borrower's own request, for ever) and the next offer goes out."""
    _book(services)
    day = PLAN_DAY - timedelta(days=1)
    twice = OFFERING + '[[champion]]\nname = "offer-deferral"\nkind = "sms"\nfrom = 1\n' \
                       'to = 400\noffer = { kind = "deferral", months = 1 }\n'
    for _ in range(2):
        collections.run_strategies(
            day, uow_factory=services.uow_factory, clock=services.clock,
            renderer=JinjaRenderer(), strategies={"WLD-DAILY": parse_strategy_text(twice)})
    statuses = [(status, reason) for status, reason, _ in _actions(services)]
    assert sorted(statuses) == [("cancelled", "a plan offer is already open for this loan"),
                                ("scheduled", "")]
    [first] = _proposals(services)
    _eod(services, day + timedelta(days=1))
    _offer(services, day + timedelta(days=1))
    assert _actions(services)[-1][0] == "scheduled"
    lapsed, fresh = _proposals(services)
    assert (lapsed.plan_ref, lapsed.status) == (first.plan_ref, "rejected")
    assert lapsed.reason == f"lapsed: not decided on {first.effective_on}"
    assert fresh.status == "proposed" and fresh.effective_on == day + timedelta(days=2)
    _approve(services, fresh.plan_ref)


@pytest.mark.parametrize(("first", "then", "lapses"), [
    ("strategy", "C-01", True), ("strategy", "web:sup", True), ("strategy", "key:K-1", True),
    ("strategy", "borrower:B-1001", False), ("strategy", "strategy:other", False),
    ("borrower:B-1001", "C-01", False), ("C-02", "C-01", False), ("web:col", "web:sup", False),
])
def test_a_staff_proposal_lapses_a_strategys_offer_and_nothing_else(services, first, then,
                                                                    lapses):
    _book(services)
    if first == "strategy":
        _offer(services, PLAN_DAY - timedelta(days=1))
    else:
        _propose(services, by=first)
    [pending] = _proposals(services)
    if not lapses:
        refused = _refused(lambda: _propose(services, {"kind": "deferral", "months": 1},
                                            by=then), "plan.pending")
        assert f"plan {pending.plan_ref} proposed by {pending.proposed_by} already" in \
            refused.reason
        assert [p.status for p in _proposals(services)] == ["proposed"]
        return
    shown = _propose(services, {"kind": "deferral", "months": 1}, by=then)
    lapsed, fresh = _proposals(services)
    assert (lapsed.plan_ref, lapsed.status, lapsed.decided_by) == (
        pending.plan_ref, "rejected", "book")
    assert lapsed.reason == f"lapsed: {then} proposed another plan"
    assert (fresh.plan_ref, fresh.status) == (shown["plan_id"], "proposed")
    _approve(services, shown["plan_id"], by="S-01")
    assert _status(services, shown["plan_id"]) == "approved"


def test_an_offer_goes_out_on_its_day_stating_what_settles_the_loan_now(services):
    _book(services)
    day = PLAN_DAY - timedelta(days=1)
    # At 22:30 the CN pack holds a message to 08:00 the next day, when the plan could no
    # longer be approved: that step is cancelled and nothing is proposed.
    late = OFFERING.replace('send_time = "10:00"', 'send_time = "22:30"').replace(
        'name = "offer-reage"', 'name = "offer-late"')
    collections.run_strategies(day, uow_factory=services.uow_factory, clock=services.clock,
                               renderer=JinjaRenderer(),
                               strategies={"WLD-DAILY": parse_strategy_text(late)})
    assert _actions(services) == [
        ("cancelled", "the plan offer cannot go out on its business date", None)]
    assert _proposals(services) == []
    _offer(services, day)
    [_, (status, _, message_id)] = _actions(services)
    assert status == "scheduled"
    booked = _booked(services)
    payoff = summarize(booked.loan, eod.current_state(booked, day)).payoff_amount
    with services.engine.connect() as connection:
        body = connection.scalar(sa.select(ct.message_content.c.body)
                                 .join(ct.message, ct.message.c.id == ct.message_content.c.id)
                                 .where(ct.message.c.message_id == message_id))
    [record] = _proposals(services)
    preview = record.preview if isinstance(record.preview, dict) else json.loads(
        record.preview)
    # "当前共计 X 元" / "X CNY in all now": what a payment today must be to settle, not the old
    # schedule's total with interest not yet earned (which the offer stated as owed now).
    assert f"当前共计{money_text(payoff, 'CNY')}元" in body
    assert preview["borrower_total_before"] not in body
    assert "payoff_now" not in preview


def test_no_offer_goes_out_when_the_policy_refuses_the_plan(services):
    _book(services, dpd=[1, 5])  # WLD-1001 is 15 days late: outside the policy's DPD range
    _offer(services, PLAN_DAY - timedelta(days=1))
    [(status, reason, message_id)] = _actions(services)
    assert (status, message_id) == ("cancelled", None)
    assert reason.startswith("no plan to offer: policy.dpd:")
    with services.engine.connect() as connection:
        assert connection.scalar(sa.select(sa.func.count()).select_from(pt.plan)) == 0


@pytest.mark.parametrize("step, field", [
    ('kind = "agency_placement"\nday = 31\noffer = { kind = "reage" }',
     "strategy.champion[0].offer"),
    ('kind = "sms"\nday = 3\noffer = { kind = "forgive_all" }',
     "strategy.champion[0].offer.kind"),
    ('kind = "sms"\nday = 3\noffer = { kind = "reage", plan_id = "PL-1" }',
     "strategy.champion[0].offer.plan_id"),
    ('kind = "sms"\nday = 3\noffer = "reage"', "strategy.champion[0].offer"),
    # A settlement's one discounted sum and deadline are not what the offer message states.
    ('kind = "sms"\nday = 3\noffer = { kind = "settlement", amount = "100.00" }',
     "strategy.champion[0].offer.kind"),
    # TOML floats are refused when the strategy is read, not on every firing.
    ('kind = "sms"\nday = 3\noffer = { kind = "deferral", months = 2, rate = 0.05 }',
     "strategy.champion[0].offer.rate"),
    ('kind = "sms"\nday = 3\noffer = { kind = "reage", terms = 600 }',
     "strategy.champion[0].offer.terms"),
])
def test_a_bad_offer_in_a_strategy_is_refused_naming_the_field(step, field):
    text = f'name = "s"\nproduct = "WLD-DAILY"\n[[champion]]\nname = "x"\n{step}\n'
    with pytest.raises(DomainError) as refused:
        parse_strategy_text(text)
    assert refused.value.field == field


def test_a_plan_paid_ahead_is_kept_on_the_due_date_not_before(services):
    _book(services, kept_after_payments=1)
    plan_id = _propose(services)["plan_id"]
    _approve(services, plan_id)
    early = FIRST_NEW_DUE - timedelta(days=5)
    _eod(services, early - timedelta(days=1))
    booked = _booked(services)
    amount = due_on(booked.loan, eod.current_state(booked, early - timedelta(days=1)),
                    FIRST_NEW_DUE)
    payments.post_payment(LOAN, amount, early, "plan-ahead", uow_factory=services.uow_factory,
                          clock=services.clock)
    _eod(services, FIRST_NEW_DUE - timedelta(days=1))
    assert _status(services, plan_id) == "approved"  # paid, but not yet due
    _eod(services, FIRST_NEW_DUE)
    assert _status(services, plan_id) == "kept"
