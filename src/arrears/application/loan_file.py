"""The LOAN.json public contract: a loan, its product and its payments as a JSON document,
translated to and from the domain with errors that name the field (`product.day_count: …`).

Money is a decimal string with at most the currency's minor digits; dates are ISO dates;
rates are decimal strings. Unknown fields are refused, so a typo never passes silently.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar

from arrears.domain.dates import check_date
from arrears.domain.disclosure import check_cost_cap
from arrears.domain.errors import DomainError, InvalidLoan
from arrears.domain.loan import Loan, LoanState, Payment, Summary
from arrears.domain.money import MAX_MINOR_UNITS, Money, minor_digits, parse_decimal
from arrears.domain.plans import (
    PARAMETERS,
    ByComponent,
    InvalidPlan,
    Plan,
    PlanKind,
    Treatment,
    check_plan,
    check_sequence,
)
from arrears.domain.product import (
    Component,
    EarlyPayment,
    InterestBasis,
    Method,
    Prepayment,
    Product,
    ReminderOffsets,
    Rounding,
    validate_product,
)
from arrears.domain.rates import DayCount
from arrears.domain.schedule import ScheduledInstallment

E = TypeVar("E", bound=StrEnum)

LOAN_FIELDS = {"loan_id", "currency", "principal", "disbursed_on", "terms", "product",
               "payments", "plans", "written_off_on", "borrower_id"}
PRODUCT_FIELDS = {"method", "interest_basis", "annual_rate", "day_count", "penalty_markup",
                  "penalty_base_rate", "penalty_rate_cap", "compound", "grace_days",
                  "monthly_fee_rate", "upfront_fee_rate", "rounding", "waterfall", "prepayment",
                  "early_payment", "jurisdiction", "reminder_offsets", "name"}
PAYMENT_FIELDS = {"key", "on", "amount", "prepayment"}
PLAN_COMMON_FIELDS = {"plan_id", "kind", "effective_on", "proposed_by", "approved_by"}
PLAN_FIELDS = PLAN_COMMON_FIELDS | set().union(*PARAMETERS.values())
_INT_TEXT = re.compile(r"[+-]?[0-9]{1,18}")
_PLAIN_DECIMAL = re.compile(r"-?(?:[0-9]{1,18}(?:\.[0-9]{1,18})?|\.[0-9]{1,18})")


def _require(doc: Mapping[str, Any], key: str, path: str) -> Any:
    if key not in doc:
        raise InvalidLoan(f"{path}{key}", "is required")
    return doc[key]


def _no_unknown(doc: Mapping[str, Any], allowed: set[str], path: str) -> None:
    for key in doc:
        if key not in allowed:
            raise InvalidLoan(f"{path}{key}", "is not a known field")


def _object(value: Any, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidLoan(field, "must be a JSON object")
    return value


def parse_date(value: Any, field: str) -> date:
    if not isinstance(value, str):
        raise InvalidLoan(field, "must be an ISO date string (YYYY-MM-DD)")
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise InvalidLoan(field, f"{value!r} is not a valid date (YYYY-MM-DD)") from None
    return check_date(day, field)


def parse_enum(kind: type[E], value: Any, field: str) -> E:
    try:
        return kind(value)
    except ValueError:
        names = ", ".join(member.value for member in kind)
        raise InvalidLoan(field, f"unknown value {value!r} (expected one of {names})") from None


def parse_int(value: Any, field: str) -> int:
    """An integer, or its text in ASCII digits (Python's `int` would also take "1_0", " 1"
    and full-width "１", which no one types for a count)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InvalidLoan(field, "must be an integer")
    if isinstance(value, str) and not _INT_TEXT.fullmatch(value):
        raise InvalidLoan(field, f"{value!r} is not an integer")
    return int(value)


