"""The borrower's statement of the debt (`arrears statement`): the `--json` document, and the
sections a printed statement shows, in zh-CN or English.

Figures come from `domain.statement.explain`, which replays the loan through the engine, so
`total_due` is `loan show`'s and the accrual lines add up to the accrued totals. Amounts are
decimal strings; daily accruals keep the sub-minor precision they accrue in.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from arrears.application.handlers.payments import live_payments
from arrears.application.loan_file import (
    amounts_document,
    money_text,
    plan_document,
    sub_minor_text,
)
from arrears.application.ports import UnitOfWork
from arrears.compliance.packs.us import DEFAULT_PARAMS as US_PARAMS
from arrears.compliance.predicates import validation_period_end
from arrears.domain.errors import DomainError
from arrears.domain.loan import Loan, Payment
from arrears.domain.statement import ACCRUED, CREDIT_KEY_PREFIX, Explanation, explain

ONE_DAY = timedelta(days=1)
LANGUAGES = ("zh-CN", "en")


def check_language(language: str) -> str:
    if language not in LANGUAGES:
        raise DomainError("--lang", f"unknown language {language!r} (expected zh-CN or en)")
    return language


def book_statement(loan_ref: str, *, uow_factory: Callable[[], UnitOfWork]) -> dict[str, Any]:
    """The statement of a booked loan at the book's closed date, with the payments of the
    open business date applied as the book applies them."""
    return statement_document(book_explanation(loan_ref, uow_factory=uow_factory))


def book_explanation(loan_ref: str, *, uow_factory: Callable[[], UnitOfWork]) -> Explanation:
    """`explain` of a booked loan at the book's closed date (what `book_statement` prints)."""
    with uow_factory() as uow:
        booked = uow.book.get(loan_ref)
        if booked is None:
            raise DomainError("LOAN_ID", f"no loan {loan_ref!r}")
        closed = uow.book.closed_through()
        live = live_payments(uow.book, booked)
    as_of = closed if closed is not None else booked.state.as_of
    open_day = as_of + ONE_DAY
    return explain(booked.loan, [p for p in live if p.on <= as_of], as_of,
                   open_day_payments=[p for p in live if p.on == open_day],
                   itemize=_is_us(booked.loan))


def file_statement(loan: Loan, payments: tuple[Payment, ...], as_of: date) -> dict[str, Any]:
    """The statement of a LOAN.json loan at the end of `as_of` (as `loan status` reads it)."""
    return statement_document(explain(loan, payments, as_of, itemize=_is_us(loan)))


def _is_us(loan: Loan) -> bool:
    return loan.product.jurisdiction.upper() == "US"


