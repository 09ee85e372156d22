"""Borrowers' contact preferences: `arrears borrowers opt-out | cease | inconvenient-time |
revoke | preferences`.

Each statement is recorded as received (`--received-at`, default now; `--via`, how it reached
the lender); nothing is updated, a revocation is recorded beside what it withdraws. Bad input
exits 2 with one line naming the field, and records nothing.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Annotated

import typer

from arrears import bootstrap
from arrears.application.handlers import preferences
from arrears.config import Settings
from arrears.domain.dates import check_instant
from arrears.entrypoints.cli.output import console, emit_json, fail, user_errors

DbOption = Annotated[str | None, typer.Option("--db", help="Database URL (default: ARREARS_DB "
                                                             "or sqlite:///./arrears.db)")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
BorrowerArgument = Annotated[str, typer.Argument(metavar="BORROWER_ID")]
ReceivedOption = Annotated[str | None, typer.Option(
    "--received-at", help="When the borrower said it, an ISO instant with UTC offset "
                          "(default: now)")]
ViaOption = Annotated[str | None, typer.Option(
    "--via", help="How it reached the lender: phone, sms, email, letter or portal")]

app = typer.Typer(help="Borrowers' contact preferences: opt-outs, requests to stop, "
                       "inconvenient times.", no_args_is_help=True)


def _instant(text: str | None, field: str) -> datetime | None:
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        fail(field, f"{text!r} is not an ISO instant")
    if value.tzinfo is None:
        fail(field, f"{text!r} has no UTC offset")
    with user_errors():
        return check_instant(value, field)


def _wall(text: str, field: str) -> time:
    try:
        value = time.fromisoformat(text)
    except ValueError:
        fail(field, f"{text!r} is not a wall time (HH:MM)")
    if value.tzinfo is not None:
        fail(field, "a wall time has no offset")
    return value


def _list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _services(db: str | None) -> bootstrap.Services:
    with user_errors():
        return bootstrap.build(Settings.from_env(database_url=db))


def _recorded(borrower: str, kind: str, preference_id: int, as_json: bool) -> None:
    document = {"borrower_id": borrower, "kind": kind, "preference_id": preference_id}
    emit_json(document) if as_json else console().print(document)


@app.command("opt-out")
def opt_out(
    borrower: BorrowerArgument,
    channel: Annotated[str, typer.Option(help="sms, email, app_push, call, letter or "
                                              "field_visit")],
    point: Annotated[str, typer.Option(
        "--point", help="Only this contact point: mobile, email, address or app")] = "",
    received_at: ReceivedOption = None,
    via: ViaOption = None,
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """The borrower opted out of a channel (e.g. replied STOP): nothing more goes out that
    way (US-17, US-19; cn.house.opt_out). `--via` defaults to the channel when it can carry
    the request, else phone."""
    received = preferences.Received(
        at=_instant(received_at, "--received-at"),
        via=via or (channel if channel in preferences.VIAS else "phone"))
    built = _services(db)
    with user_errors():
        preference_id = preferences.record_opt_out(
            borrower, channel=channel, contact_point=point, received=received,
            uow_factory=built.uow_factory, clock=built.clock)
    _recorded(borrower, "opt_out", preference_id, as_json)


@app.command()
def cease(
    borrower: BorrowerArgument,
    oral: Annotated[bool, typer.Option(
        "--oral", help="Said, not written: covers only the --channels named")] = False,
    channels: Annotated[str, typer.Option(
        help="Channels it names, comma separated (e.g. call,sms); required when --oral")] = "",
    received_at: ReceivedOption = None,
    via: ViaOption = None,
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """The borrower asked the lender to stop: in writing (default, `--via letter`) it ends
    communication but for the notices owed (US-12); `--oral` (default `--via phone`) it is a
    request not to use the channels named — "stop calling" is `--oral --channels call`."""
    received = preferences.Received(at=_instant(received_at, "--received-at"),
                                    via=via or ("phone" if oral else "letter"))
    built = _services(db)
    with user_errors():
        preference_id = preferences.record_cease(
            borrower, in_writing=not oral, channels=_list(channels), received=received,
            uow_factory=built.uow_factory, clock=built.clock)
    _recorded(borrower, "cease", preference_id, as_json)


@app.command("inconvenient-time")
def inconvenient_time(
    borrower: BorrowerArgument,
    start: Annotated[str, typer.Option("--from", help="Start, borrower-local HH:MM")],
    end: Annotated[str, typer.Option("--to", help="End (exclusive), borrower-local HH:MM")],
    days: Annotated[str, typer.Option(
        help="Days it applies, comma separated (mon,…,sun; default every day)")] = "",
    point: Annotated[str, typer.Option(
        "--point", help="Only this contact point: mobile, email, address or app")] = "",
    received_at: ReceivedOption = None,
    via: ViaOption = None,
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """The borrower said a time of day is inconvenient (US-9): no contact then."""
    weekdays = []
    for day in _list(days):
        if day.lower() not in preferences.WEEKDAYS:
            fail("--days", f"{day!r} is not one of {', '.join(preferences.WEEKDAYS)}")
        weekdays.append(preferences.WEEKDAYS.index(day.lower()))
    window = (_wall(start, "--from"), _wall(end, "--to"))
    received = preferences.Received(at=_instant(received_at, "--received-at"),
                                    via=via or "phone")
    built = _services(db)
    with user_errors():
        preference_id = preferences.record_inconvenient_time(
            borrower, start=window[0], end=window[1], weekdays=weekdays, contact_point=point,
            received=received, uow_factory=built.uow_factory, clock=built.clock)
    _recorded(borrower, "inconvenient_time", preference_id, as_json)


@app.command()
def revoke(
    borrower: BorrowerArgument,
    preference_id: Annotated[int, typer.Argument(metavar="PREFERENCE_ID")],
    received_at: ReceivedOption = None,
    via: ViaOption = None,
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """The borrower withdrew a preference (opted back in); both stay on file."""
    received = preferences.Received(at=_instant(received_at, "--received-at"),
                                    via=via or "phone")
    built = _services(db)
    with user_errors():
        revocation_id = preferences.revoke(borrower, preference_id, received=received,
                                           uow_factory=built.uow_factory, clock=built.clock)
    _recorded(borrower, "revocation", revocation_id, as_json)


@app.command("preferences")
def show(borrower: BorrowerArgument, db: DbOption = None, as_json: JsonFlag = False) -> None:
    """Every preference on file for the borrower, with its revocation if any."""
    built = _services(db)
    with user_errors():
        listed = preferences.preferences(borrower, uow_factory=built.uow_factory)
    if as_json:
        emit_json({"borrower_id": borrower, "preferences": listed})
        return
    out = console()
    if not listed:
        out.print(f"{borrower}: no contact preferences on file")
    for item in listed:
        state = "in force" if item["revoked"] is None else \
            f"revoked {item['revoked']['received_at']}"
        what = ",".join(item["channels"]) or "all contact"
        if "window" in item:
            what = f"{item['window']['start']}–{item['window']['end']} " \
                   f"{','.join(item['window']['weekdays'])}"
        out.print(f"#{item['id']} {item['kind']} {what} — received {item['received_at']} "
                  f"by {item['received_via']} — {state}", markup=False)
