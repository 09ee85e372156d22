"""`arrears disputes …`: the disputes register — open a dispute (US) or objection (异议, PRC)
about a loan, record its answer, and list them (`--overdue` for objections unanswered past
their 20-day clock, CN-23)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import typer

from arrears.application import loan_file
from arrears.application.handlers import disputes
from arrears.domain.dates import check_instant
from arrears.entrypoints.cli.book import DbOption, JsonFlag, services
from arrears.entrypoints.cli.output import console, emit_json, fail, user_errors
from arrears.entrypoints.cli.tables import Column, WideFlag, print_table

IdArgument = Annotated[str, typer.Argument(metavar="ID", help="Dispute id, e.g. DSP-000001")]
NoteOption = Annotated[str, typer.Option("--note", help="What was said or sent")]
# An 80-column terminal shows first which dispute, on which loan, is to be answered by when.
DISPUTE_COLUMNS = (Column("id", justify="left"), Column("loan", justify="left"),
                   Column("kind", 1, "left"), Column("about", 3, "left"),
                   Column("channel", 4, "left"), Column("received", 1, "left"),
                   Column("answer by", justify="left"), Column("outcome", 2, "left"),
                   Column("answered", 2, "left"))

disputes_app = typer.Typer(help="Disputes and objections (异议): collection waits for the "
                                "answer, credit reporting marks them.", no_args_is_help=True)


def _instant(text: str, field: str) -> datetime:
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        fail(field, f"{text!r} is not an ISO 8601 instant")
    if at.tzinfo is None:
        fail(field, "must carry a UTC offset, e.g. 2026-06-01T10:00:00+08:00")
    with user_errors():
        return check_instant(at, field)


def _show(document: dict[str, Any], as_json: bool) -> None:
    emit_json(document) if as_json else console().print(document)


@disputes_app.command("open")
def open_dispute(
    loan_id: Annotated[str, typer.Argument(metavar="LOAN_ID", help="The loan disputed")],
    kind: Annotated[str, typer.Option(
        "--kind", help="dispute or original_creditor (US), objection (PRC)")],
    channel: Annotated[str, typer.Option("--channel", help="mail, portal or phone")],
    received_at: Annotated[str, typer.Option(
        "--received-at", help="When it reached the lender, with its UTC offset")],
    about: Annotated[str, typer.Option(
        "--about", help="debt, or credit_record (an objection to the reported record)")]
    = "debt",
    note: NoteOption = "",
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Register a dispute as received; it is appended to the borrower's evidence."""
    request = disputes.NewDispute(loan_ref=loan_id, kind=kind, channel=channel,
                                  received_at=_instant(received_at, "--received-at"),
                                  about=about, note=note)
    built = services(db)
    with user_errors():
        row = disputes.open_dispute(request, uow_factory=built.uow_factory, clock=built.clock)
    _show(disputes.dispute_document(row), as_json)


@disputes_app.command("answer")
def answer(
    dispute: IdArgument,
    outcome: Annotated[str, typer.Option(
        "--outcome", help="verified, corrected, rejected or undeterminable")],
    sent_at: Annotated[str | None, typer.Option(
        "--sent-at", help="When the answer was sent, with its UTC offset (default: now)")]
    = None,
    note: NoteOption = "",
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Record the answer sent; collection may resume from then."""
    at = _instant(sent_at, "--sent-at") if sent_at is not None else None
    built = services(db)
    with user_errors():
        row = disputes.answer_dispute(dispute, outcome=outcome, sent_at=at, note=note,
                                      uow_factory=built.uow_factory, clock=built.clock)
    _show(disputes.dispute_document(row), as_json)


@disputes_app.command("list")
def list_disputes(
    loan: Annotated[str | None, typer.Option("--loan", help="Only this loan's")] = None,
    open_only: Annotated[bool, typer.Option("--open", help="Only unanswered ones")] = False,
    overdue: Annotated[bool, typer.Option(
        "--overdue", help="Only objections past their answer clock (CN-23)")] = False,
    day: Annotated[str | None, typer.Option(
        "--day", help="With --overdue: at the end of this date (default: today)")] = None,
    db: DbOption = None,
    as_json: JsonFlag = False,
    wide: WideFlag = False,
) -> None:
    """Disputes in the order received."""
    if day is not None and not overdue:
        fail("--day", "only with --overdue")
    on: date | None = None
    if day is not None:
        with user_errors():
            on = loan_file.parse_date(day, "--day")
    built = services(db)
    if overdue and on is None:
        on = built.clock.now().date()
    with user_errors():
        rows = disputes.list_disputes(loan_ref=loan, open_only=open_only,
                                      overdue_on=on if overdue else None,
                                      uow_factory=built.uow_factory)
    if as_json:
        emit_json({"disputes": rows, "count": len(rows)})
        return
    print_table(DISPUTE_COLUMNS, [[str(row[k] or "") for k in (
        "dispute_id", "loan_id", "kind", "about", "channel", "received_on", "answer_by",
        "outcome", "answered_on")] for row in rows], wide=wide,
        title="Disputes" + (f" overdue at the end of {on}" if overdue else ""))
