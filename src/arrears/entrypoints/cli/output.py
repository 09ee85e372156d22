"""How every command reports: one JSON document with --json, a Rich table otherwise, and
user errors as exit code 2 with one line on stderr naming the field (DESIGN §8)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console

from arrears.domain.errors import DomainError

USER_ERROR_EXIT = 2


def console() -> Console:
    return Console()


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


def read_json_file(path: Path, field: str) -> Any:
    """A JSON document from a file, or the one-line user error naming `field`."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        fail(field, f"cannot read {path}: {error.strerror or error}")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        fail(field, f"{path} is not valid JSON (line {error.lineno}, column {error.colno})")
