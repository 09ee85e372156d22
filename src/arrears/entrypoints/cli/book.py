"""Operator commands over the loan book: init, import, pay, eod, loan list and show,
report, demo."""

from __future__ import annotations

import shlex
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import date, timedelta
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from arrears import bootstrap
from arrears.adapters.channels.config import ChannelSettings, build_channels
from arrears.adapters.channels.local import JsonLinesChannel
from arrears.adapters.channels.render import JinjaRenderer
from arrears.adapters.db.columns import SqlColumnStore
from arrears.adapters.db.engine import masked
from arrears.adapters.db.history_store import SqlSeasoningUnitOfWorkFactory
from arrears.adapters.db.payment_import_store import SqlPaymentImportUnitOfWorkFactory
from arrears.adapters.db.read_ahead import planners
from arrears.application import collections_demo, loan_file, queries
from arrears.application import demo as demo_book
from arrears.application.handlers import eod, payments, plans, servicing
from arrears.application.loan_import import ImportRejected
from arrears.application.ports import InProcess
from arrears.batch.executor import BATCH_LOANS, POSTGRES_WORKERS, vectorised_closer
from arrears.compliance import packs
from arrears.config import Settings
from arrears.domain.delinquency import ACTIVE_STATUSES, check_write_off_dpd
from arrears.domain.errors import DomainError
from arrears.domain.loan import summarize
from arrears.entrypoints.cli.output import (
    USER_ERROR_EXIT,
    console,
    emit_json,
    fail,
    read_json_file,
    read_text_file,
    user_errors,
)
from arrears.entrypoints.cli.tables import Column, WideFlag, print_table

DEFAULT_PRODUCTS = resources.files("arrears") / "default_products.json"
DEFAULT_PLAN_POLICIES = resources.files("arrears") / "default_plan_policies.json"

DbOption = Annotated[str | None, typer.Option("--db", help="Database URL (default: ARREARS_DB "
                                                             "or sqlite:///./arrears.db)")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
LOAN_LIST_COLUMNS = (Column("loan", justify="left"), Column("borrower", 3, "left"),
                     Column("product", 2, "left"), Column("status", 1, "left"),
                     Column("bucket", 1, "left"), Column("DPD"), Column("principal", 1),
                     Column("total due"))


def services(db: str | None) -> bootstrap.Services:
    with user_errors():
        built = bootstrap.build(Settings.from_env(database_url=db))
    return built


def _date(text: str, field: str) -> date:
    with user_errors():
        return loan_file.parse_date(text, field)


def _products(path: Path | None) -> dict[str, Any]:
    document = read_json_file(path or DEFAULT_PRODUCTS, "--products")
    if not isinstance(document, dict):
        fail("--products", "must be a JSON object mapping product codes to definitions")
    return document


@contextmanager
def _progress(total: int, label: str, quiet: bool) -> Iterator[Progress]:
    progress = Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=console(), transient=True, disable=quiet)
    with progress:
        progress.add_task(label, total=total)
        yield progress


