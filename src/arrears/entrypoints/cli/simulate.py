"""`arrears simulate`: a strategy and a challenger over the same synthetic overdue book, with
the borrower-response model as data and the compliance engine deciding every contact
(`application.simulation`), compared over seeded runs with 95 % confidence intervals."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from arrears.entrypoints.cli.output import console, emit_json, fail, user_errors

if TYPE_CHECKING:
    from arrears.application.strategy import Strategy

JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
MAX_LOANS = 100_000
MAX_DAYS = 365
MAX_RUNS = 100
MAX_LOAN_DAYS = 20_000_000
"""Loans × days × runs: past this a run takes hours, which is more likely a typo."""
ROWS = (("recovered", "recovered"), ("cost", "cost"),
        ("cost_per_yuan_recovered", "cost per yuan recovered"), ("contacts", "contacts made"),
        ("contacts_blocked", "contacts blocked"),
        ("expected_complaints", "expected complaints"), ("promises_made", "promises made"),
        ("promises_kept", "promises kept"), ("agency_placements", "agency placements"),
        ("loans_paid", "loans paid"), ("loans_written_off", "loans written off"))


def _strategy(path: Path, option: str) -> Strategy:
    from arrears.application.strategy import StrategyError, load_strategy_file

    try:
        return load_strategy_file(path)
    except StrategyError as error:
        fail(option, f"{error.field}: {error.reason}")


def simulate(
    strategy: Annotated[Path, typer.Option("--strategy", help="Strategy file (TOML)")],
    challenger: Annotated[Path, typer.Option("--challenger", help="Challenger strategy file")],
    loans: Annotated[int, typer.Option(help=f"Loans in the synthetic book, 1 to {MAX_LOANS:,}")]
    = 1_000,
    days: Annotated[int, typer.Option(help=f"Days to simulate, 1 to {MAX_DAYS}")] = 60,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same figures)")] = 7,
    runs: Annotated[int, typer.Option(help=f"Seeded runs, 1 to {MAX_RUNS}")] = 5,
    model: Annotated[Path | None, typer.Option(
        help="Borrower-response model (TOML; default: the shipped model)")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Compare two collection strategies on the same synthetic book."""
    from arrears.application import loan_file
    from arrears.application.borrower_response import load_model_file, shipped_model
    from arrears.application.simulation import simulate as run_both
    from arrears.compliance import packs
    from arrears.entrypoints.cli.output import read_json_file

    for option, value, most in (("--loans", loans, MAX_LOANS), ("--days", days, MAX_DAYS),
                                ("--runs", runs, MAX_RUNS)):
        if not 1 <= value <= most:
            fail(option, f"must be from 1 to {most:,} (got {value})")
    if loans * days * runs > MAX_LOAN_DAYS:
        fail("--loans", f"--loans × --days × --runs is {loans * days * runs:,}, past "
                        f"{MAX_LOAN_DAYS:,}; simulate fewer")
    first = _strategy(strategy, "--strategy")
    second = _strategy(challenger, "--challenger")
    if first.product != second.product:
        fail("--challenger", f"is for {second.product} but --strategy is for {first.product}; "
                             "compare strategies of one product")
    products = read_json_file(resources.files("arrears") / "default_products.json", "products")
    if first.product not in products:
        fail("--strategy", f"names product {first.product!r}; the shipped products are "
                           f"{', '.join(sorted(products))}")
    with user_errors():
        product = loan_file.parse_product(products[first.product])
        response = shipped_model() if model is None else load_model_file(model)
    document = run_both(first, second, model=response,
                        pack=packs.get(product.jurisdiction.lower()),
                        reminder_days=product.reminders.days, loans=loans, days=days,
                        seed=seed, runs=runs)
    document["strategy"]["file"] = str(strategy)
    document["challenger"]["file"] = str(challenger)
    if as_json:
        emit_json(document)
        return
    _print(document)


def _cell(figures: dict[str, Any]) -> str:
    """The mean ± the half-width of its confidence interval."""
    from decimal import Decimal

    interval = figures["ci95"]
    if interval is None:
        return str(figures["mean"])
    mean, low, high = (Decimal(v) for v in (figures["mean"], *interval))
    return f"{mean} ± {((high - low) / 2).quantize(mean)}"


def _print(document: dict[str, Any]) -> None:
    from rich import box
    from rich.table import Table

    out = console()
    first, second = document["strategy"], document["challenger"]
    table = Table(title=f"{document['loans']:,} loans, {document['days']} days from "
                        f"{document['start']}, {document['runs']} runs (seed "
                        f"{document['seed']}): mean ± 95 % confidence",
                  box=box.SIMPLE_HEAD)
    table.add_column("")
    for name in (first["name"], second["name"], "difference"):
        table.add_column(name, justify="right")
    for key, label in ROWS:
        table.add_row(label, _cell(first[key]), _cell(second[key]),
                      _cell(document["difference"][key]))
    out.print(table)
    rules = sorted({*first["blocked_by_rule"], *second["blocked_by_rule"]})
    if rules:
        blocked = Table(title="Contacts blocked by rule (mean per run)", box=box.SIMPLE_HEAD)
        blocked.add_column("rule")
        blocked.add_column(first["name"], justify="right")
        blocked.add_column(second["name"], justify="right")
        for rule in rules:
            blocked.add_row(rule, first["blocked_by_rule"].get(rule, "0.00"),
                            second["blocked_by_rule"].get(rule, "0.00"))
        out.print(blocked)
