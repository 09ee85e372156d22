"""`arrears complaints …`: the complaints register — file, acknowledge, extend, answer,
list (`--overdue` for those past their clock), escalate (run daily), rates per collector and
agency, and export a regulator's case file (a PDF summary and the borrower's evidence bundle,
which `arrears evidence verify` checks)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from arrears import bootstrap
from arrears.adapters.bundle import write_zip
from arrears.adapters.documents import render_pdf, write_file
from arrears.application import loan_file
from arrears.application.handlers import collections as collections_handlers
from arrears.application.handlers import complaints
from arrears.config import Settings
from arrears.domain.dates import check_instant
from arrears.entrypoints.cli.output import console, emit_json, fail, user_errors
from arrears.entrypoints.cli.tables import Column, WideFlag, print_table

DbOption = Annotated[str | None, typer.Option("--db", help="Database URL (default: ARREARS_DB "
                                                             "or sqlite:///./arrears.db)")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
AtOption = Annotated[str | None, typer.Option(
    "--at", help="When, with its UTC offset (default: now), e.g. 2026-06-01T10:00:00+08:00")]
IdArgument = Annotated[str, typer.Argument(metavar="ID", help="Complaint id, e.g. CMP-000001")]
# An 80-column terminal shows first which complaint, on which loan, is due when.
COMPLAINT_COLUMNS = (Column("id", justify="left"), Column("loan", justify="left"),
                     Column("source", 3, "left"), Column("category", 2, "left"),
                     Column("team", 4, "left"), Column("filed", 1, "left"),
                     Column("ack by", 2, "left"), Column("answer by", justify="left"),
                     Column("answered", 1, "left"), Column("escalated", 3, "left"))

complaints_app = typer.Typer(help="Complaints about collection, against their clocks.",
                             no_args_is_help=True)


def _services(db: str | None) -> bootstrap.Services:
    with user_errors():
        return bootstrap.build(Settings.from_env(database_url=db))


def _at(text: str | None) -> datetime | None:
    """The `--at` instant, checked before anything is looked up (None: now, once the
    services are built)."""
    if text is None:
        return None
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        fail("--at", f"{text!r} is not an ISO 8601 instant")
    if at.tzinfo is None:
        fail("--at", "must carry a UTC offset, e.g. 2026-06-01T10:00:00+08:00")
    with user_errors():
        return check_instant(at, "--at")


def _now_or(at: datetime | None, built: bootstrap.Services) -> datetime:
    return at if at is not None else built.clock.now()


def _day(text: str, field: str) -> date:
    with user_errors():
        return loan_file.parse_date(text, field)


def _show(document: dict[str, Any], as_json: bool) -> None:
    emit_json(document) if as_json else console().print(document)


@complaints_app.command("file")
def file_complaint(
    loan_id: Annotated[str, typer.Argument(metavar="LOAN_ID", help="The loan complained about")],
    source: Annotated[str, typer.Option(help="borrower, third_party or regulator")],
    category: Annotated[str, typer.Option(
        help="harassment, wrong_amount, privacy, impersonation, threat or other")],
    summary: Annotated[str, typer.Option(help="What the complainant says")],
    collector: Annotated[list[str] | None, typer.Option(
        help="A collector it concerns (repeatable)")] = None,
    agency: Annotated[list[str] | None, typer.Option(
        help="An agency it concerns (repeatable)")] = None,
    contact: Annotated[list[int] | None, typer.Option(
        help="A logged contact id it concerns (repeatable)")] = None,
    at: AtOption = None,
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """File a complaint: routed by category, clocked by the loan's jurisdiction, and appended
    to the borrower's evidence."""
    when = _at(at)
    built = _services(db)
    request = complaints.NewComplaint(
        loan_ref=loan_id, source=source, category=category, summary=summary,
        at=_now_or(when, built), collectors=tuple(collector or ()),
        agencies=tuple(agency or ()), contact_ids=tuple(contact or ()))
    with user_errors():
        row = complaints.file_complaint(request, uow_factory=built.uow_factory)
    _show(complaints.complaint_document(row), as_json)


@complaints_app.command("acknowledge")
def acknowledge(complaint: IdArgument, at: AtOption = None, db: DbOption = None,
                as_json: JsonFlag = False) -> None:
    """Record that the complainant was told the complaint is being handled."""
    when = _at(at)
    built = _services(db)
    with user_errors():
        row = complaints.acknowledge(complaint, _now_or(when, built),
                                     uow_factory=built.uow_factory)
    _show(complaints.complaint_document(row), as_json)


@complaints_app.command("extend")
def extend(complaint: IdArgument,
           reason: Annotated[str, typer.Option(help="Why more time is needed")],
           at: AtOption = None, db: DbOption = None, as_json: JsonFlag = False) -> None:
    """Extend the answer deadline, once, before it passes."""
    when = _at(at)
    built = _services(db)
    with user_errors():
        row = complaints.extend(complaint, reason, _now_or(when, built),
                                uow_factory=built.uow_factory)
    _show(complaints.complaint_document(row), as_json)


