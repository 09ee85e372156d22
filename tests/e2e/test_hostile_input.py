"""Hostile input, family by family, against every command the `arrears` app has (issue 16
item 13): each must end in exit code 2 and one `error: <field>: <reason>` line naming what was
wrong, never a traceback.

The commands and their parameters are read from the Typer app itself, so a command added later
is covered by every family whose kind of parameter it takes. A required parameter needs a
valid sample (`SAMPLES`) so that the hostile value, not a missing one, is what gets refused;
`test_every_required_parameter_has_a_sample` says which one to add.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pytest
import sqlalchemy as sa
import typer

from arrears.entrypoints.cli import calculators
from arrears.entrypoints.cli.main import app, run

EXAMPLES = Path(__file__).parents[2] / "examples"
STRATEGY = Path(str(resources.files("arrears.application") / "strategies" / "wld-daily.toml"))
POSTGRES_URL = os.environ.get("ARREARS_TEST_POSTGRES_URL")


@dataclass(frozen=True)
class Param:
    command: tuple[str, ...]
    name: str  # "--as-of", or an argument's metavar such as "LOAN_ID"
    required: bool
    kind: str  # "flag", "int", "float", "path" or "text"
    help: str


def _kind(param: object) -> str:
    if getattr(param, "is_flag", False):
        return "flag"
    annotation = str(getattr(getattr(param, "type_descriptor", None), "annotation", "")).lower()
    if "list[" in annotation:
        return "text"
    for kind in ("int", "float", "path"):
        if re.search(rf"\b{kind}\b", annotation):
            return kind
    return "text"


def _walk(command: object, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], object]]:
    children = getattr(command, "commands", None)
    if children is None:
        yield path, command
        return
    for name, child in children.items():
        yield from _walk(child, (*path, name))


def _params() -> list[Param]:
    found = []
    for path, command in _walk(typer.main.get_command(app), ()):
        for param in getattr(command, "params", []):
            if param.name == "help":
                continue
            is_option = param.param_type_name == "option"
            name = param.opts[0] if is_option else (param.metavar or param.name.upper())
            found.append(Param(command=path, name=name, required=bool(param.required),
                               kind=_kind(param), help=getattr(param, "help", "") or ""))
    return found


PARAMS = _params()
COMMANDS = sorted({p.command for p in PARAMS} | {
    path for path, _ in _walk(typer.main.get_command(app), ())})

# Commands that never return by themselves, or rebuild a whole book, are left out of the
# families that would run them to the end.
LONG_RUNNING = {("serve",): "runs the HTTP server until stopped",
                ("demo",): "simulates a whole book; its options are checked below"}

# A valid value for every required parameter, by (command, name) first and then by name.
SAMPLES: dict[tuple[tuple[str, ...], str] | str, str] = {
    "--business-date": "2026-02-02", "LOAN_ID": "WLD-1001", "AMOUNT": "10.00",
    "--on": "2026-02-16", "--key": "k-hostile", "KEY": "k-hostile",
    "--through": "2026-02-17", "--principal": "1000.00", "--annual-rate": "0.18",
    "--terms": "12", "--method": "equal_installment", "--start": "2026-01-15",
    "LOAN.json": str(EXAMPLES / "wld-daily-rate.json"), "--as-of": "2026-02-16",
    "FILE.csv": str(EXAMPLES / "loans.csv"),
    (("import", "payments"), "FILE.csv"): str(EXAMPLES / "payments.csv"),
    "ACTION.json": str(EXAMPLES / "compliance" / "cn-sms-allowed.json"),
    "--facts": str(EXAMPLES / "compliance" / "cn-facts.json"), "--day": "2026-02-16",
    "STRATEGY.toml": str(STRATEGY), "AGENCY_ID": "AG-1", "--name": "Name",
    "--licence": "L-1", "--capacity": "10", "--commission-rate": "0.1",
    (("agencies", "add"), "--valid-from"): "2025-01-01",
    (("agencies", "add"), "--valid-until"): "2027-12-31",
    "--actor": "c-1", "--outcome": "no_answer", "--at": "2026-02-16T10:00:00+08:00",
    "--amount": "10.00", "--due": "2026-03-01", "AUTHORIZATION_ID": "VA-1",
    "--loan": "WLD-1001", "--collector": "c-1", "--issued-at": "2026-02-16T09:00:00+08:00",
    "--valid-from": "2026-02-01T00:00:00+08:00", "--valid-until": "2026-12-01T00:00:00+08:00",
    "CASE_ID": "1", (("agencies", "place"), "--agency"): "AG-1",
    "COLLECTOR_ID": "c-1", "CREDENTIAL_ID": "cr-1", "--bucket": "M1", "--debt": "WLD-1001",
    "--scope": "call", (("complaints", "file"), "--source"): "borrower",
    (("complaints", "export"), "--out"): tempfile.gettempdir(), "TOKEN": "not-a-token",
    "ID_OR_TOKEN": "cr-1", "KID": "k-1",
    "BORROWER_ID": "B-1001", "--out": "hostile-bundle.zip", "BUNDLE.zip": "missing.zip",
    "NAME": "hostile", "--role": "collector", "ID": "1",
    "--format": "metro2", "--month": "2026-01", "--channel": "sms", "--from": "21:00",
    "--to": "22:00", "PREFERENCE_ID": "1", "--sent-on": "2026-02-10",
    "FILE": "missing-bureau-file.txt", "--category": "harassment", "--summary": "Summary",
    "--reason": "Reason", "--text": "Text", "PLAN": "PL-000001", "--by": "c-2",
    (("disputes", "open"), "--kind"): "dispute", (("disputes", "open"), "--channel"): "mail",
    (("disputes", "open"), "--received-at"): "2026-02-16T10:00:00+08:00",
    (("disputes", "answer"), "--outcome"): "verified",
    "LOAN": "WLD-1001", (("plans", "propose"), "--kind"): "reage",
    "--strategy": str(STRATEGY), "--challenger": str(STRATEGY),
    "URL": "https://lender.example/hook",
}


# Optional parameters a command needs together with its required ones to get past its own
# checks (a CN agency needs a fixed fee; a statement needs a loan; a collector user names its
# collector).
EXTRA: dict[tuple[str, ...], dict[str, str]] = {
    ("agencies", "add"): {"--fixed-fee": "100"},
    ("apr",): {"--principal": "1000", "--payment": "100", "--terms": "12"},
    ("apikeys", "create"): {"--collector": "c-1"},
    ("statement",): {"LOAN_ID": "WLD-1001"},
    ("users", "create"): {"--collector": "c-1"},
    ("worker",): {"--until-idle": "on"},
    ("webhooks", "deliver"): {"--until-idle": "on"},
    ("simulate",): {"--loans": "5", "--days": "3", "--runs": "1"},
}
# ...and where the parameter under test takes the place of some of them (a statement of a
# loan file names no LOAN_ID but needs --as-of).
EXTRA_INSTEAD: dict[tuple[tuple[str, ...], str], dict[str, str]] = {
    (("statement",), "--file"): {"--as-of": "2026-02-16"},
}


def sample(param: Param) -> str | None:
    return SAMPLES.get((param.command, param.name), SAMPLES.get(param.name))


def argv_for(command: tuple[str, ...], **values: str) -> list[str]:
    """The command line with `values` and a sample for every other required parameter."""
    argv: list[str] = list(command)
    arguments: list[str] = []
    extra = next((EXTRA_INSTEAD[(command, name)] for name in values
                  if (command, name) in EXTRA_INSTEAD), EXTRA.get(command, {}))
    values = {**extra, **values}
    for param in (p for p in PARAMS if p.command == command):
        value = values.pop(param.name, None)
        if value is None and param.required:
            value = sample(param) or "x"
        if value is None:
            continue
        if param.kind == "flag":
            argv.append(param.name)
        elif param.name.startswith("-"):
            argv += [param.name, value]
        else:
            arguments.append(value)
    assert not values, f"{' '.join(command)} has no parameter {sorted(values)}"
    return argv[:len(command)] + arguments + argv[len(command):]


def invoke(capsys, argv: list[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        run(argv)
    captured = capsys.readouterr()
    return int(exit_info.value.code or 0), captured.out, captured.err


def _normal(text: str) -> str:
    return text.lower().lstrip("-").replace("-", "_")


def assert_refused(capsys, argv: list[str], field: str) -> str:
    """Exit 2, one `error:` line on stderr naming `field`, no traceback, nothing on stdout."""
    code, out, err = invoke(capsys, argv)
    where = " ".join(argv)
    assert "Traceback" not in err + out, where
    assert code == 2, f"{where}: exit {code}, stderr {err!r}"
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), f"{where}: {err!r}"
    head = _normal(lines[0].removeprefix("error: ").rsplit(": ", 1)[0])
    wanted = _normal(field.split(".")[0] if field.endswith((".json", ".csv", ".toml")) else field)
    assert wanted in head, f"{where}: {lines[0]!r} does not name {field}"
    assert out == "", where
    return lines[0]


@pytest.fixture(scope="module")
def booked(tmp_path_factory) -> str:
    """The example loans boarded on 2026-02-02 and closed through 2026-02-16."""
    db = f"sqlite:///{tmp_path_factory.mktemp('book') / 'book.db'}"
    for argv in (["init", "--business-date", "2026-02-02"],
                 ["import", "loans", str(EXAMPLES / "loans.csv")],
                 ["eod", "--through", "2026-02-16"]):
        with pytest.raises(SystemExit) as exit_info:
            run([*argv, "--db", db, "--json"])
        assert exit_info.value.code in (0, None)
    return db


def with_db(param: Param) -> bool:
    return any(p.command == param.command and p.name == "--db" for p in PARAMS)


def test_every_required_parameter_has_a_sample():
    missing = [f"{' '.join(p.command)} {p.name}" for p in PARAMS
               if p.required and p.kind != "flag" and sample(p) is None]
    assert missing == [], f"add a valid sample to SAMPLES for: {missing}"


# --- extreme dates -------------------------------------------------------------------------

DATE_NAME = re.compile(r"date|day$|as-of|through|start|due|valid-|(^|-)at$|(^|-)on$")
DATE_PARAMS = [p for p in PARAMS if p.kind == "text" and DATE_NAME.search(p.name)
               and p.command not in LONG_RUNNING]
EXTREMES = ["0001-01-01", "9999-12-31", "0001-01-01T00:00:00+05:00",
            "9999-12-31T23:59:59-05:00"]


@pytest.mark.parametrize("param", DATE_PARAMS, ids=lambda p: f"{' '.join(p.command)} {p.name}")
@pytest.mark.parametrize("value", EXTREMES)
def test_a_date_at_year_1_or_9999_is_refused_naming_the_option(capsys, booked, param, value):
    extra = {"--db": booked} if with_db(param) else {}
    assert_refused(capsys, argv_for(param.command, **{param.name: value}, **extra), param.name)


def test_the_demo_start_date_is_checked_too(capsys, tmp_path):
    assert_refused(capsys, ["demo", "--start", "9999-12-01", "--db",
                            f"sqlite:///{tmp_path / 'demo.db'}"], "--start")


# --- huge, lenient and non-numbers ---------------------------------------------------------

AMOUNT_NAME = re.compile(r"amount|principal|payment|rate$|cap$", re.IGNORECASE)
AMOUNT_PARAMS = [p for p in PARAMS if p.kind == "text" and AMOUNT_NAME.search(p.name)
                 and p.command not in LONG_RUNNING]
# Integers any size of which is meaningful.
ANY_INTEGER = {(("demo",), "--seed"), (("simulate",), "--seed")}
INT_PARAMS = [p for p in PARAMS if p.kind == "int" and (p.command, p.name) not in ANY_INTEGER
              and p.command not in LONG_RUNNING]


@pytest.mark.parametrize("param", AMOUNT_PARAMS, ids=lambda p: f"{' '.join(p.command)} {p.name}")
@pytest.mark.parametrize("value", ["1e30", "１０００", "1_000", "NaN", "Infinity"])
def test_an_amount_or_rate_that_is_huge_or_not_plain_ascii_is_refused(capsys, booked, param,
                                                                       value):
    extra = {"--db": booked} if with_db(param) else {}
    assert_refused(capsys, argv_for(param.command, **{param.name: value}, **extra), param.name)


@pytest.mark.parametrize("param", INT_PARAMS, ids=lambda p: f"{' '.join(p.command)} {p.name}")
def test_a_whole_number_of_31_digits_is_refused(capsys, booked, param):
    extra = {"--db": booked} if with_db(param) else {}
    assert_refused(capsys, argv_for(param.command, **{param.name: "1" + "0" * 30}, **extra),
                   param.name)


@pytest.mark.parametrize("option", ["--loans", "--days", "--season-months"])
def test_demo_sizes_are_bounded(capsys, tmp_path, option):
    assert_refused(capsys, ["demo", option, "1" + "0" * 30, "--db",
                            f"sqlite:///{tmp_path / 'demo.db'}"], option)


# --- files that are not UTF-8, nest 100,000 levels or repeat a member ----------------------

OUTPUTS = {"--out", "--sinks", "--sink-dir", "--rejects"}
FILE_PARAMS = [p for p in PARAMS if p.kind == "path" and p.name not in OUTPUTS
               and p.command not in LONG_RUNNING]
HOSTILE_FILES = {
    "not-utf-8": b'{"loan_id": "\xff\xfe"}\n',
    "nested-100000": b"[" * 100_000 + b"]" * 100_000,
    "repeated-member": b'{"loan_id": "A", "loan_id": "B"}',
}


@pytest.mark.parametrize("param", FILE_PARAMS, ids=lambda p: f"{' '.join(p.command)} {p.name}")
@pytest.mark.parametrize("content", sorted(HOSTILE_FILES))
def test_a_hostile_input_file_is_refused_naming_it(capsys, booked, tmp_path, param, content):
    if content == "repeated-member" and not param.name.lower().endswith(".json") \
            and "json" not in param.help.lower():
        pytest.skip("only JSON has members")
    hostile = tmp_path / "hostile"
    hostile.write_bytes(HOSTILE_FILES[content])
    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"  # init opens a new book only
    extra = {"--db": fresh if param.command == ("init",) else booked} if with_db(param) else {}
    assert_refused(capsys, argv_for(param.command, **{param.name: str(hostile)}, **extra),
                   param.name)


# --- the database ---------------------------------------------------------------------------

DB_COMMANDS = sorted({p.command for p in PARAMS if p.name == "--db"} - set(LONG_RUNNING))


def _bad_databases(tmp_path: Path) -> dict[str, tuple[str, str]]:
    empty = tmp_path / "empty.db"
    sa.create_engine(f"sqlite:///{empty}").connect().close()
    booked_copy = tmp_path / "booked.db"
    return {
        "uninitialised": (f"sqlite:///{empty}", "db"),
        "unparseable": ("not a url", "--db"),
        "no-driver": ("postgresql+nodriver://user:s3cret@127.0.0.1/x", "--db"),
        "unreachable": ("postgresql+psycopg://user:s3cret@127.0.0.1:1/x", "--db"),
        "missing-folder": (f"sqlite:///{tmp_path / 'no' / 'such' / 'book.db'}", "--db"),
        "missing-file": (f"sqlite:///{tmp_path / 'mistyped.db'}", "--db"),
        "read-only": (f"sqlite:///file:{booked_copy}?mode=ro&uri=true", "--db"),
    }


@pytest.mark.parametrize("command", DB_COMMANDS, ids=" ".join)
@pytest.mark.parametrize("case", ["uninitialised", "unparseable", "no-driver", "unreachable",
                                  "missing-folder", "missing-file"])
def test_a_database_that_cannot_serve_is_one_line_naming_it(capsys, tmp_path, command, case):
    if command == ("init",) and case in ("uninitialised", "missing-file"):
        pytest.skip("init is how a book is initialised")
    url, field = _bad_databases(tmp_path)[case]
    line = assert_refused(capsys, argv_for(command, **{"--db": url}), field)
    assert "s3cret" not in line
    # A mistyped path is not a new book: nothing is left behind to be mistaken for one.
    assert not list(tmp_path.glob("mistyped.db*"))


def test_a_read_only_database_is_one_line_naming_it(capsys, booked, tmp_path):
    copy = tmp_path / "booked.db"
    copy.write_bytes(Path(booked.removeprefix("sqlite:///")).read_bytes())
    url = f"sqlite:///file:{copy}?mode=ro&uri=true"
    assert_refused(capsys, ["pay", "WLD-1001", "10.00", "--on", "2026-02-16", "--key", "ro-1",
                            "--db", url], "--db")


@pytest.fixture
def postgres_schema() -> Iterator[str]:
    if not POSTGRES_URL:
        pytest.skip("ARREARS_TEST_POSTGRES_URL is not set")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


def test_a_nul_character_bound_for_postgresql_is_refused_naming_the_field(
        capsys, postgres_schema, tmp_path):
    empty = ["report", "portfolio", "--db", postgres_schema]
    assert_refused(capsys, empty, "db")
    assert invoke(capsys, ["init", "--business-date", "2026-02-02", "--db", postgres_schema]
                  )[0] == 0
    lines = (EXAMPLES / "loans.csv").read_text(encoding="utf-8").splitlines()
    nul = tmp_path / "nul.csv"
    nul.write_text(lines[0] + "\n" + lines[1].replace("张伟", "张\x00伟") + "\n",
                   encoding="utf-8")
    assert_refused(capsys, ["import", "loans", str(nul), "--db", postgres_schema], "name")
    products = json.loads((EXAMPLES.parent / "src" / "arrears" / "default_products.json")
                          .read_text(encoding="utf-8"))
    products["WLD-DAILY"]["name"] = "daily\x00"
    hostile = tmp_path / "products.json"
    hostile.write_text(json.dumps(products), encoding="utf-8")
    assert_refused(capsys, ["init", "--business-date", "2026-02-02", "--products", str(hostile),
                            "--db", postgres_schema], "--products")


# --- option values and file contents, one row each -----------------------------------------

def _loan(**changes: object) -> str:
    document = json.loads((EXAMPLES / "wld-daily-rate.json").read_text(encoding="utf-8"))
    document.update(changes)
    return json.dumps(document)


CSV_LINES = (EXAMPLES / "loans.csv").read_text(encoding="utf-8").splitlines()
ROWS = [
    # (argv with {file} for the file written, its content, environment, field)
    (["worker", "--until-idle", "--backoff-seconds", "nan"], None, {}, "--backoff-seconds"),
    (["worker", "--until-idle", "--http-timeout", "-1"], None, {}, "--http-timeout"),
    (["worker", "--until-idle"], None, {"ARREARS_SMTP": "host:abc"}, "ARREARS_SMTP"),
    (["worker", "--until-idle", "--smtp", "host:99999"], None, {}, "--smtp"),
    (["agencies", "add", "AG-1", "--name", "n", "--licence", "l", "--valid-from", "2025-01-01",
      "--valid-until", "2027-12-31", "--capacity", "5", "--commission-rate", "NaN",
      "--fixed-fee", "100"], None, {}, "commission_rate"),
    (["apr", "--principal", "1000", "--payment", "100", "--terms", "12", "--cap", "-0.1"],
     None, {}, "--cap"),
    (["apr", "--principal", "1000", "--payment", "100", "--terms", "1000000"], None, {},
     "--terms"),
    (["loan", "status", "{file}", "--as-of", "2026-05-01"],
     _loan(disbursed_on="9999-12-01"), {}, "disbursed_on"),
    (["loan", "status", "{file}", "--as-of", "2026-05-01"],
     _loan(principal="1e30"), {}, "principal"),
    (["loan", "status", "{file}", "--as-of", "2026-05-01"],
     _loan(payments=[{"key": "k", "on": "2026-03-01", "amount": "1e30"}]), {},
     "payments[0].amount"),
    (["loan", "status", "{file}", "--as-of", "2026-05-01"],
     _loan(payments=[{"key": "k", "on": "9999-12-31", "amount": "1.00"}]), {},
     "payments[0].on"),
    (["loan", "status", "{file}", "--as-of", "2026-05-01"],
     _loan(principal="1_000.00"), {}, "principal"),
    (["import", "loans", "{file}"],
     f"{CSV_LINES[0]}\n{CSV_LINES[1].replace('2026-01-15', '9999-12-01')}\n", {},
     "disbursed_on"),
    (["import", "loans", "{file}"],
     f"{CSV_LINES[0]}\n{CSV_LINES[1].replace(',10000.00,', ',１００００,')}\n", {},
     "principal"),
    (["compliance", "check", "{file}", "--facts", str(EXAMPLES / "compliance" / "cn-facts.json")],
     json.dumps({**json.loads((EXAMPLES / "compliance" / "cn-sms-allowed.json").read_text(
         encoding="utf-8")), "at": "9999-12-31T23:59:59-05:00"}), {}, "action.at"),
    (["compliance", "check", str(EXAMPLES / "compliance" / "cn-sms-allowed.json"), "--facts",
      "{file}"],
     json.dumps({"debts": [{"debt_id": "D-1", "dpd": -3}]}), {}, "facts.debts[0].dpd"),
    (["strategies", "check", "{file}"],
     'name = "s"\nproduct = "P"\n[[champion]]\nname = "a"\nkind = "sms"\nday = 1\n'
     'template = "no-such-template"\n', {}, "strategy.champion[0].template"),
]


@pytest.mark.parametrize(("argv", "content", "env", "field"), ROWS,
                         ids=[f"{' '.join(r[0][:2])} {r[3]}" for r in ROWS])
def test_a_bad_value_is_one_line_naming_it(capsys, booked, tmp_path, monkeypatch, argv, content,
                                          env, field):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    written = tmp_path / "input"
    if content is not None:
        written.write_text(content, encoding="utf-8")
    command = [str(written) if a == "{file}" else a for a in argv]
    if any(p.command == tuple(argv[:2]) or p.command == (argv[0],) for p in PARAMS
           if p.name == "--db"):
        command += ["--db", booked]
    assert_refused(capsys, command, field)


def test_a_bug_is_reported_as_internal_without_a_traceback(capsys, monkeypatch):
    def broken(*_args: object, **_kwargs: object) -> None:
        raise TypeError("a deliberate bug")

    monkeypatch.setattr(calculators, "build_schedule", broken)
    monkeypatch.delenv("ARREARS_DEBUG", raising=False)
    code, out, err = invoke(capsys, ["schedule", "--principal", "1000", "--annual-rate", "0.1",
                                     "--terms", "12", "--method", "equal_installment",
                                     "--start", "2026-01-15"])
    assert code == 1 and "Traceback" not in err
    assert err.splitlines()[0] == "error: internal: TypeError: a deliberate bug"
    assert "ARREARS_DEBUG=1" in err


@pytest.mark.parametrize("argv", [[], ["compliance"], ["loan"]])
def test_a_group_run_without_a_command_shows_its_help_and_no_empty_error(capsys, argv):
    code, out, err = invoke(capsys, argv)
    assert code == 2
    assert "Usage:" in out and "Commands" in out
    assert err == ""
