"""Credit-reporting commands: `report bureau` writes a month's file, `bureau notice` records a
pre-report notice, `bureau history` prints a loan's 24-month grid in both formats, and
`bureau validate` checks a file (exit 0 clean, 1 problems found, 2 bad input)."""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import typer

from arrears.application import loan_file
from arrears.application.bureau import BureauNotice, BureauRecord, Format, NoticeKind
from arrears.application.handlers import bureau as reporting
from arrears.application.handlers import disputes
from arrears.batch import bureau as files
from arrears.domain.bureau import codes, layouts
from arrears.domain.bureau.snapshot import DisputeState, Month
from arrears.domain.bureau.validate import not_a_file, validate
from arrears.domain.errors import DomainError
from arrears.entrypoints.cli.book import DbOption, JsonFlag, services
from arrears.entrypoints.cli.output import console, emit_json, fail, user_errors
from arrears.entrypoints.cli.tables import Column, WideFlag, print_table

PROBLEMS_EXIT = 1
# A month's file of about 1.2 million Metro 2 records; validation holds it all in memory.
MAX_FILE_BYTES = 512 * 2**20

bureau_app = typer.Typer(help="Credit reporting: notices, history, file validation.",
                         no_args_is_help=True)

FormatOption = Annotated[str, typer.Option("--format", help="metro2 or pboc")]


def _format(text: str) -> Format:
    with user_errors():
        return loan_file.parse_enum(Format, text, "--format")


def by_status(records: tuple[BureauRecord, ...], kind: Format) -> dict[str, int]:
    """Records per status code as the file's trailer counts them."""
    counts = Counter(r.snapshot.metro2_status if kind is Format.METRO2
                     else r.snapshot.account_status.value for r in records)
    return dict(sorted(counts.items()))


