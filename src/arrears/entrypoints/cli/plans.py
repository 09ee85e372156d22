"""`arrears plans …`: hardship plans — propose (prints the preview), approve or reject
(maker-checker), undo, list and show. A plan a rule refuses exits 2 naming the rule."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer

from arrears import bootstrap
from arrears.application import loan_file, plan_documents
from arrears.application.access import Role
from arrears.application.handlers import plans
from arrears.config import Settings
from arrears.domain.errors import DomainError
from arrears.domain.plans import WAIVABLE
from arrears.domain.product import Component
from arrears.entrypoints.cli.output import console, emit_json, fail, user_errors
from arrears.entrypoints.cli.tables import Column, print_table

# The fields of the plan document and of the decision, as this command's options name them,
# so that a refusal names what the operator typed (`--start`, not `plan.first_due_on`).
OPTIONS = {
    "plan.kind": "--kind", "plan.terms": "--terms", "plan.first_due_on": "--start",
    "plan.months": "--months", "plan.until": "--until", "plan.amount": "--amount",
    "plan.rate": "--rate", "plan.method": "--method",
    "plan.treatments": "--capitalise/--spread/--carry",
    "plan.waive": "/".join(f"--waive-{component.value}" for component in WAIVABLE),
    **{f"plan.waive.{component.value}": f"--waive-{component.value}"
       for component in WAIVABLE},
    "proposed_by": "--by", "approved_by": "--by", "plan.approved_by": "--by",
    "rejected_by": "--by", "undone_by": "--by", "reason": "--reason",
}

DbOption = Annotated[str | None, typer.Option("--db", help="Database URL (default: ARREARS_DB "
                                                             "or sqlite:///./arrears.db)")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
PlanArgument = Annotated[str, typer.Argument(metavar="PLAN", help="Plan id, e.g. PL-000001")]
ByOption = Annotated[str, typer.Option("--by", help="Who decides (a collector or supervisor "
                                                     "id; recorded as cli:<id>)")]
CLI_PREFIX = "cli:"
Buckets = Annotated[str | None, typer.Option(help="Buckets, comma-separated: interest, fee, "
                                                  "penalty, compound")]
Share = Annotated[str | None, typer.Option(help="Share to forgive, 0 to 1 (a re-age: 1)")]

plans_app = typer.Typer(help="Hardship plans: propose, approve, reject, undo.",
                        no_args_is_help=True)


def _services(db: str | None) -> bootstrap.Services:
    with user_errors():
        return bootstrap.build(Settings.from_env(database_url=db))


@contextmanager
def _refusals() -> Iterator[None]:
    """`user_errors`, naming the option a refused plan field came from."""
    try:
        yield
    except DomainError as error:
        fail(OPTIONS.get(error.field, error.field), error.reason)


def _treatments(given: dict[str, str | None], waive: dict[Component, str]) -> dict[str, str]:
    """A re-age's bucket → treatment from `--capitalise/--spread/--carry a,b` and whole
    `--waive-X 1`; a bucket named twice is refused."""
    chosen: dict[str, str] = {}
    for treatment, buckets in given.items():
        for bucket in (buckets or "").split(","):
            if not bucket.strip():
                continue
            with user_errors():
                loan_file.parse_enum(Component, bucket.strip(), f"--{treatment}")
            if bucket.strip() in chosen:
                fail(f"--{treatment}", f"{bucket.strip()} already has a treatment")
            chosen[bucket.strip()] = treatment
    for component, share in waive.items():
        if share not in ("1", "1.0", "1.00"):
            fail(f"--waive-{component.value}", "a re-age waives a whole bucket: give 1")
        if component.value in chosen:
            fail(f"--waive-{component.value}", f"{component.value} already has a treatment")
        chosen[component.value] = "waive"
    return chosen


@plans_app.command("propose")
def propose(
    loan_id: Annotated[str, typer.Argument(metavar="LOAN")],
    kind: Annotated[str, typer.Option(help="reage, deferral, reamortize, holiday, settlement, "
                                           "waiver or rate_reduction")],
    terms: Annotated[int | None, typer.Option(help="reage: new monthly installments")] = None,
    start: Annotated[str | None, typer.Option(
        help="reage: first new due date (default: a month after the plan's date)")] = None,
    months: Annotated[int | None, typer.Option(help="deferral: months to move")] = None,
    until: Annotated[str | None, typer.Option(
        help="holiday: last paused day; settlement: last day to pay")] = None,
    amount: Annotated[str | None, typer.Option(help="settlement: the amount that settles")]
    = None,
    rate: Annotated[str | None, typer.Option(
        help="The plan's annual rate (rate_reduction: the new rate)")] = None,
    method: Annotated[str | None, typer.Option(help="reage: the new schedule's method")] = None,
    capitalise: Buckets = None,
    spread: Buckets = None,
    carry: Buckets = None,
    waive_fee: Share = None,
    waive_penalty: Share = None,
    waive_compound: Share = None,
    by: Annotated[str, typer.Option("--by", help="Who proposes (borrower, collector id, "
                                                 "strategy; recorded as cli:<who>)")
                  ] = "borrower",
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Propose a plan for the open business date and print its preview (old and new
    schedules, totals, waived amounts, the APR against the cap)."""
    waive = {component: share for component, share in
             zip(WAIVABLE, (waive_fee, waive_penalty, waive_compound), strict=True)
             if share is not None}
    document: dict[str, Any] = {"kind": kind}
    for key, value in (("terms", terms), ("first_due_on", start), ("months", months),
                       ("until", until), ("amount", amount), ("rate", rate),
                       ("method", method)):
        if value is not None:
            document[key] = value
    if kind == "reage":
        treatments = _treatments({"capitalise": capitalise, "spread": spread, "carry": carry},
                                 waive)
        if treatments:
            document["treatments"] = treatments
    else:
        for name, value in (("capitalise", capitalise), ("spread", spread), ("carry", carry)):
            if value is not None:
                fail(f"--{name}", "only a re-age treats balance buckets")
        if waive:
            document["waive"] = {component.value: share for component, share in waive.items()}
    built = _services(db)
    with _refusals():
        shown = plans.propose(loan_id, document, proposed_by=_identity(by),
                              uow_factory=built.uow_factory,
                              clock=built.clock)
    if as_json:
        emit_json(shown)
        return
    _print_preview(shown)