@complaints_app.command("answer")
def answer(complaint: IdArgument,
           text: Annotated[str, typer.Option("--text", help="The answer given")],
           at: AtOption = None, db: DbOption = None, as_json: JsonFlag = False) -> None:
    """Record the answer given to the complainant."""
    when = _at(at)
    built = _services(db)
    with user_errors():
        row = complaints.answer(complaint, text, _now_or(when, built),
                                uow_factory=built.uow_factory)
    _show(complaints.complaint_document(row), as_json)


@complaints_app.command("list")
def list_complaints(
    overdue: Annotated[bool, typer.Option("--overdue", help="Only those past a clock")] = False,
    day: Annotated[str | None, typer.Option(
        "--day", help="With --overdue: at the end of this date (default: today)")] = None,
    open_only: Annotated[bool, typer.Option("--open", help="Only unanswered ones")] = False,
    db: DbOption = None,
    as_json: JsonFlag = False,
    wide: WideFlag = False,
) -> None:
    """Complaints, oldest first."""
    if day is not None and not overdue:
        fail("--day", "only with --overdue")
    given = _day(day, "--day") if day is not None else None
    built = _services(db)
    on = given if given is not None else built.clock.now().date()
    with user_errors():
        rows = complaints.list_complaints(overdue_on=on if overdue else None,
                                          open_only=open_only, uow_factory=built.uow_factory)
    if as_json:
        emit_json({"complaints": rows, "count": len(rows)})
        return
    print_table(COMPLAINT_COLUMNS, [[str(row[k] or "") for k in (
        "complaint_id", "loan_id", "source", "category", "team", "filed_on", "acknowledge_by",
        "answer_by", "answered_on", "escalated_on")] for row in rows], wide=wide,
        title="Complaints" + (f" overdue at the end of {on}" if overdue else ""))


@complaints_app.command("escalate")
def escalate(
    day: Annotated[str, typer.Option("--day", help="Business date just ended (YYYY-MM-DD)")],
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Escalate every open complaint past a clock at the end of --day (run daily)."""
    on = _day(day, "--day")
    built = _services(db)
    with user_errors():
        rows = complaints.escalate(on, uow_factory=built.uow_factory, clock=built.clock)
    _show({"day": on.isoformat(), "escalated": [r.complaint_ref for r in rows]}, as_json)


@complaints_app.command("rates")
def rates(db: DbOption = None, as_json: JsonFlag = False) -> None:
    """Complaints per 1,000 logged contacts, per collector and per agency."""
    built = _services(db)
    with user_errors():
        found = complaints.rates(uow_factory=built.uow_factory)
    if as_json:
        emit_json({"rates": found})
        return
    print_table([Column(head, justify="left") for head in ("kind", "ref", "contacts",
                                                           "complaints", "per 1,000")],
                [[r["kind"], r["ref"], str(r["contacts"]), str(r["complaints"]),
                  r["complaints_per_1000_contacts"]] for r in found],
                wide=False, title="Complaints per 1,000 contacts")


SUMMARY_TITLE = {"en": "Complaint case file", "zh-CN": "投诉案件材料"}
HISTORY = {"en": "Handling history (evidence log)", "zh-CN": "处理记录（证据日志）"}
BUNDLE = {"en": "Evidence bundle", "zh-CN": "证据包"}


@complaints_app.command("export")
def export(
    complaint: IdArgument,
    out: Annotated[Path, typer.Option("--out", help="Directory for the case file")],
    lang: Annotated[str, typer.Option("--lang", help="zh-CN or en")] = "zh-CN",
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Write a regulator's case file: <ID>-summary.pdf and <ID>-evidence.zip (verify it with
    `arrears evidence verify`)."""
    if lang not in SUMMARY_TITLE:
        fail("--lang", f"unknown language {lang!r} (expected zh-CN or en)")
    if not out.is_dir():
        fail("--out", f"{out} is not a directory")
    built = _services(db)
    with user_errors():
        document, members = complaints.case_file(
            complaint, uow_factory=built.uow_factory, keys=built.keys, clock=built.clock,
            issuer=collections_handlers.Lender().name_en)
    bundle = out / f"{complaint}-evidence.zip"
    summary = out / f"{complaint}-summary.pdf"
    facts = [["", ""]] + [[key.replace("_", " "), ", ".join(map(str, value))
                           if isinstance(value, list) else str(value)]
                          for key, value in document.items()
                          if key not in ("history", "clock")]
    facts.append(["clock", f"{document['clock']['rule_id']} — {document['clock']['citation']}"
                  + (" [unconfirmed]" if document["clock"]["unconfirmed"] else "")])
    history = [["seq", "kind", "at"]] + [[str(h["seq"]), h["kind"], h["at"]]
                                         for h in document["history"]]
    sections = [(SUMMARY_TITLE[lang], facts), (HISTORY[lang], history),
                (f"{BUNDLE[lang]}: {bundle.name}", [])]
    with user_errors():
        write_zip(members, bundle)
        write_file(render_pdf(f"{SUMMARY_TITLE[lang]} {complaint}", sections,
                              subject=f"complaint {complaint}"), summary)
    _show({**document, "summary_pdf": str(summary), "evidence_bundle": str(bundle)}, as_json)