def report_bureau(
    file_format: FormatOption,
    month: Annotated[str, typer.Option("--month", help="Reporting month, YYYY-MM")],
    out: Annotated[Path, typer.Option("--out", help="File to write")],
    reporter_id: Annotated[str, typer.Option(help="Furnisher identification")] = "ARREARS",
    reporter_name: Annotated[str, typer.Option(help="Furnisher name")] = "ARREARS LENDER",
    furnisher: Annotated[str, typer.Option(
        help="creditor, collection_agency or debt_buyer (Metro 2 account type, K1)")]
    = "creditor",
    original_creditor: Annotated[str | None, typer.Option(
        help="Original creditor's name (K1): a collection agency or debt buyer")] = None,
    creditor_classification: Annotated[int | None, typer.Option(
        help="Original creditor's class, 1-15 (K1)")] = None,
    liable_relations: Annotated[str | None, typer.Option(
        help="Contacts reported beside the borrower (J1/J2): relation=ECOA,… "
             "(default guarantor=5; '' for none)")] = None,
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Rebuild the month's snapshots and write its bureau file; held records are listed."""
    kind = _format(file_format)
    with user_errors():
        reporting_month = Month.parse(month, "--month")
        reporter = files.Reporter(
            identification=_header_text(reporter_id, "--reporter-id",
                                        layouts.METRO2_BASE.field("identification_number")),
            name=_header_text(reporter_name, "--reporter-name",
                              layouts.METRO2_HEADER.field("reporter_name")),
            kind=loan_file.parse_enum(codes.FurnisherKind, furnisher, "--furnisher"),
            original_creditor=_original_creditor(original_creditor, creditor_classification),
            liable_relations=(dict(codes.LIABLE_RELATIONS) if liable_relations is None
                              else _liable_relations(liable_relations)))
    if out.is_dir():
        fail("--out", f"{out} is a directory")
    built = services(db)
    contents: list[bytes] = []

    def formatted(run: reporting.MonthRun) -> None:
        # Formatted before the month is stored: a record the format refuses stores nothing.
        contents.append(files.build_file(kind, run.records, reporter=reporter,
                                         month_end=reporting_month.last,
                                         created=built.clock.now()))

    with user_errors():
        run = reporting.build_month(
            reporting_month, uow_factory=built.bureau_uow_factory(),
            disputes=disputes.bureau_disputes(uow_factory=built.uow_factory), check=formatted)
    content = contents[0]
    try:
        _write(out, content)
    except OSError as error:
        fail("--out", f"cannot write {out}: {error.strerror or error}")
    held: dict[str, list[str]] = {}
    for record in run.held:
        for rule_id in record.rule_ids:
            held.setdefault(rule_id, []).append(record.loan_ref)
    document: dict[str, Any] = {
        "month": str(reporting_month), "format": kind.value, "records": len(run.records),
        "corrections": sum(r.correction for r in run.records),
        "by_status": by_status(run.records, kind), "held": held,
        "disputed": sum(r.snapshot.dispute is DisputeState.OPEN for r in run.records),
        "objections_overdue": list(run.objections_overdue),
        "file": str(out), "sha256": files.sha256(content),
    }
    if as_json:
        emit_json(document)
        return
    out_console = console()
    out_console.print(f"{document['records']} records for {month} ({kind.value}) → {out}")
    for rule_id, loans in held.items():
        out_console.print(f"held by {rule_id}: {', '.join(loans)}")
    out_console.print(f"sha256 {document['sha256']}")


def _original_creditor(name: str | None, classification: int | None
                       ) -> files.OriginalCreditor | None:
    if name is None and classification is None:
        return None
    if classification is not None:
        files.check_classification(classification)
    if name is None:
        raise DomainError("--creditor-classification", "K1 needs --original-creditor too")
    if classification is None:
        raise DomainError("--original-creditor", "K1 needs --creditor-classification too")
    return files.OriginalCreditor(name=name, classification=classification)


def _liable_relations(text: str) -> dict[str, str]:
    """`relation=ECOA,…`: which contacts are liable, as joint (2) or co-maker/guarantor (5)."""
    found: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        relation, _, ecoa = item.partition("=")
        if not relation.strip() or ecoa.strip() not in (codes.ECOA_JOINT, codes.ECOA_CO_MAKER):
            raise DomainError("--liable-relations", f"{item!r} is not relation=2 (joint) or "
                                                    "relation=5 (co-maker/guarantor)")
        found[relation.strip().lower()] = ecoa.strip()
    return found


def _header_text(text: str, field: str, column: layouts.Field) -> str:
    """Text for a fixed-width header column: printable ASCII that fits, never cut short."""
    if not text.strip() or not text.isascii() or not text.isprintable():
        fail(field, "must be printable ASCII text (the file is ASCII)")
    if len(text) > column.length:
        fail(field, f"is {len(text)} characters; the file has room for {column.length}")
    return text


def _write(path: Path, content: bytes) -> None:
    """All or nothing: a reader never sees half a file."""
    directory = path.parent if str(path.parent) else Path(".")
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@bureau_app.command("notice")
def notice(
    loan_id: Annotated[str, typer.Argument(metavar="LOAN_ID")],
    sent_on: Annotated[str, typer.Option("--sent-on", help="Date the notice was sent")],
    kind: Annotated[str, typer.Option(help="pre_report (CN-21) or about_debt (US-26)")]
    = "pre_report",
    channel: Annotated[str, typer.Option(help="letter, sms, email or app_push")] = "letter",
    undeliverable_on: Annotated[str | None, typer.Option(
        help="Date it came back undeliverable")] = None,
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Record that the borrower was notified before a negative credit report."""
    with user_errors():
        record = BureauNotice(
            loan_ref=loan_id, kind=loan_file.parse_enum(NoticeKind, kind, "--kind"),
            sent_on=loan_file.parse_date(sent_on, "--sent-on"), channel=channel,
            undeliverable_on=(loan_file.parse_date(undeliverable_on, "--undeliverable-on")
                              if undeliverable_on is not None else None))
    built = services(db)
    with user_errors():
        added = reporting.record_notice(record, uow_factory=built.bureau_uow_factory())
    document = {"loan_id": loan_id, "kind": record.kind.value, "sent_on": str(record.sent_on),
                "recorded": added}
    if as_json:
        emit_json(document)
        return
    console().print(f"notice {record.kind.value} for {loan_id} sent {record.sent_on}: "
                    f"{'recorded' if added else 'already on file'}")


@bureau_app.command("history")
def history(
    loan_id: Annotated[str, typer.Argument(metavar="LOAN_ID")],
    db: DbOption = None,
    as_json: JsonFlag = False,
    wide: WideFlag = False,
) -> None:
    """The loan's last 24 month-ends: Metro 2 status and profile code, PBOC status code."""
    built = services(db)
    with user_errors():
        snaps = reporting.loan_history(
            loan_id, uow_factory=built.bureau_uow_factory(),
            disputes=disputes.bureau_disputes(uow_factory=built.uow_factory, loan_ref=loan_id))
    latest = snaps[-1] if snaps else None
    document = {
        "loan_id": loan_id,
        "months": [{"month": str(s.month), "dpd": s.dpd, "worst_dpd": s.worst_dpd,
                    "metro2_status": s.metro2_status, "metro2_code": s.metro2_code,
                    "pboc_code": s.pboc_code,
                    "account_status": codes.ACCOUNT_STATUS_NAMES[s.account_status],
                    "loan_class": codes.CLASS_NAMES[s.loan_class]} for s in snaps],
        # Metro 2 (M2-5): the months before the latest, most recent first; PBOC (CN-25): the
        # 24 months through the latest, oldest first.
        "metro2_profile": latest.metro2_history if latest else "",
        "pboc_24_months": latest.pboc_history if latest else "",
    }
    if as_json:
        emit_json(document)
        return
    # An 80-column terminal shows the latest months first; --wide shows all 24.
    columns = [Column("", justify="left"), *(
        Column(f"{s.month.year % 100:02d}-{s.month.month:02d}", len(snaps) - i, "center")
        for i, s in enumerate(snaps))]
    out = console()
    print_table(columns, [["Metro 2", *(s.metro2_code for s in snaps)],
                          ["PBOC", *(s.pboc_code for s in snaps)],
                          ["DPD", *(str(s.dpd) for s in snaps)]],
                wide=wide, out=out, title=f"{loan_id}: 24-month history")
    out.print(f"Metro 2 profile (latest first): {document['metro2_profile']}")
    out.print(f"PBOC 24 months (oldest first):  {document['pboc_24_months']}")


def _read_bounded(path: Path, field: str) -> bytes:
    """The file's bytes, refused naming `field` past MAX_FILE_BYTES (read no further, so a
    device or a pipe that never ends is refused too)."""
    try:
        with path.open("rb") as handle:
            content = handle.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        fail(field, f"cannot read {path}: {error.strerror or error}")
    if len(content) > MAX_FILE_BYTES:
        fail(field, f"{path} is larger than {MAX_FILE_BYTES} bytes")
    return content


@bureau_app.command("validate")
def validate_file(
    path: Annotated[Path, typer.Argument(metavar="FILE")],
    file_format: FormatOption,
    as_json: JsonFlag = False,
) -> None:
    """Check a bureau file; each problem names the record, the field and its position."""
    kind = _format(file_format)
    content = _read_bounded(path, "FILE")
    refused = not_a_file(content, kind.value)
    if refused is not None:
        fail("FILE", f"{path} {refused}")
    problems = validate(content, kind.value)
    if as_json:
        emit_json({"file": str(path), "format": kind.value, "valid": not problems,
                   "problems": [{"record": p.record, "field": p.field, "position": p.position,
                                 "message": p.message} for p in problems]})
    else:
        out = console()
        for problem in problems:
            out.print(str(problem), markup=False, highlight=False)
        if not problems:
            out.print(f"{path}: valid {kind.value} file")
    if problems:
        raise typer.Exit(PROBLEMS_EXIT)
