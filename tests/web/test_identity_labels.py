"""The `who` macro names each kind of recorded identity for a reader: a collector's ref as it
is, everyone else by their kind, never a raw `strategy:` / `cli:` / `book` value."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest

import arrears.entrypoints.web as web

TEMPLATES = Path(web.__file__).parent / "templates"


def _who(identity: str) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
    env.globals["_"] = lambda text, **values: text.format(**values)
    return env.from_string('{% from "_identity.html" import who %}{{ who(i) }}').render(
        i=identity)


@pytest.mark.parametrize(("identity", "shown"), [
    ("C-01", "C-01"), ("", "the borrower"), ("borrower:B-1", "the borrower"),
    ("agency:AG-1", "agency AG-1"), ("web:sup", "staff user sup"), ("key:K-1", "API key K-1"),
    ("strategy:offering", "strategy offering"), ("cli:S-01", "command line (S-01)"),
    ("book", "the book"),
])
def test_each_kind_of_identity_is_named_for_a_reader(identity: str, shown: str) -> None:
    assert _who(identity) == shown