def statement_document(explanation: Explanation) -> dict[str, Any]:
    loan, state, summary = explanation.loan, explanation.state, explanation.summary
    cur = loan.currency

    def money(units: int) -> str:
        return money_text(units, cur)

    def fine(units: int) -> str:
        return sub_minor_text(units, cur)

    installments = []
    for row in state.installments:
        charges = {}
        for component in ACCRUED:
            total = row.penalty_accrued if component.value == "penalty" else row.compound_accrued
            paid = row.penalty_paid if component.value == "penalty" else row.compound_paid
            charges[component.value] = {
                "accrued": fine(total), "from_lines": fine(
                    explanation.accrued_from_lines(row.number, component)),
                "paid": money(paid)}
        installments.append({
            "number": row.number, "due_date": row.due_date.isoformat(),
            "principal": money(row.principal), "interest": money(row.interest),
            "fee": money(row.fee), "paid_principal": money(row.paid_principal),
            "paid_interest": money(row.paid_interest), "paid_fee": money(row.paid_fee),
            **charges})
    document: dict[str, Any] = {
        "loan_id": loan.loan_id, "currency": cur,
        "jurisdiction": loan.product.jurisdiction.upper(), "as_of": summary.as_of.isoformat(),
        "status": summary.status.value, "dpd": summary.dpd, "bucket": summary.bucket.value,
        "principal_outstanding": money(summary.principal_outstanding),
        "overdue_principal": money(summary.overdue_principal),
        "overdue_interest": money(summary.overdue_interest),
        "overdue_fee": money(summary.overdue_fee), "due_today": money(summary.due_today),
        "penalty_interest": money(summary.penalty_interest),
        "compound_interest": money(summary.compound_interest),
        "total_due": money(summary.total_due), "payoff_amount": money(summary.payoff_amount),
        "unapplied_credit": money(state.unapplied),
        "first_delinquency_on": summary.first_delinquency_on.isoformat()
        if summary.first_delinquency_on else None,
        "restructured": summary.restructured,
        "product": {"method": loan.product.method.value,
                    "annual_rate": str(loan.product.annual_rate),
                    "penalty_rate": str(loan.product.penalty_rate),
                    "day_count": loan.product.day_count.value,
                    "compound": loan.product.compound, "grace_days": loan.product.grace_days},
        "schedule": [{"number": r.number, "due_date": r.due_date.isoformat(),
                      "principal": money(r.principal), "interest": money(r.interest),
                      "fee": money(r.fee), "payment": money(r.payment)}
                     for r in explanation.schedule],
        "payments": [{"key": a.key, "on": a.on.isoformat(),
                      "kind": "credit_applied" if a.key.startswith(CREDIT_KEY_PREFIX)
                      else "payment",
                      "amount": money(a.amount),
                      **{f"to_{part}": money(getattr(a, f"to_{part}"))
                         for part in ("fee", "penalty", "compound", "interest", "principal",
                                      "credit")}}
                     for a in explanation.applied],
        "accrual": [{"installment": line.installment, "component": line.component.value,
                     "from": line.first.isoformat(), "to": line.last.isoformat(),
                     "days": line.days, "base": money(line.base), "rate": str(line.rate),
                     "day_count": f"{line.year_days}", "daily": fine(line.daily),
                     "total": fine(line.total)}
                    for line in explanation.lines],
        "adjustments": [{"installment": a.installment, "component": a.component.value,
                         "on": a.on.isoformat(), "amount": fine(a.amount),
                         "reason": a.reason, "plan_id": a.plan_id or None}
                        for a in explanation.adjustments],
        "installments": installments,
        "plans": [plan_document(plan, cur) for plan in loan.plans],
        "waived": amounts_document(state.waived, cur),
        "capitalised": amounts_document(state.capitalised, cur),
        "itemization": None,
    }
    item = explanation.itemization
    if item is not None:
        provided_on = summary.as_of + ONE_DAY
        document["itemization"] = {
            "itemization_date": item.on.isoformat(), "basis": item.basis.value,
            "amount_on_itemization_date": money(item.amount), "interest": money(item.interest),
            "fees": money(item.fees), "payments": money(item.payments),
            "credits": money(item.credits), "current_amount": money(item.current),
            "provided_on": provided_on.isoformat(),
            # US-22: 30 days after receipt, assumed 5 business days after it is provided.
            "validation_end": validation_period_end(
                provided_on, US_PARAMS.receipt_business_days,
                US_PARAMS.validation_period_days,
                US_PARAMS.exclude_observed_holidays).isoformat(),
        }
    return document


# --- the printed statement -----------------------------------------------------------------

