"""The operator commands end to end on a SQLite file, through the console entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from arrears.entrypoints.cli.main import run

EXAMPLES = Path(__file__).parents[2] / "examples"


def invoke(capsys, *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        run(list(argv))
    captured = capsys.readouterr()
    return int(exit_info.value.code or 0), captured.out, captured.err


@pytest.fixture
def db(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'book.db'}"


def test_operator_day(capsys, db):
    code, out, _ = invoke(capsys, "init", "--business-date", "2026-02-02", "--db", db, "--json")
    assert code == 0 and json.loads(out)["open_business_date"] == "2026-02-02"
    code, out, _ = invoke(capsys, "import", "loans", str(EXAMPLES / "loans.csv"), "--db", db,
                          "--json")
    assert code == 0 and json.loads(out) == {"imported": 4, "new_borrowers": 3}
    code, out, _ = invoke(capsys, "eod", "--through", "2026-02-14", "--db", db, "--json")
    assert code == 0 and len(json.loads(out)["days"]) == 13
    code, out, _ = invoke(capsys, "pay", "WLD-1001", "916.80", "--on", "2026-02-15", "--key",
                          "wx-1", "--db", db, "--json")
    assert code == 0
    paid = json.loads(out)
    assert paid["duplicate"] is False and paid["to_interest"] == "155.00"
    code, out, _ = invoke(capsys, "pay", "WLD-1001", "916.80", "--on", "2026-02-15", "--key",
                          "wx-1", "--db", db, "--json")
    assert code == 0 and json.loads(out)["duplicate"] is True
    code, out, _ = invoke(capsys, "eod", "--through", "2026-04-14", "--db", db, "--json")
    assert code == 0
    code, out, _ = invoke(capsys, "loan", "show", "WLD-1001", "--db", db, "--json")
    shown = json.loads(out)
    assert (shown["dpd"], shown["bucket"]) == (30, "M1")
    assert shown["borrower"]["national_id"].endswith("1234")
    assert "110101" not in shown["borrower"]["national_id"]
    code, out, _ = invoke(capsys, "report", "portfolio", "--as-of", "2026-04-14", "--db", db,
                          "--json")
    report = json.loads(out)
    assert report["as_of"] == "2026-04-14" and report["loans"] == 4
    assert set(report["buckets"]["M1"]) == {"loans", "principal"}
    code, out, _ = invoke(capsys, "payoff", "WLD-1002", "--key", "settle-1", "--db", db,
                          "--json")
    assert code == 0
    code, out, _ = invoke(capsys, "loan", "show", "WLD-1002", "--db", db, "--json")
    assert json.loads(out)["status"] == "settled"


def test_import_with_a_bad_row_lists_it_and_imports_nothing(capsys, db, tmp_path):
    invoke(capsys, "init", "--business-date", "2026-02-02", "--db", db)
    bad = tmp_path / "bad.csv"
    lines = (EXAMPLES / "loans.csv").read_text().splitlines()
    lines[2] = lines[2].replace(",5000.00,", ",five thousand,")
    bad.write_text("\n".join(lines) + "\n")
    code, _, err = invoke(capsys, "import", "loans", str(bad), "--db", db)
    assert code == 2
    assert err.strip() == "error: line 3: principal: 'five thousand' is not a decimal number"
    code, out, _ = invoke(capsys, "report", "portfolio", "--db", db, "--json")
    assert code == 2 or json.loads(out)["loans"] == 0


def test_user_errors_are_one_line(capsys, db):
    invoke(capsys, "init", "--business-date", "2026-02-02", "--db", db)
    code, _, err = invoke(capsys, "pay", "NOPE", "1.00", "--on", "2026-02-02", "--key", "k",
                          "--db", db)
    assert code == 2 and err == "error: LOAN_ID: no loan 'NOPE'\n"
    code, _, err = invoke(capsys, "eod", "--through", "2026-02-31", "--db", db)
    assert code == 2 and err.startswith("error: --through:")


def test_demo_json_summary(capsys, tmp_path):
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    sinks = str(tmp_path / "sinks")
    code, out, _ = invoke(capsys, "demo", "--loans", "40", "--days", "45", "--seed", "1",
                          "--db", db, "--sinks", sinks, "--json")
    assert code == 0
    summary = json.loads(out)
    assert summary["loans"] == 40 and summary["as_of"] == "2026-02-14"
    assert set(summary["buckets"]) == {"C", "M1", "M2", "M3", "M4", "M5", "M6", "M7+"}
    assert {"messages_by_channel", "blocked_by_rule", "cases_by_queue"} <= set(summary)
    assert summary["messages_by_channel"]["sms"]["delivered"] > 0
    code, again, _ = invoke(capsys, "demo", "--loans", "40", "--days", "45", "--seed", "1",
                            "--db", db, "--sinks", sinks, "--json")
    assert json.loads(again) == summary  # same seed, same book
