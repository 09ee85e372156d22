"""Calculators over the loan domain that need no book: `arrears schedule`, `arrears apr` and
`arrears loan status LOAN.json`."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from arrears.application import loan_file
from arrears.domain.apr import MAX_FLOW, Annualisation, apr_of, exceeds_cap
from arrears.domain.loan import state_on, summarize
from arrears.domain.money import minor_digits, parse_decimal
from arrears.domain.product import (
    DEFAULT_APR_CAPS,
    MAX_TERMS,
    InterestBasis,
    Method,
    Product,
    validate_product,
)
from arrears.domain.rates import DayCount
from arrears.domain.schedule import build_schedule
from arrears.entrypoints.cli.output import console, emit_json, fail, read_json_file, user_errors
from arrears.entrypoints.cli.tables import Column, WideFlag, print_table

# What an 80-column terminal shows first: the due dates and what is owed on them.
SCHEDULE_KEYS = ("number", "due_date", "principal", "interest", "fee", "payment",
                 "balance_after")
SCHEDULE_COLUMNS = (Column("number"), Column("due date"), Column("principal", 2),
                    Column("interest", 2), Column("fee", 3), Column("payment", 1),
                    Column("balance after", 2))
INSTALLMENT_KEYS = ("number", "due_date", "status", "principal", "interest", "fee",
                    "unpaid_principal", "unpaid_interest", "penalty_accrued", "compound_accrued")
INSTALLMENT_COLUMNS = (Column("number"), Column("due date"), Column("status"),
                       Column("principal", 4), Column("interest", 4), Column("fee", 5),
                       Column("unpaid principal", 1), Column("unpaid interest", 1),
                       Column("penalty accrued", 2), Column("compound accrued", 3))

JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
# An annual rate cap, as a fraction: 100 is 10,000 % a year, past any law's ceiling.
MAX_CAP = Decimal(100)


def _as_of(text: str) -> date:
    with user_errors():
        return loan_file.parse_date(text, "--as-of")


def schedule(
    principal: Annotated[str, typer.Option(help="Amount lent, e.g. 10000.00")],
    annual_rate: Annotated[str, typer.Option(help="Annual contract rate, e.g. 0.18")],
    terms: Annotated[int, typer.Option(help="Number of monthly installments")],
    method: Annotated[str, typer.Option(help="equal_installment, equal_principal, "
                                             "interest_only, bullet or flat_fee")],
    start: Annotated[str, typer.Option(help="Disbursement date (YYYY-MM-DD)")],
    day_count: Annotated[str, typer.Option(help="ACT/360, ACT/365F or 30/360")] = "ACT/360",
    interest_basis: Annotated[str, typer.Option(help="period or daily")] = "period",
    monthly_fee_rate: Annotated[str, typer.Option(help="flat_fee plans: fee per month")] = "0",
    currency: Annotated[str, typer.Option(help="ISO 4217 code")] = "CNY",
    as_json: JsonFlag = False,
    wide: WideFlag = False,
) -> None:
    """Print the repayment schedule of a loan."""
    with user_errors():
        minor_digits(currency)
        disbursed_on = loan_file.parse_date(start, "--start")
        product = validate_product(Product(
            method=loan_file.parse_enum(Method, method, "--method"),
            interest_basis=loan_file.parse_enum(InterestBasis, interest_basis, "--interest-basis"),
            annual_rate=parse_decimal(annual_rate, "--annual-rate"),
            day_count=DayCount.parse(day_count, "--day-count"),
            monthly_fee_rate=parse_decimal(monthly_fee_rate, "--monthly-fee-rate"),
        ))
        units = loan_file.parse_amount(principal, currency, "--principal")
        rows = build_schedule(units, product, disbursed_on, terms)
    document = loan_file.schedule_document(rows, currency)
    if as_json:
        emit_json({"currency": currency, "installments": document})
        return
    print_table(SCHEDULE_COLUMNS, [[str(row[key]) for key in SCHEDULE_KEYS] for row in document],
                wide=wide, title=f"Schedule: {principal} {currency}, {method}, {terms} terms")


def loan_status(
    loan_json: Annotated[Path, typer.Argument(metavar="LOAN.json", help="Loan, product, payments")],
    as_of: Annotated[str, typer.Option("--as-of", help="Business date (YYYY-MM-DD)")],
    as_json: JsonFlag = False,
    wide: WideFlag = False,
) -> None:
    """The loan's state at the end of a business date: DPD, bucket, amounts, installments."""
    document = read_json_file(loan_json, "LOAN.json")
    day = _as_of(as_of)
    with user_errors():
        loan, payments = loan_file.parse_loan_document(document)
        state = state_on(loan, payments, day)
        summary = summarize(loan, state)
    report = loan_file.status_document(loan, state, summary)
    if as_json:
        emit_json(report)
        return
    out = console()
    table = Table(title=f"{loan.loan_id} as of {report['as_of']}", show_header=False)
    for key in ("status", "dpd", "bucket", "principal_outstanding", "overdue_principal",
                "overdue_interest", "overdue_fee", "due_today", "penalty_interest",
                "compound_interest", "total_due", "payoff_amount", "unapplied_credit"):
        table.add_row(key, str(report[key]))
    out.print(table)
    print_table(INSTALLMENT_COLUMNS,
                [[str(row[key]) for key in INSTALLMENT_KEYS] for row in report["installments"]],
                wide=wide, out=out, title="Installments")


