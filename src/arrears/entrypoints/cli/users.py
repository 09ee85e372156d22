"""`arrears users create`: staff who sign in to the web pages, with a password typed at a
prompt (twice, not echoed) or read from standard input (`--password-stdin`), never from an
option, so it stays out of shell history and process lists."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from arrears.application.handlers import users
from arrears.entrypoints.cli.book import DbOption, JsonFlag, services
from arrears.entrypoints.cli.output import console, emit_json, fail, user_errors

users_app = typer.Typer(help="Staff users of the web pages.", no_args_is_help=True)


@users_app.command("create")
def create(
    name: Annotated[str, typer.Argument(metavar="NAME", help="User name (1-20 letters, "
                                                             "digits, '.', '_', '-')")],
    role: Annotated[str, typer.Option(help=", ".join(r.value for r in users.STAFF_ROLES))],
    agency: Annotated[str | None, typer.Option(help="Agency id, for an agency user")] = None,
    collector: Annotated[str | None, typer.Option(
        help="Collector id, for a collector user")] = None,
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="Read the password from standard input")] = False,
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Create a staff user who signs in to the web pages with a password."""
    built = services(db)
    with user_errors():  # the options and the book first, so no password is typed in vain
        users.check_new_user(name, role, agency=agency, collector=collector,
                             uow_factory=built.web_uow_factory())
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        fail("--password-stdin", "give it to read the password from standard input")
    with user_errors():
        users.create_user(name, role, password, agency=agency, collector=collector,
                          uow_factory=built.web_uow_factory(), clock=built.clock)
    document = {"name": name, "role": role, "agency": agency, "collector": collector}
    emit_json(document) if as_json else console().print(f"user {name} ({role}) created")
