"""`arrears compliance check ACTION.json --facts FACTS.json [--pack cn|us] [--json]`, and
`arrears compliance may LOAN_ID --channel call --at INSTANT [--json]` (in `compliance_may`),
the same question with the facts assembled from the book.

Prints the compliance Decision for a proposed action. Exit code 0 when allowed, 1 when
blocked, 2 on bad input (one line on stderr naming the field).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from arrears.compliance import codec, packs
from arrears.compliance import engine as compliance_engine
from arrears.entrypoints.cli.lazy import Command, LazyGroup
from arrears.entrypoints.cli.output import (
    console,
    emit_json,
    fail,
    read_json_file,
    user_errors,
)

BLOCKED_EXIT = 1
MAY_HELP = ("May the borrower of LOAN_ID be contacted through --channel at --at? The facts —\n"
            "contact history, consents, opt-outs, requests to stop, disputes — come from the "
            "book.\nNothing is written.")


class ComplianceGroup(LazyGroup):
    # `may` reads the book, so its module is imported only when it runs: `check` starts at once.
    table = {"may": Command("arrears.entrypoints.cli.compliance_may:may", MAY_HELP)}


app = typer.Typer(
    help="Ask the compliance engine whether a contact, report or fee may go ahead.",
    no_args_is_help=True,
    cls=ComplianceGroup,
)


@app.command()
def check(
    action_file: Annotated[Path, typer.Argument(metavar="ACTION.json", help="Proposed action.")],
    facts_file: Annotated[Path, typer.Option("--facts", metavar="FACTS.json", help="Case facts.")],
    pack: Annotated[
        str | None, typer.Option("--pack", help="Rule pack: cn or us (default: the action's).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Decide ACTION.json against FACTS.json and explain the decision."""
    action_document = read_json_file(action_file, "action")
    facts_document = read_json_file(facts_file, "facts")
    with user_errors():
        action, at, action_pack = codec.parse_action_document(action_document)
        facts = codec.parse_facts(facts_document)
        code = pack or action_pack
        if not code:
            fail("pack", "give --pack cn|us or a \"pack\" field in the action")
        rules = packs.get(code)
        decision = compliance_engine.decide(action, facts, rules, at)
    report(decision, as_json)


def report(decision: Any, as_json: bool) -> None:
    if as_json:
        emit_json(codec.decision_to_json(decision))
    else:
        _print(decision)
    if not decision.allowed:
        raise typer.Exit(BLOCKED_EXIT)


def _print(decision: Any) -> None:
    out = console()
    verdict = "[green]ALLOWED[/green]" if decision.allowed else "[red]BLOCKED[/red]"
    out.print(f"{verdict}  at {decision.at.isoformat()}  pack {decision.pack} "
              f"{decision.pack_version}")
    for violation in decision.violations:
        out.print(f"  [red]✗[/red] {violation.rule_id} ({violation.ref}, {violation.citation})")
        out.print(f"      {violation.reason_en} — {violation.detail_en}", markup=False)
        out.print(f"      {violation.reason_zh} — {violation.detail_zh}", markup=False)
    for flag in decision.flags:
        out.print(f"  [yellow]![/yellow] {flag.rule_id} ({flag.ref}): {flag.detail_en}")
    if decision.next_allowed_at is not None:
        out.print(f"  next allowed at {decision.next_allowed_at.isoformat()}")