def _print_preview(shown: dict[str, Any]) -> None:
    out = console()
    out.print(f"{shown['plan_id']} ({shown['kind']}, {shown['status']}) for {shown['loan_id']} "
              f"from {shown['effective_on']}")
    for title, key in (("Schedule before", "old_schedule"), ("Schedule after", "new_schedule")):
        print_table([Column(heading) for heading in (
            "number", "due date", "principal", "interest", "fee", "payment")],
            [[str(row[column]) for column in (
                "number", "due_date", "principal", "interest", "fee", "payment")]
             for row in shown[key]], wide=False, out=out, title=title)
    out.print(f"borrower pays in total: {shown['borrower_total_before']} before, "
              f"{shown['borrower_total_after']} after; forgiven {shown['forgiven']}")
    apr = shown["apr"]
    if apr is not None:
        out.print(f"APR of the new cash flows {apr['apr_nominal']} (cap {apr['cap']['rate']})")


def _identity(by: str) -> str:
    """Who acts from the shell, as the book records them: `--by` is whatever was typed, so it
    gets a namespace of its own (`cli:sup` is not the web user `web:sup`, who could otherwise
    approve a plan they proposed as `--by sup`, nor an API key)."""
    if not by.strip():
        fail("--by", "must not be empty")
    return by if by.startswith(CLI_PREFIX) else f"{CLI_PREFIX}{by}"


@plans_app.command("approve")
def approve(
    plan_id: PlanArgument,
    by: ByOption,
    role: Annotated[str, typer.Option(help="collector or supervisor")] = "collector",
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Approve a proposed plan (never by its proposer) and apply it to the loan."""
    if role not in (Role.COLLECTOR.value, Role.SUPERVISOR.value):
        fail("--role", "must be collector or supervisor")
    built = _services(db)
    with _refusals():
        shown = plans.approve(plan_id, by=_identity(by), role=Role(role),
                              uow_factory=built.uow_factory, clock=built.clock)
    if as_json:
        emit_json(shown)
        return
    _print_preview(shown)


@plans_app.command("reject")
def reject(
    plan_id: PlanArgument,
    by: ByOption,
    reason: Annotated[str, typer.Option(help="Why, for the record")] = "",
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Reject a proposed plan (never by its proposer); the loan is not touched."""
    built = _services(db)
    with _refusals():
        shown = plans.reject(plan_id, by=_identity(by), reason=reason,
                             uow_factory=built.uow_factory,
                             clock=built.clock)
    emit_json(shown) if as_json else console().print(f"{plan_id} rejected")


@plans_app.command("undo")
def undo(plan_id: PlanArgument, by: ByOption, db: DbOption = None,
         as_json: JsonFlag = False) -> None:
    """Undo an approved plan while it is the loan's latest event."""
    built = _services(db)
    with _refusals():
        shown = plans.undo(plan_id, by=_identity(by), uow_factory=built.uow_factory,
                           clock=built.clock)
    emit_json(shown) if as_json else console().print(f"{plan_id} undone")


@plans_app.command("list")
def list_plans(
    loan: Annotated[str | None, typer.Option("--loan", help="Only this loan's plans")] = None,
    status: Annotated[str | None, typer.Option(
        help=f"Only plans in this status: {', '.join(plan_documents.STATUSES)}")] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first")]
    = plan_documents.DEFAULT_LIST_LIMIT,
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Plans, newest first."""
    built = _services(db)
    with user_errors():
        document = plan_documents.list_document(loan_ref=loan, status=status, limit=limit,
                                                uow_factory=built.uow_factory)
    if as_json:
        emit_json(document)
        return
    columns = ("plan_id", "loan_id", "kind", "status", "effective_on", "waived")
    print_table([Column(column.replace("_", " "), justify="left") for column in columns],
                [[str(row[column]) for column in columns] for row in document["plans"]],
                wide=False, title="Plans")


@plans_app.command("show")
def show(plan_id: PlanArgument, db: DbOption = None, as_json: JsonFlag = False) -> None:
    """One plan: its record and the preview it was decided on."""
    built = _services(db)
    with user_errors():
        document = plan_documents.show_document(plan_id, uow_factory=built.uow_factory)
    if as_json:
        emit_json(document)
        return
    console().print(f"{plan_id}: {document['status']} (proposed by {document['proposed_by']}"
                    f", decided by {document['decided_by'] or '-'})")
    _print_preview(document["preview"])
