"""A small book for the portfolio analytics, written row by row into a migrated store so each
figure can be worked out by hand (the expected figures are in the tests that use it).

Loans (principal in fen), closed through 2026-04-30:
- L4, disbursed 2025-10-05, 3,000.00: M1 on 11-06, M2 12-06, M3 01-05, M4 02-04, M5 03-06,
  written off 03-15 (3,000.00 expensed), 300.00 recovered on 04-10.
- L1, disbursed 2026-01-10, 1,000.00: M1 on 02-11, back to C on 02-20 paying 200.00 principal.
- L2, disbursed 2026-01-15, 2,000.00: M1 on 02-16, M2 03-18, M3 04-17; no payment.
- L3, disbursed 2026-02-05, 500.00: settled by a payment on 03-10.
- L5, disbursed 2026-04-20, 800.00: current.
Collectors C-01 (L2's case) and C-02, agency AG-1 (L1's case, placed 04-01): contacts,
promises, a complaint naming C-01 and AG-1, and strategy actions the engine refused.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import sqlalchemy as sa

from arrears.adapters.db import collections_tables as ct
from arrears.adapters.db import complaints_tables as cpt
from arrears.adapters.db import tables as t

from shipped import default_products

AS_OF = date(2026, 4, 30)
LOANS = {  # ref: (borrower, disbursed, principal, status, written off)
    "L4": ("B4", date(2025, 10, 5), 300_000, "written_off", date(2026, 3, 15)),
    "L1": ("B1", date(2026, 1, 10), 100_000, "current", None),
    "L2": ("B2", date(2026, 1, 15), 200_000, "overdue", None),
    "L3": ("B3", date(2026, 2, 5), 50_000, "settled", None),
    "L5": ("B5", date(2026, 4, 20), 80_000, "current", None),
}
CHANGES = {  # ref: ((date, from, to), ...)
    "L4": ((date(2025, 11, 6), "C", "M1"), (date(2025, 12, 6), "M1", "M2"),
           (date(2026, 1, 5), "M2", "M3"), (date(2026, 2, 4), "M3", "M4"),
           (date(2026, 3, 6), "M4", "M5")),
    "L1": ((date(2026, 2, 11), "C", "M1"), (date(2026, 2, 20), "M1", "C")),
    "L2": ((date(2026, 2, 16), "C", "M1"), (date(2026, 3, 18), "M1", "M2"),
           (date(2026, 4, 17), "M2", "M3")),
}
PAYMENTS = (  # (ref, key, paid on, amount, to principal)
    ("L1", "p-l1", date(2026, 2, 20), 25_000, 20_000),
    ("L3", "p-l3", date(2026, 3, 10), 51_000, 50_000),
    ("L4", "p-l4", date(2026, 4, 10), 30_000, 30_000),
)


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def build(engine: sa.Engine) -> None:
    """Write the book into the migrated, empty store behind `engine`."""
    with engine.begin() as db:
        _loans(db)
        _collections(db)


def _loans(db: sa.Connection) -> None:
    db.execute(t.business_day.insert().values(id=1, closed_through=AS_OF))
    db.execute(t.product.insert().values(code="WLD-DAILY", definition=json.dumps(
        default_products()["WLD-DAILY"])))
    ids: dict[str, int] = {}
    for ref, (borrower, disbursed, principal, status, written_off) in LOANS.items():
        borrower_id = db.execute(t.borrower.insert().values(
            borrower_ref=borrower, name=f"Borrower {borrower}", national_id=f"ID-{borrower}",
            time_zone="Asia/Shanghai")).inserted_primary_key[0]
        ids[ref] = db.execute(t.loan.insert().values(
            loan_ref=ref, borrower_id=borrower_id, product_code="WLD-DAILY", currency="CNY",
            principal=principal, disbursed_on=disbursed, terms=6, state_on=AS_OF,
            status=status, written_off_on=written_off)).inserted_primary_key[0]
    for ref, changes in CHANGES.items():
        for day, source, target in changes:
            db.execute(t.delinquency_change.insert().values(
                loan_id=ids[ref], business_date=day, from_bucket=source, to_bucket=target,
                dpd=0))
    for ref, key, day, amount, principal in PAYMENTS:
        db.execute(t.payment.insert().values(
            loan_id=ids[ref], idempotency_key=key, paid_on=day, amount=amount, to_fee=0,
            to_penalty=0, to_compound=0, to_interest=amount - principal,
            to_principal=principal, to_credit=0, recovery=ref == "L4",
            recorded_at=_at(f"{day.isoformat()}T12:00:00+08:00")))
    db.execute(t.posting.insert(), [
        {"entry": "eod:2026-03-15:L4", "loan_id": ids["L4"], "business_date": date(2026, 3, 15),
         "account": account, "amount": amount}
        for account, amount in (("principal", -300_000), ("write_off_expense", 300_000))])


def _collections(db: sa.Connection) -> None:
    loan_id = dict(db.execute(sa.select(t.loan.c.loan_ref, t.loan.c.id)).all())
    borrower_id = dict(db.execute(sa.select(t.loan.c.loan_ref, t.loan.c.borrower_id)).all())
    collector = {ref: db.execute(ct.collector.insert().values(
        collector_ref=ref, name=name, languages="zh-CN", buckets="M1,M2,M3",
        capacity=100)).inserted_primary_key[0] for ref, name in (("C-01", "王敏"),
                                                                   ("C-02", "李强"))}
    agency = db.execute(ct.agency.insert().values(
        agency_ref="AG-1", name="华信资产", licence_no="JR-1",
        licence_valid_from=date(2025, 1, 1), licence_valid_until=date(2027, 12, 31),
        whitelisted=True, capacity=100, commission_rate="0.12",
        fixed_fee=2000)).inserted_primary_key[0]
    case_l2 = db.execute(ct.collection_case.insert().values(
        borrower_id=borrower_id["L2"], status="open", bucket="M3", queue="M3/zh-CN/-",
        collector_id=collector["C-01"], opened_on=date(2026, 2, 16),
        updated_on=AS_OF)).inserted_primary_key[0]
    case_l1 = db.execute(ct.collection_case.insert().values(
        borrower_id=borrower_id["L1"], status="open", bucket="M1", queue="agency:AG-1",
        collector_id=None, opened_on=date(2026, 3, 25),
        updated_on=AS_OF)).inserted_primary_key[0]
    placement = db.execute(ct.placement.insert().values(
        case_id=case_l1, agency_id=agency, scope="remote", placed_on=date(2026, 4, 1),
        ends_on=date(2026, 6, 30), balance_at_placement=80_000,
        recovered=5_000)).inserted_primary_key[0]
    db.execute(ct.placement_loan.insert().values(placement_id=placement, loan_id=loan_id["L1"],
                                                 balance=80_000))
    db.execute(ct.contact_log.insert(), [
        {"case_id": case, "actor": actor, "channel": "call", "outcome": outcome, "at": _at(at)}
        for case, actor, outcome, at in (
            (case_l2, "C-01", "conversation", "2026-03-20T10:00:00+08:00"),
            (case_l2, "C-01", "no_answer", "2026-03-21T10:00:00+08:00"),
            (case_l2, "C-01", "refused", "2026-03-22T10:00:00+08:00"),
            (case_l2, "C-02", "wrong_party", "2026-03-23T10:00:00+08:00"),
            (case_l1, "agency:AG-1", "conversation", "2026-04-02T10:00:00+08:00"),
            # After the report date (in Beijing), so left out.
            (case_l1, "agency:AG-1", "conversation", "2026-05-01T09:00:00+08:00"))])
    db.execute(ct.promise.insert(), [
        {"case_id": case, "loan_id": loan_id[ref], "amount": amount, "due_on": due,
         "status": status, "made_at": _at(f"{made.isoformat()}T10:00:00+08:00"),
         "paid_before": 0, "collector_ref": taker, "promised_on": made,
         "settled_on": settled, "paid": paid}
        for case, ref, taker, amount, made, due, status, settled, paid in (
            (case_l2, "L2", "C-01", 10_000, date(2026, 3, 20), date(2026, 3, 25), "kept",
             date(2026, 3, 25), 10_000),
            (case_l2, "L2", "C-01", 8_000, date(2026, 3, 22), date(2026, 4, 4), "broken",
             date(2026, 4, 5), 2_000),
            (case_l1, "L1", "agency:AG-1", 9_000, date(2026, 4, 2), date(2026, 5, 10), "open",
             None, 0))])
    complaint = db.execute(cpt.complaint.insert().values(
        borrower_id=borrower_id["L2"], loan_id=loan_id["L2"], source="borrower",
        category="harassment", team="collections", jurisdiction="CN", summary="Too many calls",
        filed_at=_at("2026-03-25T10:00:00+08:00"), filed_on=date(2026, 3, 25),
        acknowledge_by=date(2026, 3, 27), answer_by=date(2026, 4, 9))).inserted_primary_key[0]
    db.execute(cpt.complaint_party.insert(), [
        {"complaint_id": complaint, "kind": "collector", "ref": "C-01"},
        {"complaint_id": complaint, "kind": "agency", "ref": "AG-1"}])
    blocked_message = db.execute(ct.message.insert().values(
        message_id="msg-blocked", channel="sms", loan_id=loan_id["L2"],
        borrower_id=borrower_id["L2"], business_date=date(2026, 3, 20), template="overdue",
        language="zh-CN", recipient="+8613800000000", pack="cn",
        status="blocked", next_attempt_at=_at("2026-03-21T10:00:00+08:00"),
        created_at=_at("2026-03-20T18:00:00+08:00"))).inserted_primary_key[0]
    db.execute(ct.message_content.insert().values(id=blocked_message, body="…",
                                                  compliance="{}"))
    db.execute(ct.collection_action.insert(), [
        {"action_key": key, "loan_id": loan_id[ref], "business_date": day,
         "strategy": "wld-daily-v1", "arm": "champion", "step": "sms", "kind": "sms",
         "status": status, "planned_at": _at(f"{day.isoformat()}T10:00:00+08:00"),
         "rule_ids": rules, "message_id": message}
        for key, ref, day, status, rules, message in (
            ("a-1", "L2", date(2026, 3, 19), "cancelled", "cn.house.opt_out", None),
            ("a-2", "L2", date(2026, 3, 20), "scheduled", "", "msg-blocked"),
            ("a-3", "L2", date(2026, 3, 21), "scheduled", "", None),
            ("a-4", "L1", date(2026, 4, 5), "rescheduled", "cn.cba2026.frequency", None),
            # Before the case was placed, so no agency's.
            ("a-5", "L1", date(2026, 3, 30), "cancelled", "cn.house.opt_out", None))])
