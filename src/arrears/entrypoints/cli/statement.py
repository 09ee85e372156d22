"""`arrears statement`: the borrower's statement of the debt — schedule, payments and where
each went, penalty and compound day by day, plans and waivers, and (US) the Regulation F
itemization with the validation end date — for a booked loan or a LOAN.json file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from arrears import bootstrap
from arrears.adapters.documents import render_pdf, write_file
from arrears.application import loan_file, statements
from arrears.config import Settings
from arrears.entrypoints.cli.output import console, emit_json, fail, read_json_file, user_errors


def statement(
    loan_id: Annotated[str | None, typer.Argument(metavar="LOAN_ID",
                                                  help="A loan in the book")] = None,
    file: Annotated[Path | None, typer.Option(
        "--file", metavar="LOAN.json", help="A loan file instead of a booked loan")] = None,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="With --file: business date (YYYY-MM-DD)")] = None,
    lang: Annotated[str | None, typer.Option(
        "--lang", help="zh-CN or en (default: zh-CN for CN products, else en)")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Also write the statement as PDF")]
    = None,
    db: Annotated[str | None, typer.Option("--db", help="Database URL (default: ARREARS_DB "
                                                        "or sqlite:///./arrears.db)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """How every figure of the debt was computed, from the replayed loan."""
    if (loan_id is None) == (file is None):
        fail("LOAN_ID", "give a booked loan id or --file LOAN.json (not both)")
    if file is None and as_of is not None:
        fail("--as-of", "only with --file (a booked loan is shown at the book's closed date)")
    with user_errors():
        language = statements.check_language(lang) if lang is not None else None
    if file is not None:
        if as_of is None:
            fail("--as-of", "is required with --file")
        document = read_json_file(file, "--file")
        with user_errors():
            day = loan_file.parse_date(as_of, "--as-of")
            loan, payments = loan_file.parse_loan_document(document)
            report = statements.file_statement(loan, payments, day)
    else:
        assert loan_id is not None
        with user_errors():
            built = bootstrap.build(Settings.from_env(database_url=db))
            report = statements.book_statement(loan_id, uow_factory=built.uow_factory)
    language = language or ("zh-CN" if report["jurisdiction"] == "CN" else "en")
    report["language"] = language
    title, sections = statements.printed_sections(report, language)
    if out is not None:
        with user_errors():
            write_file(render_pdf(title, sections, subject=f"statement {report['loan_id']}"),
                       out)
        report["out"] = str(out)
    if as_json:
        emit_json(report)
        return
    terminal = console()
    for heading, rows in sections:
        if not rows:
            terminal.print(heading)
            continue
        heads = any(rows[0])
        table = Table(title=heading, show_header=heads)
        for head in rows[0]:
            table.add_column(head)
        for row in rows[1:]:
            table.add_row(*row)
        terminal.print(table)