def init(
    business_date: Annotated[str, typer.Option(help="First open business date (YYYY-MM-DD)")],
    products: Annotated[Path | None, typer.Option(
        help="JSON mapping product codes to definitions (default: the two shipped products)")]
    = None,
    plan_policies: Annotated[Path | None, typer.Option(
        help="JSON mapping product codes to hardship-plan policies (default: the shipped "
             "policies of the book's shipped products)")] = None,
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Create or upgrade the schema, open the book, and add products and their plan
    policies (on an open book, --business-date must be the date it is open at)."""
    day = _date(business_date, "--business-date")
    built = services(db)
    built.migrate()
    with user_errors():
        try:
            open_day = servicing.init_book(day, _products(products),
                                           uow_factory=built.uow_factory)
        except servicing.BookAlreadyOpen as error:
            fail("--business-date", error.reason)
    policies = read_json_file(plan_policies or DEFAULT_PLAN_POLICIES, "--plan-policies")
    if not isinstance(policies, dict):
        fail("--plan-policies", "must be a JSON object mapping product codes to policies")
    if plan_policies is None:
        with built.uow_factory() as uow:
            known = uow.book.products()
        policies = {code: policy for code, policy in policies.items() if code in known}
    with user_errors():
        plans.set_policies(policies, uow_factory=built.uow_factory)
    document = {"open_business_date": open_day.isoformat(),
                "database": built.engine.url.render_as_string(hide_password=True)}
    emit_json(document) if as_json else console().print(
        f"book open on {document['open_business_date']} ({document['database']})")


def import_loans(
    csv_file: Annotated[Path, typer.Argument(metavar="FILE.csv")],
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Import loans and borrowers from CSV: all of them, or none if any row is bad."""
    text = read_text_file(csv_file, "FILE.csv", encoding="utf-8-sig")
    built = services(db)
    try:
        report = servicing.import_loans_csv(text, uow_factory=built.uow_factory,
                                            clock=built.clock)
    except ImportRejected as rejected:
        if as_json:
            emit_json({"imported": 0, "errors": [
                {"line": e.line, "field": e.field, "reason": e.reason} for e in rejected.errors]})
        else:
            for error in rejected.errors:
                typer.echo(f"error: {error}", err=True)
        raise typer.Exit(USER_ERROR_EXIT) from None
    except DomainError as error:
        fail(error.field, error.reason)
    document = {"imported": report.loans, "new_borrowers": report.borrowers}
    emit_json(document) if as_json else console().print(
        f"imported {report.loans} loans ({report.borrowers} new borrowers)")


def _currency(loan_ref: str, built: bootstrap.Services) -> str:
    with built.uow_factory() as uow:
        booked = uow.book.get(loan_ref)
    if booked is None:
        fail("LOAN_ID", f"no loan {loan_ref!r}")
    return booked.loan.currency


def _payment_document(result: payments.PaymentResult, currency: str) -> dict[str, Any]:
    applied = result.applied
    document: dict[str, Any] = {"payment_id": result.payment_id, "loan_id": result.loan_id,
                                "duplicate": result.duplicate}
    if applied is not None:
        document.update({f"to_{part}": loan_file.money_text(getattr(applied, f"to_{part}"),
                                                            currency)
                         for part in ("fee", "penalty", "compound", "interest", "principal",
                                      "credit")})
    return document


def pay(
    loan_id: Annotated[str, typer.Argument(metavar="LOAN_ID")],
    amount: Annotated[str, typer.Argument(metavar="AMOUNT", help="e.g. 916.80")],
    on: Annotated[str, typer.Option("--on", help="Value date (YYYY-MM-DD)")],
    key: Annotated[str, typer.Option("--key", help="Idempotency key from the payment channel")],
    prepayment: Annotated[bool, typer.Option(
        "--prepayment", help="What is left after everything due reduces future principal")]
    = False,
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Post a payment once per key (a retried callback posts nothing new)."""
    built = services(db)
    currency = _currency(loan_id, built)
    day = _date(on, "--on")
    with user_errors():
        units = loan_file.parse_amount(amount, currency, "AMOUNT")
        result = payments.post_payment(loan_id, units, day, key, uow_factory=built.uow_factory,
                                       clock=built.clock,
                                       is_duplicate_key_error=bootstrap.is_duplicate_key_error,
                                       prepayment=prepayment)
    document = _payment_document(result, currency)
    emit_json(document) if as_json else console().print(document)


def reverse(
    key: Annotated[str, typer.Argument(metavar="KEY", help="Key of the payment to reverse")],
    reversal_key: Annotated[str, typer.Option("--key", help="Idempotency key of the reversal")],
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Reverse a payment (a new negative posting; the loan is restated without it)."""
    built = services(db)
    with user_errors():
        result = payments.reverse_payment(key, reversal_key, uow_factory=built.uow_factory,
                                          clock=built.clock)
    document = _payment_document(result, _currency(result.loan_id, built)
                                 if result.loan_id else "CNY")
    emit_json(document) if as_json else console().print(document)


def payoff(
    loan_id: Annotated[str, typer.Argument(metavar="LOAN_ID")],
    key: Annotated[str, typer.Option("--key", help="Idempotency key of the payment")],
    quote_only: Annotated[bool, typer.Option("--quote", help="Only print the quote")] = False,
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Settle a loan (提前结清) on the open business date with its payoff quote."""
    built = services(db)
    with built.uow_factory() as uow:
        booked = uow.book.get(loan_id)
        closed = uow.book.closed_through()
    if booked is None or closed is None:
        fail("LOAN_ID", f"no loan {loan_id!r}")
    summary = summarize(booked.loan, eod.current_state(booked, closed))
    open_day = closed + timedelta(days=1)
    document: dict[str, Any] = {
        "loan_id": loan_id, "on": open_day.isoformat(),
        "payoff_amount": loan_file.money_text(summary.payoff_amount, booked.loan.currency)}
    if not quote_only and summary.payoff_amount > 0:
        with user_errors():
            result = payments.post_payment(
                loan_id, summary.payoff_amount, open_day, key, uow_factory=built.uow_factory,
                clock=built.clock, is_duplicate_key_error=bootstrap.is_duplicate_key_error)
        document["payment"] = _payment_document(result, booked.loan.currency)
    emit_json(document) if as_json else console().print(document)


ENGINES = ("scalar", "vectorised", "spark")
# Closed dates cannot be reopened. A year (a leap year's 366 dates) is the longest catch-up an
# operator plausibly means; a longer run is more likely a mistyped year, so it needs --yes.
EOD_DATES_WITHOUT_YES = 366
SPARK_WORKDIR = Path(tempfile.gettempdir()) / "arrears-spark"


@contextmanager
def eod_engine(name: str, built: bootstrap.Services, write_off_dpd: int, master: str
               ) -> Iterator[tuple[eod.BatchCloser | None, int]]:
    """(the batch closer, the batch size) for an `--engine` name, for the length of a run."""
    if name == "scalar":
        yield None, eod.BATCH_SIZE
    elif name == "vectorised":
        yield vectorised_closer(SqlColumnStore(), write_off_dpd=write_off_dpd,
                                clock=built.clock), BATCH_LOANS
    elif name == "spark":
        from arrears.batch.spark import (  # pyspark is an optional extra
            SPARK_BATCH_LOANS,
            SparkKernel,
        )

        kernel = SparkKernel(master=master, workdir=SPARK_WORKDIR)
        try:
            yield vectorised_closer(SqlColumnStore(), write_off_dpd=write_off_dpd,
                                    clock=built.clock, kernel=kernel), SPARK_BATCH_LOANS
        finally:
            kernel.stop()
    else:
        fail("--engine", f"unknown engine {name!r} (expected {', '.join(ENGINES)})")


def eod_workers(built: bootstrap.Services) -> int:
    """Batches closed at once: several on PostgreSQL, one on SQLite (one writer)."""
    return POSTGRES_WORKERS if built.engine.dialect.name == "postgresql" else 1


def run_eod(
    through: Annotated[str, typer.Option("--through", help="Close every open date through this")],
    engine: Annotated[str, typer.Option(
        help="scalar, vectorised (the NumPy kernel) or spark (the kernel on Spark)")]
    = "scalar",
    master: Annotated[str, typer.Option(help="Spark master URL, with --engine spark")]
    = "local[2]",
    write_off_dpd: Annotated[int | None, typer.Option(
        help="Write off at this DPD, 1 to 3650 (default ARREARS_WRITE_OFF_DPD or 180)")]
    = None,
    yes: Annotated[bool, typer.Option(
        "--yes", help=f"Allow closing more than {EOD_DATES_WITHOUT_YES} dates in one run")]
    = False,
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Run end-of-day for each open business date through --through, in order."""
    last = _date(through, "--through")
    if write_off_dpd is not None:
        with user_errors():
            check_write_off_dpd(write_off_dpd, "--write-off-dpd")
    built = services(db)
    dpd = built.settings.write_off_dpd if write_off_dpd is None else write_off_dpd
    with built.uow_factory() as uow:
        closed = uow.book.closed_through()
    if closed is None:
        fail("--through", "the book has no business date; run `arrears init`")
    total = max(0, (last - closed).days)
    if total > EOD_DATES_WITHOUT_YES and not yes:
        fail("--through", f"would close {total:,} business dates ({closed + timedelta(days=1)} "
                          f"to {last}), which cannot be undone; pass --yes to close more than "
                          f"{EOD_DATES_WITHOUT_YES} in one run")
    with eod_engine(engine, built, dpd, master) as (closer, batch_size), \
            _progress(total, "end of day", as_json) as progress, user_errors():
        reports = eod.run_eod_through(
            last, uow_factory=built.uow_factory, clock=built.clock, write_off_dpd=dpd,
            on_day=lambda _: progress.advance(progress.task_ids[0]), engine=engine,
            close_batch=closer, batch_size=batch_size, workers=eod_workers(built))
    document = {"through": last.isoformat(), "days": [
        {"business_date": r.business_date.isoformat(), "loans_processed": r.loans_processed,
         "loans_failed": r.loans_failed, "already_completed": r.already_completed}
        for r in reports]}
    if as_json:
        emit_json(document)
        return
    console().print(f"closed {len(reports)} business dates through {last}; "
                    f"{sum(r.loans_failed for r in reports)} loans set aside")


def loan_show(
    loan_id: Annotated[str, typer.Argument(metavar="LOAN_ID")],
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """A booked loan at the closed business date: figures, installments, payments."""
    built = services(db)
    with user_errors():
        document = queries.loan_document(loan_id, uow_factory=built.uow_factory)
    if as_json:
        emit_json(document)
        return
    table = Table(title=f"{loan_id} as of {document['as_of']}", show_header=False)
    for key in ("status", "dpd", "bucket", "product", "principal_outstanding", "total_due",
                "penalty_interest", "compound_interest", "payoff_amount"):
        table.add_row(key, str(document[key]))
    table.add_row("borrower", f"{document['borrower']['name']} "
                              f"{document['borrower']['national_id']}")
    console().print(table)


def loan_list(
    status: Annotated[str | None, typer.Option(
        help="current, overdue, settled or written_off")] = None,
    bucket: Annotated[str | None, typer.Option(help="C, M1 … M6 or M7+")] = None,
    product: Annotated[str | None, typer.Option(help="Product code, e.g. WLD-DAILY")] = None,
    borrower: Annotated[str | None, typer.Option(help="Borrower id, e.g. B-1001")] = None,
    limit: Annotated[int, typer.Option(
        help=f"At most this many loans, 1 to {queries.MAX_LIST_LIMIT:,}")]
    = queries.DEFAULT_LIST_LIMIT,
    db: DbOption = None,
    as_json: JsonFlag = False,
    wide: WideFlag = False,
) -> None:
    """Loans in the book, most days past due first (then by loan id): find one to show."""
    built = services(db)
    with user_errors():
        try:
            document = queries.loan_list_document(
                status=status, bucket=bucket, product=product, borrower=borrower, limit=limit,
                uow_factory=built.uow_factory)
        except queries.FilterRejected as error:
            fail(f"--{error.field}", error.reason)
    if as_json:
        emit_json(document)
        return
    out = console()
    if not document["loans"]:
        out.print(f"no loans match (as of {document['as_of']})")
        return
    # No vertical rules, so that the eight columns fit an 80-column terminal more often.
    print_table(LOAN_LIST_COLUMNS, [[str(loan[key]) for key in (
        "loan_id", "borrower_id", "product", "status", "bucket", "dpd", "principal_outstanding",
        "total_due")] for loan in document["loans"]], wide=wide, out=out,
        title=f"Loans as of {document['as_of']}", box=box.SIMPLE_HEAD, show_edge=False,
        pad_edge=False)
    if document["more"]:
        out.print(f"more loans match than the {document['limit']} shown: narrow the filters "
                  "or raise --limit")
    out.print("look at one with `arrears loan show LOAN_ID`")


def _portfolio_table(document: dict[str, Any], title: str) -> Table:
    table = Table(title=title)
    for column in ("bucket", "loans", "principal"):
        table.add_column(column, justify="right")
    for name, figures in document["buckets"].items():
        table.add_row(name, str(figures["loans"]), figures["principal"])
    table.add_row("active", str(document["active"]["loans"]), document["active"]["principal"])
    for status, figures in document["by_status"].items():
        if status not in ACTIVE_STATUSES:
            table.add_row(status, str(figures["loans"]), figures["principal"])
    return table


def portfolio(
    as_of: Annotated[str | None, typer.Option("--as-of", help="The closed business date")]
    = None,
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Loans and principal by bucket, the roll from yesterday, and totals."""
    built = services(db)
    day = _date(as_of, "--as-of") if as_of else None
    with user_errors():
        document = queries.portfolio_document(day, uow_factory=built.uow_factory)
    if as_json:
        emit_json(document)
        return
    out = console()
    out.print(_portfolio_table(document, f"Portfolio as of {document['as_of']}"))
    plans_held = document["restructured"]
    kinds = ", ".join(f"{kind} {count}" for kind, count in plans_held["by_kind"].items())
    out.print(f"restructured: {plans_held['loans']} loans{f' ({kinds})' if kinds else ''}; "
              f"waived {plans_held['waived']}")
    for move in document["roll_from_yesterday"]:
        out.print(f"  {move['from']} → {move['to']}: {move['loans']}")


# A demo book is planned in memory before it runs: ten million loans is past any benchmark
# here, and ten years of business dates past any roll-rate question.
MAX_DEMO_LOANS = 10_000_000
MAX_DEMO_DAYS = 3650
MAX_SEASON_MONTHS = 120


def demo(
    loans: Annotated[int, typer.Option(help="Number of synthetic loans")] = 10_000,
    days: Annotated[int, typer.Option(help="Business dates to simulate")] = 120,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same book)")] = 7,
    start: Annotated[str, typer.Option(help="First business date")] = "2026-01-01",
    db: Annotated[str, typer.Option("--db", help="Database URL; the demo starts it afresh")]
    = "sqlite:///./arrears-demo.db",
    collections: Annotated[bool, typer.Option(
        help="Also run reminders, strategies, cases, agencies and the worker each day")] = True,
    sinks: Annotated[Path, typer.Option(help="Folder the demo's messages and letters go to")]
    = Path("arrears-demo-sinks"),
    engine: Annotated[str, typer.Option(
        help="EOD engine: scalar, vectorised or spark (on local[2])")] = "vectorised",
    season_months: Annotated[int, typer.Option(
        help="Months of vintages disbursed before the start, boarded with their history "
             "(0: every loan is disbursed in the run)")] = demo_book.SEASON_MONTHS,
    as_json: JsonFlag = False,
) -> None:
    """Simulate a synthetic book of cash loans and phone plans, then report on it."""
    if not 1 <= loans <= MAX_DEMO_LOANS:
        fail("--loans", f"must be from 1 to {MAX_DEMO_LOANS:,} (got {loans})")
    if not 1 <= days <= MAX_DEMO_DAYS:
        fail("--days", f"must be from 1 to {MAX_DEMO_DAYS} (got {days})")
    if not 0 <= season_months <= MAX_SEASON_MONTHS:
        fail("--season-months", f"must be from 0 to {MAX_SEASON_MONTHS} (got {season_months})")
    first = _date(start, "--start")
    built = services(db)
    if engine not in ENGINES:
        fail("--engine", f"unknown engine {engine!r} (expected {', '.join(ENGINES)})")
    with _progress(days, "{task.description}", as_json) as progress:
        task = progress.task_ids[0]
        progress.update(task, description="starting")  # then each phase names itself
        document = run_demo(
            built, loans=loans, days=days, seed=seed, first=first, collections=collections,
            sinks=sinks, engine=engine, season_months=season_months,
            on_phase=lambda name: progress.update(task, description=name),
            on_day=lambda: progress.advance(task))
    if as_json:
        emit_json(document)
        return
    out = console()
    out.print(_portfolio_table(document, f"Demo book as of {document['as_of']} "
                                         f"({loans} loans, seed {seed})"))
    rates = Table(title="Roll rates over the run")
    rates.add_column("roll")
    rates.add_column("rate", justify="right")
    for name, rate in document["roll_rates"].items():
        rates.add_row(name, f"{Decimal(rate):.2%}")
    out.print(rates)
    money = Table(title="Money over the run", show_header=False)
    for key, value in document["income"].items():
        money.add_row(key, value)
    money.add_row("payments_posted", str(document["payments_posted"]))
    out.print(money)
    out.print(_plans_table(document))
    if collections:
        out.print(_collections_table(document))
        out.print(_blocked_table(document["blocked_by_rule"]))
    worst = queries.loan_list_document(status="overdue", limit=1,
                                       uow_factory=built.uow_factory)["loans"]
    _explore_hint(out, masked(db), sinks if collections else None,
                  worst[0]["loan_id"] if worst else "LOAN_ID")


def run_demo(built: bootstrap.Services, *, loans: int, days: int, seed: int, first: date,
             collections: bool, sinks: Path, engine: str, season_months: int,
             on_phase: Callable[[str], None] = lambda _: None,
             on_day: Callable[[], None] = lambda: None) -> dict[str, Any]:
    """The demo on a fresh book (`demo`'s options checked): its summary document. `on_phase`
    is told each phase as it begins (`demo.PHASES`), `on_day` each date once done."""
    built.rebuild()  # the demo always starts from an empty book
    shutil.rmtree(sinks, ignore_errors=True)
    planned = demo_book.plan_book(loans, days, first, seed, season_months)
    channels = build_channels(ChannelSettings(sink_dir=sinks), built.engine, built.clock)
    # Letters go to the print vendor's hand-off file rather than one PDF each: rendering a
    # CJK PDF costs ~0.1 s, which would dominate a 10,000-loan demo (`arrears worker` and the
    # tests exercise the PDF channel).
    channels["letter"] = JsonLinesChannel(sinks / "letter.jsonl")
    renderer = JinjaRenderer()
    floor = collections_demo.Floor(seed)
    with eod_engine(engine, built, demo_book.WRITE_OFF_DPD, "local[2]") as (
            closer, batch_size), user_errors(), \
            (planners(built.engine, built.uow_factory) if collections
             else nullcontext(InProcess(built.uow_factory))) as read_ahead:

        def after_eod(day: date) -> None:
            if collections:
                collections_demo.run_day(day, uow_factory=built.uow_factory, clock=built.clock,
                                         renderer=renderer, channels=channels, floor=floor,
                                         on_phase=on_phase, read_ahead=read_ahead)
            on_day()

        if collections:
            collections_demo.setup(uow_factory=built.uow_factory, start=first)
        result = demo_book.simulate(
            planned, first, days, _products(None), uow_factory=built.uow_factory,
            paying=SqlPaymentImportUnitOfWorkFactory(built.engine), clock=built.clock,
            write_off_dpd=demo_book.WRITE_OFF_DPD, on_day=after_eod, engine=engine,
            close_batch=closer, eod_batch_size=batch_size,
            plan_policies=read_json_file(DEFAULT_PLAN_POLICIES, "--plan-policies"),
            seasoned=SqlSeasoningUnitOfWorkFactory(built.engine), on_phase=on_phase)
    for channel in channels.values():
        channel.close()
    document = demo_summary(built, result, seed)
    if collections:
        document.update(collections_demo.summary(uow_factory=built.uow_factory, floor=floor))
    return document


def _explore_hint(out: Console, db: str, sinks: Path | None, example: str) -> None:
    """Where the demo left its book, and the commands that look into it."""
    book = f"--db {shlex.quote(db)}"
    out.print(f"\nThe book is in {db}", soft_wrap=True, markup=False, highlight=False)
    if sinks is not None:
        out.print(f"Messages and letters are in {sinks}/", soft_wrap=True, markup=False,
                  highlight=False)
    out.print("Look into it:")
    for command in (f"arrears loan list --status overdue {book}",
                    f"arrears loan show {shlex.quote(example)} {book}",
                    f"arrears report portfolio {book}",
                    *((f"arrears cases list {book}",) if sinks is not None else ())):
        out.print(f"  {command}", soft_wrap=True, markup=False, highlight=False)


def _plans_table(document: dict[str, Any]) -> Table:
    table = Table(title="Hardship plans over the run")
    for column in ("kind", "proposed", "approved", "kept", "broken"):
        table.add_column(column, justify="right")
    for kind, figures in document["plans"].items():
        table.add_row(kind, *(str(figures[key]) for key in ("proposed", "approved", "kept",
                                                            "broken")))
    rates = document["cure_rates"]
    table.caption = (f"cured: {Decimal(rates['with_plan']):.1%} of late loans with a plan, "
                     f"{Decimal(rates['without_plan']):.1%} without")
    return table


def _collections_table(document: dict[str, Any]) -> Table:
    table = Table(title="Collections over the run")
    for column in ("what", "name", "count"):
        table.add_column(column)
    for channel, statuses in sorted(document["messages_by_channel"].items()):
        for status, count in sorted(statuses.items()):
            table.add_row("messages", f"{channel} {status}", str(count))
    for what, count in document.get("manual_calls", {}).items():
        table.add_row("collectors' calls", what, str(count))
    for queue, count in sorted(document["cases_by_queue"].items()):
        table.add_row("open cases", queue, str(count))
    return table


def _blocked_table(blocked: dict[str, dict[str, int]]) -> Table:
    """Each rule that blocked something, with its id in the rules reference (CN-1, US-7 …)."""
    refs = {rule.rule_id: rule.ref for code in packs.REGISTRY
            for rule in packs.get(code).rules}
    table = Table(title="Blocked by the compliance engine")
    table.add_column("rule")
    table.add_column("ref")
    table.add_column("rescheduled", justify="right")
    table.add_column("cancelled", justify="right")
    for rule_id, outcome in blocked.items():
        table.add_row(rule_id, refs.get(rule_id, ""), str(outcome.get("rescheduled", 0)),
                      str(outcome.get("cancelled", 0)))
    return table


def demo_summary(built: bootstrap.Services, result: demo_book.DemoResult,
                 seed: int) -> dict[str, Any]:
    document = queries.portfolio_document(None, uow_factory=built.uow_factory)
    with built.uow_factory() as uow:
        moves = uow.reports.bucket_moves(result.start, result.through)
        at_start = uow.reports.buckets_on(result.start - timedelta(days=1))
    document.update({
        "seed": seed,
        "start": result.start.isoformat(),
        "payments_posted": result.payments_posted,
        "roll_rates": demo_book.roll_rates(moves, at_start),
        "plans": result.plans,
        "cure_rates": result.cure_rates,
        "income": queries.income_document(result.start, result.through,
                                          uow_factory=built.uow_factory),
    })
    return document