LABELS: dict[str, dict[str, str]] = {
    "title": {"en": "Statement of the debt", "zh-CN": "欠款明细说明"},
    "summary": {"en": "Summary", "zh-CN": "概要"},
    "schedule": {"en": "Repayment schedule", "zh-CN": "还款计划"},
    "payments": {"en": "Payments and where each went", "zh-CN": "还款及其分配"},
    "accrual": {"en": "Penalty (P) and compound (C) interest, day by day",
                "zh-CN": "罚息（P）与复利（C）逐日计算"},
    "adjustments": {"en": "Adjustments to accrued charges", "zh-CN": "已计费用调整"},
    "plans": {"en": "Plans and waivers", "zh-CN": "还款方案与减免"},
    "itemization": {"en": "Itemization of the debt (Regulation F)",
                    "zh-CN": "债务分项说明（Regulation F）"},
    "note": {"en": "Daily amounts are in 1/10,000 of a cent and are rounded to the cent only "
                   "when charged.",
             "zh-CN": "每日金额精确到万分之一分，仅在计收时四舍五入到分。"},
}
SUMMARY_KEYS = ("as_of", "status", "dpd", "principal_outstanding", "overdue_principal",
                "overdue_interest", "overdue_fee", "due_today", "penalty_interest",
                "compound_interest", "total_due", "payoff_amount", "unapplied_credit",
                "first_delinquency_on")
SUMMARY_LABELS_ZH = {
    "as_of": "截至", "status": "状态", "dpd": "逾期天数", "principal_outstanding": "剩余本金",
    "overdue_principal": "逾期本金", "overdue_interest": "逾期利息", "overdue_fee": "逾期费用",
    "due_today": "今日到期",
    "penalty_interest": "罚息", "compound_interest": "复利", "total_due": "应还总额",
    "payoff_amount": "提前结清金额", "unapplied_credit": "未分配余额",
    "first_delinquency_on": "首次逾期日",
}


def printed_sections(document: dict[str, Any], language: str
                     ) -> tuple[str, list[tuple[str, list[list[str]]]]]:
    """(title, [(heading, rows)]) for a PDF or a terminal: the first row of each is its head."""
    zh = language == "zh-CN"

    def label(key: str) -> str:
        return LABELS[key][language]

    title = f"{label('title')} — {document['loan_id']} ({document['currency']})"
    summary = [["", ""]] + [[SUMMARY_LABELS_ZH[k] if zh else k.replace("_", " "),
                             str(document[k])] for k in SUMMARY_KEYS]
    schedule = [["#", "due", "principal", "interest", "fee", "payment"]] + [
        [str(r["number"]), r["due_date"], r["principal"], r["interest"], r["fee"], r["payment"]]
        for r in document["schedule"]]
    payments = [["date", "amount", "fee", "penalty", "compound", "interest", "principal",
                 "credit"]] + [
        [p["on"] + (" *" if p["kind"] == "credit_applied" else ""), p["amount"], p["to_fee"],
         p["to_penalty"], p["to_compound"], p["to_interest"], p["to_principal"], p["to_credit"]]
        for p in document["payments"]]
    accrual = [["#", "", "from", "to", "days", "base", "rate", "daily", "total"]] + [
        [str(a["installment"]), a["component"][0].upper(), a["from"], a["to"], str(a["days"]),
         a["base"], f"{a['rate']}/{a['day_count']}", a["daily"], a["total"]]
        for a in document["accrual"]]
    sections = [(label("summary"), summary), (label("schedule"), schedule),
                (label("payments"), payments), (label("accrual"), accrual)]
    if document["adjustments"]:
        sections.append((label("adjustments"), [["#", "", "on", "amount", "reason"]] + [
            [str(a["installment"]), a["component"], a["on"], a["amount"],
             a["reason"] + (f" {a['plan_id']}" if a["plan_id"] else "")]
            for a in document["adjustments"]]))
    if document["plans"] or any(Decimal(v) for v in document["waived"].values()):
        rows = [["plan", "kind", "effective"]] + [
            [p["plan_id"], p["kind"], p["effective_on"]] for p in document["plans"]]
        rows += [[f"waived {k}", v, ""] for k, v in document["waived"].items()]
        rows += [[f"capitalised {k}", v, ""] for k, v in document["capitalised"].items()]
        sections.append((label("plans"), rows))
    item = document["itemization"]
    if item is not None:
        sections.append((label("itemization"), [["", ""]] + [
            [key.replace("_", " "), str(value)] for key, value in item.items()]))
    sections.append((label("note"), []))
    return title, sections