def parse_amount(value: Any, currency: str, field: str, *, positive: bool = True) -> int:
    """Minor units from a decimal string; refuses sub-minor digits, amounts above
    MAX_MINOR_UNITS and (by default) ≤ 0."""
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise InvalidLoan(field, "must be a decimal string such as \"100.00\"")
    money = Money(parse_decimal(value, field), currency)
    largest = Money.from_minor(MAX_MINOR_UNITS, currency)
    if abs(money.amount) > largest.amount:
        raise InvalidLoan(field, f"{value} is above the largest amount accepted, "
                                 f"{largest.format()}")
    if not money.is_whole_minor():
        raise InvalidLoan(field, f"{value} has more than {minor_digits(currency)} decimal places")
    units = money.minor_units()
    if positive and units <= 0:
        raise InvalidLoan(field, f"must be positive (got {value})")
    return units


def _rate(doc: Mapping[str, Any], key: str, default: Decimal | None) -> Decimal | None:
    if key not in doc or doc[key] is None:
        return default
    value = doc[key]
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise InvalidLoan(f"product.{key}", "must be a decimal string such as \"0.18\"")
    return parse_decimal(value, f"product.{key}")


def _optional(doc: Mapping[str, Any], key: str, parse: Callable[[Any], Any], default: Any) -> Any:
    return parse(doc[key]) if key in doc and doc[key] is not None else default


def parse_product(value: Any) -> Product:
    doc = _object(value, "product")
    _no_unknown(doc, PRODUCT_FIELDS, "product.")
    defaults = Product(method=Method.BULLET, annual_rate=Decimal(0))
    method = parse_enum(Method, _require(doc, "method", "product."), "product.method")
    annual = _rate(doc, "annual_rate", None)
    if annual is None:
        raise InvalidLoan("product.annual_rate", "is required")
    compound = doc.get("compound", defaults.compound)
    if not isinstance(compound, bool):
        raise InvalidLoan("product.compound", "must be true or false")
    waterfall = _optional(doc, "waterfall", lambda v: _waterfall(v), defaults.waterfall)
    reminders = _optional(doc, "reminder_offsets", _reminders, defaults.reminders)
    product = Product(
        method=method,
        interest_basis=_optional(doc, "interest_basis",
                                 lambda v: parse_enum(InterestBasis, v, "product.interest_basis"),
                                 defaults.interest_basis),
        annual_rate=annual,
        day_count=_optional(doc, "day_count", lambda v: DayCount.parse(v, "product.day_count"),
                            defaults.day_count),
        penalty_markup=_rate(doc, "penalty_markup", defaults.penalty_markup) or Decimal(0),
        penalty_base_rate=_rate(doc, "penalty_base_rate", None),
        penalty_rate_cap=_rate(doc, "penalty_rate_cap", None),
        compound=compound,
        grace_days=_optional(doc, "grace_days", lambda v: parse_int(v, "product.grace_days"), 0),
        monthly_fee_rate=_rate(doc, "monthly_fee_rate", Decimal(0)) or Decimal(0),
        upfront_fee_rate=_rate(doc, "upfront_fee_rate", Decimal(0)) or Decimal(0),
        rounding=_optional(doc, "rounding", lambda v: parse_enum(Rounding, v, "product.rounding"),
                           defaults.rounding),
        waterfall=waterfall,
        prepayment=_optional(doc, "prepayment",
                             lambda v: parse_enum(Prepayment, v, "product.prepayment"),
                             defaults.prepayment),
        early_payment=_optional(doc, "early_payment",
                                lambda v: parse_enum(EarlyPayment, v, "product.early_payment"),
                                defaults.early_payment),
        jurisdiction=_optional(doc, "jurisdiction", str, defaults.jurisdiction),
        reminders=reminders,
    )
    return validate_product(product)


def _waterfall(value: Any) -> tuple[Component, ...]:
    if not isinstance(value, list):
        raise InvalidLoan("product.waterfall", "must be a list such as [\"fee\", \"penalty\", …]")
    return tuple(parse_enum(Component, v, f"product.waterfall[{i}]") for i, v in enumerate(value))


def _reminders(value: Any) -> ReminderOffsets:
    if not isinstance(value, list):
        raise InvalidLoan("product.reminder_offsets", "must be a list of day offsets")
    days = tuple(parse_int(v, f"product.reminder_offsets[{i}]") for i, v in enumerate(value))
    return ReminderOffsets(days=tuple(sorted(set(days))))


