"""`arrears compliance may LOAN_ID --channel call --at INSTANT [--json]`: the question of
`arrears compliance check` with the facts assembled from the book. Exit code 0 when allowed,
1 when blocked, 2 on bad input (one line on stderr naming the field)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from arrears import bootstrap
from arrears.application.contact_decisions import CHANNELS, decide_contact
from arrears.config import Settings
from arrears.domain.dates import check_instant
from arrears.entrypoints.cli.compliance import report
from arrears.entrypoints.cli.output import fail, user_errors


def may(
    loan: Annotated[str, typer.Argument(metavar="LOAN_ID")],
    channel: Annotated[str, typer.Option(help=", ".join(CHANNELS))],
    at: Annotated[str, typer.Option("--at", help="When, an ISO instant with UTC offset")],
    actor: Annotated[str | None, typer.Option(
        help="Collector id or agency:<AGENCY_ID> (default: the lender's own team)")] = None,
    db: Annotated[str | None, typer.Option(
        "--db", help="Database URL (default: ARREARS_DB or sqlite:///./arrears.db)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """May the borrower of LOAN_ID be contacted through --channel at --at? The facts —
    contact history, consents, opt-outs, requests to stop, disputes — come from the book.
    Nothing is written."""
    try:
        instant = datetime.fromisoformat(at)
    except ValueError:
        fail("--at", f"{at!r} is not an ISO instant")
    if instant.tzinfo is None:
        fail("--at", f"{at!r} has no UTC offset")
    with user_errors():
        check_instant(instant, "--at")
        built = bootstrap.build(Settings.from_env(database_url=db))
        with built.uow_factory() as uow:
            decision = decide_contact(uow, loan, channel=channel, at=instant, actor=actor)
    report(decision, as_json)