def _cash_flow_file(path: Path) -> list[Decimal]:
    document = read_json_file(path, "--cashflows")
    flows = document.get("cashflows") if isinstance(document, dict) else document
    if not isinstance(flows, list) or not flows:
        fail("--cashflows", "must be a JSON list of amounts, or {\"cashflows\": [...]}")
    parsed = []
    for index, flow in enumerate(flows):
        if not isinstance(flow, str | int) or isinstance(flow, bool):
            fail(f"cashflows[{index}]", "must be a decimal string such as \"-12000.00\"")
        parsed.append(parse_decimal(flow, f"cashflows[{index}]"))
    return parsed


def apr(
    principal: Annotated[str | None, typer.Option(help="Amount received")] = None,
    payment: Annotated[str | None, typer.Option(help="Level monthly payment")] = None,
    terms: Annotated[int | None, typer.Option(help="Number of monthly payments")] = None,
    cashflows: Annotated[Path | None, typer.Option(
        help="JSON list of monthly flows, period 0 first (negative = money lent)")] = None,
    cap: Annotated[str | None, typer.Option(help="Cap to check, e.g. 0.24")] = None,
    jurisdiction: Annotated[str, typer.Option(help="Cap by jurisdiction when --cap is absent")]
    = "CN",
    basis: Annotated[str, typer.Option(help="nominal or effective, for the cap check")]
    = "nominal",
    as_json: JsonFlag = False,
) -> None:
    """The true annual rate (IRR) of a loan's cash flows, and whether it exceeds a cap."""
    with user_errors():
        if cashflows is not None:
            flows = _cash_flow_file(cashflows)
        else:
            if principal is None or payment is None or terms is None:
                fail("--principal", "give --principal, --payment and --terms, or --cashflows")
            if not 1 <= terms <= MAX_TERMS:
                fail("--terms", f"must be from 1 to {MAX_TERMS} (got {terms})")
            lent = parse_decimal(principal, "--principal")
            level = parse_decimal(payment, "--payment")
            for name, value in (("--principal", lent), ("--payment", level)):
                if not 0 < value <= MAX_FLOW:
                    fail(name, f"must be positive and at most {MAX_FLOW:,} (got {value})")
            flows = [-lent] + [level] * terms
        annualisation = loan_file.parse_enum(Annualisation, basis, "--basis")
        if cap is not None:
            limit, cap_name = parse_decimal(cap, "--cap"), "--cap"
            if not 0 <= limit <= MAX_CAP:
                fail("--cap", f"must be from 0 to {MAX_CAP} (got {limit})")
        elif jurisdiction in DEFAULT_APR_CAPS:
            limit, cap_name = DEFAULT_APR_CAPS[jurisdiction], f"{jurisdiction} cost cap"
        else:
            fail("--jurisdiction", f"no cost cap known for {jurisdiction!r}")
        result = apr_of(flows)
    document: dict[str, Any] = {
        "monthly_irr": f"{result.monthly_irr:.8f}",
        "apr_nominal": f"{result.apr_nominal:.6f}",
        "apr_effective": f"{result.apr_effective:.6f}",
        "cap": {"name": cap_name, "rate": str(limit), "basis": annualisation.value,
                "exceeded": exceeds_cap(result, limit, annualisation)},
    }
    if as_json:
        emit_json(document)
        return
    out = console()
    out.print(f"monthly IRR    {result.monthly_irr:.4%}")
    out.print(f"APR nominal    {result.apr_nominal:.2%}  (monthly IRR × 12)")
    out.print(f"APR effective  {result.apr_effective:.2%}  ((1 + monthly IRR)^12 − 1)")
    verdict = "EXCEEDS" if document["cap"]["exceeded"] else "within"
    out.print(f"{verdict} the {cap_name} of {limit:.2%} ({annualisation.value})")
