"""The `arrears` command starts at once (issue 15): its help and the light commands import none
of the heavy libraries the book, web and batch commands need, and the help that lists a lazy
command says what the command itself says."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer

from arrears.entrypoints.cli.lazy import LazyCommands
from arrears.entrypoints.cli.main import app

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
HEAVY = {"numpy", "pyarrow", "pandas", "sqlalchemy", "alembic", "psycopg", "jinja2", "fpdf",
         "pyspark", "matplotlib", "fastapi", "starlette", "uvicorn", "pydantic"}
# Runs the console script's code, then reports which top-level packages it imported.
PROBE = """
import json, sys
from arrears.entrypoints.cli.main import run
try:
    run(sys.argv[2:])
except SystemExit:
    pass
with open(sys.argv[1], "w") as report:
    json.dump(sorted(sys.modules), report)
"""
LIGHT = {
    "help": ["--help"],
    "compliance check": ["compliance", "check",
                         str(EXAMPLES / "compliance" / "cn-sms-allowed.json"),
                         "--facts", str(EXAMPLES / "compliance" / "cn-facts.json")],
    "schedule": ["schedule", "--principal", "1000.00", "--annual-rate", "0.18", "--terms", "3",
                 "--method", "equal_installment", "--start", "2026-01-15"],
    "loan status": ["loan", "status", str(EXAMPLES / "wld-daily-rate.json"),
                    "--as-of", "2026-02-16"],
}


def imported_by(argv: list[str], tmp_path: Path) -> set[str]:
    report = tmp_path / "modules.json"
    done = subprocess.run([sys.executable, "-c", PROBE, str(report), *argv],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return set(json.loads(report.read_text(encoding="utf-8")))


@pytest.mark.parametrize("name", LIGHT)
def test_light_commands_import_no_heavy_library(name: str, tmp_path: Path) -> None:
    modules = imported_by(LIGHT[name], tmp_path)
    assert {m.partition(".")[0] for m in modules} & HEAVY == set()
    assert not any(m == "arrears.bootstrap" or m.startswith("arrears.adapters.db")
                   for m in modules)


def test_help_imports_no_command_module(tmp_path: Path) -> None:
    modules = imported_by(["--help"], tmp_path)
    assert sorted(m for m in modules if m.startswith("arrears.entrypoints.cli.")) == [
        "arrears.entrypoints.cli.lazy", "arrears.entrypoints.cli.main",
        "arrears.entrypoints.cli.output"]


def _lazy_entries(command: object, path: tuple[str, ...]) -> Iterator[tuple[str, str, object]]:
    children = getattr(command, "commands", None)
    if children is None:
        return
    for name in children:
        if isinstance(children, LazyCommands) and name in children.table:
            yield " ".join((*path, name)), children.table[name].help, children[name]
        yield from _lazy_entries(children[name], (*path, name))


def test_every_listed_help_is_the_commands_own() -> None:
    entries = list(_lazy_entries(typer.main.get_command(app), ()))
    assert len(entries) > 30
    for name, listed, command in entries:
        own = inspect.cleandoc(getattr(command, "help", None) or "").split("\n\n")[0]
        assert listed == own, f"COMMANDS[{name!r}] lists a help that is not the command's"