def parse_payments(value: Any, currency: str) -> tuple[Payment, ...]:
    if not isinstance(value, list):
        raise InvalidLoan("payments", "must be a list")
    payments = []
    for index, item in enumerate(value):
        path = f"payments[{index}]."
        doc = _object(item, f"payments[{index}]")
        _no_unknown(doc, PAYMENT_FIELDS, path)
        key = _require(doc, "key", path)
        if not isinstance(key, str) or not key.strip():
            raise InvalidLoan(f"{path}key", "must be a non-empty string")
        prepayment = doc.get("prepayment", False)
        if not isinstance(prepayment, bool):
            raise InvalidLoan(f"{path}prepayment", "must be true or false")
        payments.append(Payment(
            key=key,
            on=parse_date(_require(doc, "on", path), f"{path}on"),
            amount=parse_amount(_require(doc, "amount", path), currency, f"{path}amount"),
            prepayment=prepayment,
        ))
    return tuple(payments)


def _mapping(value: Any, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidPlan(field, "must be a JSON object")
    return value


def _decimal_text(value: Any, field: str, *, stored: bool) -> str:
    """A plan's rate or share as plain decimal text: no exponent ("1e-9999" is a share no one
    means, and would pass for one above zero). A `stored` plan was checked when it came in;
    plans written before `plan_document` wrote fixed-point text may hold "0E-8", so the
    stored-data read path accepts exponent forms and no data migration is needed."""
    if not isinstance(value, str | int) or isinstance(value, bool) or \
            not (stored or _PLAIN_DECIMAL.fullmatch(str(value))):
        raise InvalidPlan(field, "must be a decimal string such as \"0.5\"")
    return str(value)


def parse_stored_plan(value: Any, currency: str) -> Plan:
    """A plan the book wrote (`plan_document`), read back: as `parse_plan`, but a rate or
    share in exponent form ("0E-8", written by older versions) is accepted."""
    return parse_plan(value, currency, stored=True)


def parse_plan(value: Any, currency: str, path: str = "plan", *, stored: bool = False) -> Plan:
    """One plan object, or `InvalidPlan` naming the field (`plans[0].terms: …`)."""
    doc = _mapping(value, path)
    for key in doc:
        if key not in PLAN_FIELDS:
            raise InvalidPlan(f"{path}.{key}", "is not a known field")
    for key in ("plan_id", "kind", "effective_on"):
        if key not in doc:
            raise InvalidPlan(f"{path}.{key}", "is required")
    plan_id = doc["plan_id"]
    if not isinstance(plan_id, str) or not plan_id.strip():
        raise InvalidPlan(f"{path}.plan_id", "must be a non-empty string")
    try:
        kind = parse_enum(PlanKind, doc["kind"], f"{path}.kind")
        for key in doc:
            if key not in PLAN_COMMON_FIELDS and key not in PARAMETERS[kind]:
                raise InvalidPlan(f"{path}.{key}", f"is not a parameter of a {kind} plan")
        maker, checker = doc.get("proposed_by"), doc.get("approved_by")
        if maker is not None and maker == checker:
            raise InvalidPlan(f"{path}.approved_by",
                              "the approver must not be the proposer (maker-checker)")
        treatments = tuple(
            (parse_enum(Component, bucket, f"{path}.treatments"),
             parse_enum(Treatment, how, f"{path}.treatments.{bucket}"))
            for bucket, how in _mapping(doc.get("treatments", {}),
                                        f"{path}.treatments").items())
        waive = tuple(
            (parse_enum(Component, bucket, f"{path}.waive"),
             parse_decimal(_decimal_text(share, f"{path}.waive.{bucket}", stored=stored),
                           f"{path}.waive.{bucket}"))
            for bucket, share in _mapping(doc.get("waive", {}), f"{path}.waive").items())
        plan = Plan(
            plan_id=plan_id, kind=kind,
            effective_on=parse_date(doc["effective_on"], f"{path}.effective_on"),
            months=parse_int(doc.get("months", 0), f"{path}.months"),
            terms=parse_int(doc.get("terms", 0), f"{path}.terms"),
            first_due_on=(parse_date(doc["first_due_on"], f"{path}.first_due_on")
                          if "first_due_on" in doc else None),
            method=(parse_enum(Method, doc["method"], f"{path}.method")
                    if "method" in doc else None),
            treatments=treatments,
            rate=(parse_decimal(_decimal_text(doc["rate"], f"{path}.rate", stored=stored),
                               f"{path}.rate")
                  if "rate" in doc else None),
            until=parse_date(doc["until"], f"{path}.until") if "until" in doc else None,
            amount=(parse_amount(doc["amount"], currency, f"{path}.amount")
                    if "amount" in doc else 0),
            waive=waive,
        )
    except InvalidLoan as error:  # the shared parsers name the field; keep it, say "plan"
        raise InvalidPlan(error.field, error.reason) from None
    try:
        return check_plan(plan)
    except InvalidPlan as error:
        raise InvalidPlan(error.field.replace("plan", path, 1), error.reason) from None


def parse_plans(value: Any, currency: str, disbursed_on: date) -> tuple[Plan, ...]:
    """The `plans` array of LOAN.json, in effective order, checked as a sequence."""
    if not isinstance(value, list):
        raise InvalidPlan("plans", "must be a list")
    plans = []
    for index, item in enumerate(value):
        plan = parse_plan(item, currency, f"plans[{index}]")
        if plan.effective_on <= disbursed_on:
            raise InvalidPlan(f"plans[{index}].effective_on",
                              f"{plan.effective_on} is not after disbursement on {disbursed_on}")
        plans.append(plan)
    return check_sequence(tuple(plans))


def parse_loan_document(value: Any) -> tuple[Loan, tuple[Payment, ...]]:
    """A loan and its payments from a LOAN.json document, or `DomainError` naming the field."""
    doc = _object(value, "document")
    _no_unknown(doc, LOAN_FIELDS, "")
    loan_id = _require(doc, "loan_id", "")
    if not isinstance(loan_id, str) or not loan_id.strip():
        raise InvalidLoan("loan_id", "must be a non-empty string")
    currency = _require(doc, "currency", "")
    if not isinstance(currency, str):
        raise InvalidLoan("currency", "must be an ISO 4217 code such as \"CNY\"")
    try:
        minor_digits(currency)
    except DomainError as error:
        raise InvalidLoan("currency", error.reason) from None
    principal = parse_amount(_require(doc, "principal", ""), currency, "principal")
    disbursed_on = parse_date(_require(doc, "disbursed_on", ""), "disbursed_on")
    terms = parse_int(_require(doc, "terms", ""), "terms")
    product = parse_product(_require(doc, "product", ""))
    written_off_on = _optional(doc, "written_off_on", lambda v: parse_date(v, "written_off_on"),
                               None)
    check_cost_cap(principal, product, disbursed_on, terms)
    plans = parse_plans(doc.get("plans", []), currency, disbursed_on)
    loan = Loan(loan_id=loan_id, currency=currency, principal=principal,
                disbursed_on=disbursed_on, terms=terms, product=product,
                written_off_on=written_off_on, plans=plans)
    payments = parse_payments(doc.get("payments", []), currency)
    for index, payment in enumerate(payments):
        if payment.on < disbursed_on:
            raise InvalidLoan(f"payments[{index}].on",
                              f"{payment.on} is before disbursement on {disbursed_on}")
    return loan, payments


def money_text(units: int, currency: str) -> str:
    return Money.from_minor(units, currency).format()


def sub_minor_text(units: int, currency: str) -> str:
    return str(Money.from_sub_minor(units, currency).amount)


def schedule_document(
    rows: tuple[ScheduledInstallment, ...], currency: str
) -> list[dict[str, Any]]:
    return [
        {
            "number": row.number,
            "due_date": row.due_date.isoformat(),
            "principal": money_text(row.principal, currency),
            "interest": money_text(row.interest, currency),
            "fee": money_text(row.fee, currency),
            "payment": money_text(row.payment, currency),
            "balance_after": money_text(row.balance_after, currency),
        }
        for row in rows
    ]


def plan_document(plan: Plan, currency: str) -> dict[str, Any]:
    """A plan as the JSON object `parse_plan` reads back."""
    doc: dict[str, Any] = {"plan_id": plan.plan_id, "kind": plan.kind.value,
                           "effective_on": plan.effective_on.isoformat()}
    fields = PARAMETERS[plan.kind]
    if "months" in fields:
        doc["months"] = plan.months
    if "terms" in fields:
        doc["terms"] = plan.terms
    if "first_due_on" in fields and plan.first_due_on is not None:
        doc["first_due_on"] = plan.first_due_on.isoformat()
    if "method" in fields and plan.method is not None:
        doc["method"] = plan.method.value
    if "treatments" in fields and plan.treatments:
        doc["treatments"] = {c.value: t.value for c, t in plan.treatments}
    if "rate" in fields and plan.rate is not None:
        doc["rate"] = format(plan.rate, "f")  # fixed point: str() may write "0E-8"
    if "until" in fields and plan.until is not None:
        doc["until"] = plan.until.isoformat()
    if "amount" in fields:
        doc["amount"] = money_text(plan.amount, currency)
    if "waive" in fields:
        doc["waive"] = {c.value: format(share, "f") for c, share in plan.waive}
    return doc


def amounts_document(amounts: ByComponent, currency: str) -> dict[str, str]:
    return {component.value: money_text(value, currency) for component, value in amounts.items()}


def status_document(loan: Loan, state: LoanState, summary: Summary) -> dict[str, Any]:
    """The `arrears loan status --json` document."""
    cur = loan.currency
    installments = []
    for row in state.installments:
        if row.is_paid:
            status = "paid"
        elif row.due_date < summary.as_of:
            status = "overdue"
        elif row.due_date == summary.as_of:
            status = "due"
        else:
            status = "not_due"
        installments.append({
            "number": row.number,
            "due_date": row.due_date.isoformat(),
            "status": status,
            "principal": money_text(row.principal, cur),
            "interest": money_text(row.interest, cur),
            "fee": money_text(row.fee, cur),
            "paid_principal": money_text(row.paid_principal, cur),
            "paid_interest": money_text(row.paid_interest, cur),
            "paid_fee": money_text(row.paid_fee, cur),
            "unpaid_principal": money_text(row.unpaid_principal, cur),
            "unpaid_interest": money_text(row.unpaid_interest, cur),
            "unpaid_fee": money_text(row.unpaid_fee, cur),
            "penalty_accrued": sub_minor_text(row.penalty_accrued, cur),
            "penalty_paid": money_text(row.penalty_paid, cur),
            "compound_accrued": sub_minor_text(row.compound_accrued, cur),
            "compound_paid": money_text(row.compound_paid, cur),
        })
    return {
        "loan_id": loan.loan_id,
        "currency": cur,
        "as_of": summary.as_of.isoformat(),
        "dpd": summary.dpd,
        "bucket": summary.bucket.value,
        "status": summary.status.value,
        "principal_outstanding": money_text(summary.principal_outstanding, cur),
        "overdue_principal": money_text(summary.overdue_principal, cur),
        "overdue_interest": money_text(summary.overdue_interest, cur),
        "overdue_fee": money_text(summary.overdue_fee, cur),
        "due_today": money_text(summary.due_today, cur),
        "penalty_interest": money_text(summary.penalty_interest, cur),
        "compound_interest": money_text(summary.compound_interest, cur),
        "total_due": money_text(summary.total_due, cur),
        "payoff_amount": money_text(summary.payoff_amount, cur),
        "prepaid_principal": money_text(state.prepaid_principal, cur),
        "unapplied_credit": money_text(state.unapplied, cur),
        "earliest_overdue_due_date": (summary.earliest_overdue_due_date.isoformat()
                                      if summary.earliest_overdue_due_date else None),
        "first_delinquency_on": (summary.first_delinquency_on.isoformat()
                                 if summary.first_delinquency_on else None),
        "restructured": summary.restructured,
        "plans": [plan_document(plan, cur) for plan in loan.plans],
        "waived": amounts_document(state.waived, cur),
        "capitalised": amounts_document(state.capitalised, cur),
        "installments": installments,
    }
