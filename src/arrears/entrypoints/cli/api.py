"""`arrears serve` (the HTTP API under uvicorn) and `arrears apikeys create|revoke|list`."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from arrears.application.access import Role
from arrears.application.handlers import api_keys
from arrears.entrypoints.cli import web_demo
from arrears.entrypoints.cli.book import DbOption, JsonFlag, services
from arrears.entrypoints.cli.output import console, emit_json, fail, user_errors

apikeys_app = typer.Typer(help="API keys for lender systems, staff and agencies.",
                          no_args_is_help=True)
MAX_WORKERS = 64


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes")] = 1,
    db: DbOption = None,
    demo: Annotated[bool, typer.Option(
        help="Serve a demo book (built on first use) with one web login per role")] = False,
) -> None:
    """Serve the HTTP API (OpenAPI at /openapi.json, docs at /docs) and the web pages until
    interrupted."""
    import uvicorn  # the server is only needed by this command

    if demo:
        db = db or web_demo.DEMO_DB
        with user_errors():
            logins = web_demo.prepare(db)
        for login in logins:
            console().print(f"demo login: {login.name} ({login.role}) password "
                            f"{login.password}", markup=False, highlight=False)
        borrower = web_demo.overdue_borrower(db)
        if borrower is not None:
            console().print(f"demo borrower: phone {borrower[0]} (loan {borrower[1]}, overdue)",
                            markup=False, highlight=False)
        console().print(f"borrowers' sign-in codes go to {web_demo.DEMO_SINKS}/sms.jsonl; "
                        f"pages at http://{host}:{port}/", markup=False, highlight=False)
    if not 1 <= port <= 65535:
        fail("--port", "must be from 1 to 65535")
    if not 1 <= workers <= MAX_WORKERS:
        fail("--workers", f"must be from 1 to {MAX_WORKERS}")
    built = services(db)  # refuse a bad database URL here, not in each worker
    built.migrate()
    if db is not None:
        os.environ["ARREARS_DB"] = db  # the workers build their app from the environment
    uvicorn.run("arrears.entrypoints.api.app:app_from_env", factory=True, host=host,
                port=port, workers=workers, access_log=False)


@apikeys_app.command("create")
def create(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Who the key is for")],
    role: Annotated[str, typer.Option(help=", ".join(r.value for r in Role
                                                      if r is not Role.BORROWER))],
    agency: Annotated[str | None, typer.Option(help="Agency id, for an agency key")] = None,
    collector: Annotated[str | None, typer.Option(
        help="Collector id, for a collector key")] = None,
    scope: Annotated[list[str] | None, typer.Option(
        help="A scope of a system key, e.g. payments:write (repeat)")] = None,
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Create an API key. The key is printed once; only its hash is stored."""
    built = services(db)
    with user_errors():
        created = api_keys.create_key(name, role, agency=agency, collector=collector,
                                      scopes=scope or (),
                                      uow_factory=built.api_uow_factory(), clock=built.clock)
    document = {"id": created.key_ref, "key": created.key}
    if as_json:
        emit_json(document)
        return
    console().print(f"key {created.key_ref} for {name} ({role}); it is shown only now:")
    typer.echo(created.key)


@apikeys_app.command("revoke")
def revoke(
    key_id: Annotated[str, typer.Argument(metavar="ID", help="The key's id")],
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Revoke a key for good (running servers stop accepting it within
    ARREARS_API_KEY_CACHE_SECONDS)."""
    built = services(db)
    with user_errors():
        at = api_keys.revoke_key(key_id, uow_factory=built.api_uow_factory(),
                                 clock=built.clock)
    document = {"id": key_id, "revoked_at": at.isoformat()}
    emit_json(document) if as_json else console().print(document)


@apikeys_app.command("list")
def list_keys(db: DbOption = None, as_json: JsonFlag = False) -> None:
    """Every key: id, name, role, scopes, whom it acts for, created and revoked (no secrets)."""
    built = services(db)
    document = {"keys": api_keys.list_keys(uow_factory=built.api_uow_factory())}
    emit_json(document) if as_json else console().print(document)
