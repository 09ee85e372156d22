"""`arrears import payments`: post a bank's, WeChat Pay's or Alipay's payment file.

Exit 0 when every row posted or was found posted already; 1 when some rows were refused (they
are in the rejects file, the others posted); 2 for a file or book that cannot be used at all.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO

import typer

from arrears.entrypoints.cli.output import console, emit_json, fail, user_errors

if TYPE_CHECKING:
    from arrears.application.handlers.payment_import import ImportReport

FORMAT_NAMES = ("generic", "wechat", "alipay")
REJECTS_COLUMNS = ("line", "key", "loan_id", "field", "reason")
SOME_ROWS_REFUSED_EXIT = 1
# A cell starting with one of these is a formula to a spreadsheet (OWASP "CSV injection"): the
# rejects file is for a clerk's Excel, and its keys and loan ids are the payment file's text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def import_payments(
    csv_file: Annotated[Path, typer.Argument(metavar="FILE.csv", help="The payment file")],
    file_format: Annotated[str, typer.Option(
        "--format", help="generic (key,loan_id,amount,paid_on[,currency]), wechat (WeChat Pay "
                         "交易账单) or alipay (支付宝 业务明细)")] = "generic",
    rejects: Annotated[Path | None, typer.Option(
        "--rejects", help="CSV of the refused rows: line, key, loan_id, field, reason "
                          "(default: FILE.rejects.csv beside the file)")] = None,
    db: Annotated[str | None, typer.Option(
        "--db", help="Database URL (default: ARREARS_DB or sqlite:///./arrears.db)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Post a payment file (对账文件) once per row key; a refused row never stops the others."""
    from arrears import bootstrap
    from arrears.adapters.db.payment_import_store import (
        SqlPaymentImportUnitOfWorkFactory,
        pricing_ahead,
    )
    from arrears.application import payment_file
    from arrears.application.handlers.payment_import import import_payments as post_file
    from arrears.config import Settings

    if file_format not in FORMAT_NAMES:
        fail("--format", f"unknown format {file_format!r} (expected {', '.join(FORMAT_NAMES)})")
    try:
        content = csv_file.read_bytes()
    except OSError as error:
        fail("FILE.csv", f"cannot read {csv_file}: {error.strerror or error}")
    layout = payment_file.FORMATS[file_format]
    with user_errors():
        text = payment_file.decode(content, layout, "FILE.csv")
    rejects_path = rejects or csv_file.with_suffix(".rejects.csv")
    if rejects_path.resolve() == csv_file.resolve():
        fail("--rejects", "must not be the payment file itself")
    with user_errors():
        built = bootstrap.build(Settings.from_env(database_url=db))
        factory = SqlPaymentImportUnitOfWorkFactory(built.engine)
        with factory() as uow:  # a book that cannot serve says so before anything is written
            closed = uow.book.closed_through()
        if closed is None:
            fail("--db", "the book has no business date yet; run `arrears init`")
    # Started before the file is parsed (its lines count its rows closely enough), the
    # pricing processes' start-up overlaps the parse.
    with pricing_ahead(factory, text.count("\n")) as ahead:
        with user_errors():
            parsed = payment_file.parse(text, layout)
        try:  # opened before posting: a path that cannot be written fails with nothing posted
            rejects_out = rejects_path.open("w", encoding="utf-8-sig", newline="")
        except OSError as error:
            fail("--rejects", f"cannot write {rejects_path}: {error.strerror or error}")
        with rejects_out, user_errors():
            with _progress(len(parsed.rows), quiet=as_json) as advance:
                report = post_file(parsed, hashlib.sha256(content).hexdigest(),
                                   uow_factory=factory, clock=built.clock,
                                   is_duplicate_key_error=bootstrap.is_duplicate_key_error,
                                   on_chunk=advance, read_ahead=ahead)
            _write_rejects(rejects_out, report)
    document = _document(report, report.open_day or closed + timedelta(days=1), csv_file,
                         rejects_path, parsed.format.name)
    if as_json:
        emit_json(document)
    else:
        _print_summary(document)
    if report.rejected:
        raise typer.Exit(SOME_ROWS_REFUSED_EXIT)


@contextmanager
def _progress(total: int, *, quiet: bool) -> Iterator[Callable[[int], None]]:
    """A progress bar of rows settled (none with --json); yields what advances it."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(TextColumn("posting"), BarColumn(), MofNCompleteColumn(), console=console(),
                  transient=True, disable=quiet) as progress:
        task = progress.add_task("posting", total=total)
        yield lambda rows: progress.advance(task, rows)


def _write_rejects(out: TextIO, report: ImportReport) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(REJECTS_COLUMNS)
    writer.writerows((r.line, _as_text(r.key), _as_text(r.loan_ref), r.field, r.reason)
                     for r in report.rejected)


def _as_text(cell: str) -> str:
    return f"'{cell}" if cell.startswith(FORMULA_STARTS) else cell


def _document(report: ImportReport, open_day: date, source: Path, rejects: Path,
              name: str) -> dict[str, Any]:
    from arrears.application.loan_file import money_text

    return {
        "format": name, "file": str(source), "rejects_file": str(rejects),
        "open_business_date": open_day.isoformat(),
        "rows": report.rows, "posted": len(report.posted),
        "already_posted": len(report.already_posted), "rejected": len(report.rejected),
        "posted_rows": [{"line": r.line, "key": r.key, "loan_id": r.loan_ref,
                         "amount": money_text(r.amount, r.currency), "currency": r.currency,
                         "paid_on": r.on.isoformat(), "restated": r.restated}
                        for r in report.posted],
        "already_posted_rows": [{"line": r.line, "key": r.key, "loan_id": r.loan_ref}
                                for r in report.already_posted],
        "rejected_rows": [{"line": r.line, "key": r.key, "loan_id": r.loan_ref,
                           "field": r.field, "reason": r.reason} for r in report.rejected],
    }


def _print_summary(document: dict[str, Any]) -> None:
    restated = sum(row["restated"] for row in document["posted_rows"])
    out = console()
    out.print(f"{document['file']}: {document['rows']:,} rows — posted {document['posted']:,}"
              f" ({restated:,} back-dated, restated as of {document['open_business_date']}), "
              f"already posted {document['already_posted']:,}, refused "
              f"{document['rejected']:,}", soft_wrap=True, markup=False, highlight=False)
    for row in document["rejected_rows"][:10]:
        out.print(f"  line {row['line']}: {row['field']}: {row['reason']}", soft_wrap=True,
                  markup=False, highlight=False)
    if document["rejected"]:
        out.print(f"refused rows are in {document['rejects_file']}", soft_wrap=True,
                  markup=False, highlight=False)
