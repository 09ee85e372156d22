"""`arrears plans …` and `pay --prepayment` end to end on a SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from arrears import bootstrap
from arrears.application.access import Role
from arrears.application.handlers import plans
from arrears.config import Settings
from arrears.entrypoints.cli.main import run

EXAMPLES = Path(__file__).parents[2] / "examples"


def invoke(capsys, *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        run(list(argv))
    captured = capsys.readouterr()
    return int(exit_info.value.code or 0), captured.out, captured.err


@pytest.fixture
def db(tmp_path, capsys) -> str:
    url = f"sqlite:///{tmp_path / 'book.db'}"
    for argv in (("init", "--business-date", "2026-02-02"),
                 ("import", "loans", str(EXAMPLES / "loans.csv")),
                 ("eod", "--through", "2026-03-01")):
        assert invoke(capsys, *argv, "--db", url, "--json")[0] == 0
    return url


def test_propose_prints_the_preview_and_approve_applies_it(capsys, db):
    code, out, err = invoke(capsys, "plans", "propose", "WLD-1001", "--kind", "reage",
                            "--terms", "6", "--start", "2026-04-15", "--capitalise",
                            "compound", "--waive-penalty", "1", "--by", "C-01", "--db", db,
                            "--json")
    assert code == 0, err
    shown = json.loads(out)
    assert {"plan_id", "kind", "status", "old_schedule", "new_schedule",
            "borrower_total_before", "borrower_total_after", "waived", "apr"} <= set(shown)
    assert shown["status"] == "proposed" and len(shown["new_schedule"]) == 6
    assert shown["new_schedule"][0]["due_date"] == "2026-04-15"
    assert shown["waived"]["penalty"] != "0.00" and shown["capitalised"]["compound"] != "0.00"
    assert set(shown["apr"]) == {"monthly_irr", "apr_nominal", "apr_effective", "cap"}
    plan_id = shown["plan_id"]
    for proposer in ("C-01", "cli:C-01"):  # the CLI's namespace, typed or not
        code, _, err = invoke(capsys, "plans", "approve", plan_id, "--by", proposer, "--db", db)
        assert code == 2 and err.startswith("error: --by: ")
    code, out, err = invoke(capsys, "plans", "approve", plan_id, "--by", "C-02", "--db", db,
                            "--json")
    assert code == 0 and json.loads(out)["status"] == "approved", err
    code, out, _ = invoke(capsys, "plans", "list", "--loan", "WLD-1001", "--db", db, "--json")
    assert [p["status"] for p in json.loads(out)["plans"]] == ["approved"]
    code, out, _ = invoke(capsys, "plans", "show", plan_id, "--db", db, "--json")
    assert json.loads(out)["preview"]["old_schedule"][0]["due_date"] == "2026-02-15"
    assert (json.loads(out)["proposed_by"], json.loads(out)["decided_by"]) == (
        "cli:C-01", "cli:C-02")
    code, out, _ = invoke(capsys, "report", "portfolio", "--db", db, "--json")
    assert json.loads(out)["restructured"]["by_kind"] == {"reage": 1}
    code, out, _ = invoke(capsys, "plans", "undo", plan_id, "--by", "S-01", "--db", db, "--json")
    assert code == 0 and json.loads(out)["status"] == "undone"


@pytest.mark.parametrize(("argv", "field"), [
    (("--kind", "holiday", "--until", "2026-03-20", "--months", "2"), "--months"),
    (("--kind", "reage", "--start", "9999-12-31"), "--start"),
    (("--kind", "reage", "--terms", "6", "--rate", "0.30"), "apr.cap"),
    (("--kind", "reage", "--terms", "6", "--capitalise", "penalty", "--waive-penalty", "1"),
     "--waive-penalty"),
])
def test_a_refused_plan_exits_2_naming_the_rule(capsys, db, argv, field):
    code, out, err = invoke(capsys, "plans", "propose", "WLD-1001", *argv, "--db", db)
    assert code == 2 and err.startswith(f"error: {field}: ") and out == ""
    code, out, _ = invoke(capsys, "plans", "list", "--db", db, "--json")
    assert json.loads(out) == {"plans": []}


def test_pay_prepayment_reduces_future_principal(capsys, db):
    code, out, err = invoke(capsys, "pay", "WLD-1002", "3000.00", "--on", "2026-03-02",
                            "--key", "pre-1", "--prepayment", "--db", db, "--json")
    assert code == 0, err
    assert json.loads(out)["to_credit"] == "0.00"
    assert json.loads(out)["to_principal"] != "0.00"


@pytest.mark.parametrize("by", ["sup", "web:sup"])
def test_a_name_typed_at_the_shell_is_not_the_web_user_of_that_name(capsys, db, by):
    """`--by sup` cannot be checked, so it is `cli:sup`: the web user sup (`web:sup`) is
    another person to maker-checker, and `--by web:sup` does not pass for them either."""
    code, out, err = invoke(capsys, "plans", "propose", "WLD-1001", "--kind", "deferral",
                            "--months", "1", "--by", by, "--db", db, "--json")
    assert code == 0, err
    plan_id = json.loads(out)["plan_id"]
    built = bootstrap.build(Settings(database_url=db))
    shown = plans.approve(plan_id, by="web:sup", role=Role.SUPERVISOR,
                          uow_factory=built.uow_factory, clock=built.clock)
    assert shown["status"] == "approved"
    code, out, _ = invoke(capsys, "plans", "show", plan_id, "--db", db, "--json")
    assert json.loads(out)["proposed_by"] == f"cli:{by}"


def test_an_empty_by_is_refused(capsys, db):
    code, out, err = invoke(capsys, "plans", "propose", "WLD-1001", "--kind", "deferral",
                            "--months", "1", "--by", " ", "--db", db)
    assert code == 2 and err.startswith("error: --by: ") and out == ""
