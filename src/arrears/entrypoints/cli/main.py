"""The `arrears` command: calculators over the loan domain.

Every command takes `--json` and then prints one JSON document. User errors exit with code 2
and one line on stderr naming the field (DESIGN §8).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated

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
from arrears.entrypoints.cli import api as api_cli
from arrears.entrypoints.cli import book
from arrears.entrypoints.cli import borrowers as borrowers_cli
from arrears.entrypoints.cli import bureau as bureau_cli
from arrears.entrypoints.cli import collections as collections_cli
from arrears.entrypoints.cli import complaints as complaints_cli
from arrears.entrypoints.cli import compliance as compliance_cli
from arrears.entrypoints.cli import disputes as disputes_cli
from arrears.entrypoints.cli import plans as plans_cli
from arrears.entrypoints.cli import statement as statement_cli
from arrears.entrypoints.cli import trust as trust_cli
from arrears.entrypoints.cli import users as users_cli
from arrears.entrypoints.cli.output import (
    console,
    emit_json,
    fail,
    read_json_file,
    run_guarded,
    user_errors,
)

app = typer.Typer(
    name="arrears",
    help="Overdue-loan servicing and fair debt collection.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
loan_app = typer.Typer(help="Inspect a loan.", no_args_is_help=True)
app.add_typer(loan_app, name="loan")
book.register(app, loan_app)
app.add_typer(compliance_cli.app, name="compliance")
collections_cli.register(app)
borrowers_cli.register(app)
trust_cli.register(app)
api_cli.register(app)
bureau_cli.register(app)
statement_cli.register(app)
complaints_cli.register(app)
disputes_cli.register(app)
users_cli.register(app)
plans_cli.register(app)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
# An annual rate cap, as a fraction: 100 is 10,000 % a year, past any law's ceiling.
MAX_CAP = Decimal(100)


def _as_of(text: str) -> date:
    with user_errors():
        return loan_file.parse_date(text, "--as-of")


@app.command()
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
    table = Table(title=f"Schedule: {principal} {currency}, {method}, {terms} terms")
    for column in ("number", "due_date", "principal", "interest", "fee", "payment",
                   "balance_after"):
        table.add_column(column, justify="right")
    for row in document:
        table.add_row(*(str(value) for value in row.values()))
    console().print(table)


@loan_app.command("status")
def loan_status(
    loan_json: Annotated[Path, typer.Argument(metavar="LOAN.json", help="Loan, product, payments")],
    as_of: Annotated[str, typer.Option("--as-of", help="Business date (YYYY-MM-DD)")],
    as_json: JsonFlag = False,
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
                "overdue_interest", "overdue_fee", "penalty_interest", "compound_interest",
                "total_due", "payoff_amount", "unapplied_credit"):
        table.add_row(key, str(report[key]))
    out.print(table)
    detail = Table(title="Installments")
    for column in ("number", "due_date", "status", "principal", "interest", "fee",
                   "unpaid_principal", "unpaid_interest", "penalty_accrued", "compound_accrued"):
        detail.add_column(column, justify="right")
    for row in report["installments"]:
        detail.add_row(*(str(row[c]) for c in (
            "number", "due_date", "status", "principal", "interest", "fee", "unpaid_principal",
            "unpaid_interest", "penalty_accrued", "compound_accrued")))
    out.print(detail)


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


@app.command()
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
    document = {
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


def run(argv: Sequence[str] | None = None) -> None:
    """Console entry point: every error is one line on stderr (see `run_guarded`)."""
    run_guarded(typer.main.get_command(app), argv, "arrears")
