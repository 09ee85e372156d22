"""How every command reports: one JSON document with --json, a Rich table otherwise, and
user errors as exit code 2 with one line on stderr naming the field (DESIGN §8)."""

from __future__ import annotations

import decimal
import json
import os
import sys
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib.resources.abc import Traversable
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from typer.core import TyperGroup
from typer.exceptions import TyperException

from arrears.domain.errors import DomainError

if TYPE_CHECKING:
    from rich.console import Console

USER_ERROR_EXIT = 2
INTERNAL_ERROR_EXIT = 1
DEBUG_ENV = "ARREARS_DEBUG"


def console(width: int | None = None) -> Console:
    """Rich's console on stdout, `width` columns wide (default: the terminal's)."""
    from rich.console import Console  # only commands that print a table or text need Rich

    return Console(width=width)


def emit_json(document: Any) -> None:
    """Print one JSON document on stdout."""
    sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")


def fail(field: str, reason: str) -> NoReturn:
    """Report a user error: one line on stderr, exit code 2, no traceback."""
    sys.stderr.write(f"error: {field}: {reason}\n")
    raise typer.Exit(USER_ERROR_EXIT)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn domain errors raised inside the block into the one-line exit-2 report."""
    try:
        yield
    except DomainError as error:
        fail(error.field, error.reason)


def read_text_file(path: Traversable, field: str, *, encoding: str = "utf-8") -> str:
    """A text file's content, or the one-line user error naming `field`."""
    try:
        return path.read_text(encoding=encoding)
    except OSError as error:
        fail(field, f"cannot read {path}: {error.strerror or error}")
    except UnicodeDecodeError as error:
        fail(field, f"{path} is not UTF-8 text (byte {error.start})")


class _BadMember(ValueError):
    pass


def _members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json.loads keeps the last of two equal names; a file saying two things is refused.
    document: dict[str, Any] = {}
    for name, value in pairs:
        if name in document:
            raise _BadMember(f"names {name!r} twice in one object")
        if "\x00" in name or (isinstance(value, str) and "\x00" in value):
            raise _BadMember(f"{name!r} contains a NUL character")
        document[name] = value
    return document


def _no_constant(name: str) -> Any:
    raise _BadMember(f"{name} is not a JSON number")


def read_json_file(path: Traversable, field: str) -> Any:
    """A strict JSON document from a UTF-8 file (no repeated member names, no NaN or
    Infinity), or the one-line user error naming `field`."""
    text = read_text_file(path, field)
    try:
        return json.loads(text, object_pairs_hook=_members, parse_constant=_no_constant)
    except json.JSONDecodeError as error:
        fail(field, f"{path} is not valid JSON (line {error.lineno}, column {error.colno})")
    except _BadMember as error:
        fail(field, f"{path} {error}")
    except RecursionError:  # the decoder recurses once per level of nesting
        fail(field, f"{path} is nested too deeply")
    except ValueError as error:  # e.g. an integer past the interpreter's digit limit
        fail(field, f"{path} is not usable JSON: {error}")


def run_guarded(command: TyperGroup, argv: Sequence[str] | None, prog_name: str) -> NoReturn:
    """Run `command` and exit. Bad input of any kind ends in one line on stderr naming the
    field and exit code 2; a bug ends in `error: internal: …` and exit code 1, with the
    traceback only when ARREARS_DEBUG is set. No command prints a traceback otherwise."""
    try:
        code = command.main(args=list(argv) if argv is not None else None,
                            prog_name=prog_name, standalone_mode=False)
    except TyperException as error:  # click's usage errors, as vendored by Typer
        message = error.format_message()
        if not message:  # a group run with no command: its help, just shown, says it all
            sys.exit(USER_ERROR_EXIT)
        _exit(USER_ERROR_EXIT, f"error: {message}")
    except typer.Abort:
        sys.exit(1)
    except (DomainError, *_if_loaded("arrears.adapters.db.engine", "StoreUnavailable")) as error:
        # Both name the field and the reason.
        _exit(USER_ERROR_EXIT, f"error: {error.field}: {error.reason}")
    # The families below are refused where the input is read, naming its field; these nets
    # catch an entry point added without that care, so it still says what was wrong.
    except UnicodeDecodeError as error:
        _exit(USER_ERROR_EXIT, f"error: input: is not UTF-8 text (byte {error.start})")
    except RecursionError:
        _exit(USER_ERROR_EXIT, "error: input: is nested too deeply")
    except (OverflowError, decimal.Overflow, decimal.InvalidOperation) as error:
        _exit(USER_ERROR_EXIT, f"error: input: a date or number is out of range "
                               f"({type(error).__name__}: {_one_line(error)})")
    except _if_loaded("sqlalchemy.exc", "OperationalError") as error:
        _exit(USER_ERROR_EXIT, f"error: db: {_one_line(error.orig or error)}")
    except OSError as error:
        where = error.filename if error.filename is not None else "file"
        _exit(USER_ERROR_EXIT, f"error: {where}: {error.strerror or _one_line(error)}")
    except Exception as error:  # a bug: say so, and keep it visible
        if os.environ.get(DEBUG_ENV):
            traceback.print_exc()
        _exit(INTERNAL_ERROR_EXIT,
              f"error: internal: {type(error).__name__}: {_one_line(error)}\n"
              f"hint: this is a bug in arrears; rerun with {DEBUG_ENV}=1 for the traceback "
              f"and report it with the command")
    sys.exit(code if isinstance(code, int) else 0)


def _if_loaded(module: str, name: str) -> tuple[Any, ...]:
    """The exception class `module.name` when a command has imported `module`, else none: a
    command that never loaded the database layer cannot raise its errors, and not importing it
    here keeps the start of the light commands fast."""
    loaded = sys.modules.get(module)
    return (getattr(loaded, name),) if loaded is not None else ()


def _one_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _exit(code: int, message: str) -> NoReturn:
    sys.stderr.write(message + "\n")
    sys.exit(code)
