"""Casework commands end to end on a SQLite file: collectors, contacts (refused by CN-2 with the
rule id), promises, credentials, visit authorization and request."""

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


def test_casework_commands(capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("ARREARS_KEY_DIR", str(tmp_path / "keys"))  # badges are signed
    db = f"sqlite:///{tmp_path / 'book.db'}"
    ok = [
        ("init", "--business-date", "2026-02-02"),
        ("import", "loans", str(EXAMPLES / "loans.csv")),
        ("collectors", "add", "C-01", "--name", "王敏", "--bucket", "M1", "--bucket", "M2",
         "--language", "zh-CN"),
        ("collectors", "add", "C-02", "--name", "李强", "--bucket", "M2"),
        ("eod", "--through", "2026-03-20"),
        ("strategies", "run", "--day", "2026-03-20"),
    ]
    for argv in ok:
        code, out, err = invoke(capsys, *argv, "--db", db, "--json")
        assert code == 0, (argv, err)
    code, _, err = invoke(capsys, "collectors", "add", "C-03", "--name", "x", "--bucket", "M9",
                          "--db", db)
    assert code == 2 and err.startswith("error: buckets:")
    for hour, outcome in (("09", "no_answer"), ("10", "conversation"), ("11", "refused")):
        code, out, err = invoke(capsys, "contacts", "log", "WLD-1001", "--actor", "C-01",
                                "--outcome", outcome, "--at",
                                f"2026-03-21T{hour}:00:00+08:00", "--notes", "will pay",
                                "--recording", f"rec-{hour}", "--db", db, "--json")
        assert code == 0, err
        assert json.loads(out)["logged"] is True
    code, out, err = invoke(capsys, "contacts", "log", "WLD-1001", "--actor", "C-01",
                            "--outcome", "wrong_party", "--at", "2026-03-21T12:00:00+08:00",
                            "--db", db, "--json")
    assert code == 0, err  # the third connected call
    code, out, err = invoke(capsys, "contacts", "log", "WLD-1001", "--actor", "C-01",
                            "--outcome", "no_answer", "--at", "2026-03-21T15:00:00+08:00",
                            "--db", db, "--json")
    assert code == 2 and "cn.gbt45251.call_frequency" in err and out == ""
    code, _, err = invoke(capsys, "contacts", "log", "WLD-1001", "--actor", "C-01",
                          "--outcome", "shouted", "--at", "2026-03-21T15:00:00+08:00",
                          "--db", db)
    assert code == 2 and err.startswith("error: outcome:")
    code, _, err = invoke(capsys, "contacts", "log", "WLD-1001", "--actor", "C-01",
                          "--outcome", "busy", "--at", "2026-03-21T15:00:00", "--db", db)
    assert code == 2 and err.startswith("error: --at:")
    code, out, err = invoke(capsys, "promises", "add", "WLD-1001", "--amount", "500.00",
                            "--due", "2026-03-25", "--collector", "C-01", "--db", db, "--json")
    assert code == 0, err
    assert json.loads(out)["amount"] == "500.00"
    code, _, err = invoke(capsys, "promises", "add", "WLD-1001", "--amount", "5.001",
                          "--due", "2026-03-25", "--db", db)
    assert code == 2 and err.startswith("error: --amount:")
    code, out, _ = invoke(capsys, "promises", "evaluate", "--day", "2026-03-20", "--db", db,
                          "--json")
    assert json.loads(out) == {"business_date": "2026-03-20", "kept": 0, "broken": 0,
                               "open": 0}
    for ref in ("C-01", "C-02"):
        code, _, err = invoke(capsys, "collectors", "credential", ref, f"CRED-{ref}",
                              "--valid-from", "2026-01-01T00:00:00+08:00", "--valid-until",
                              "2027-01-01T00:00:00+08:00", "--db", db)
        assert code == 0, err
    code, _, err = invoke(capsys, "visits", "authorize", "VA-1", "--loan", "WLD-1001",
                          "--collector", "C-01", "--collector", "C-02",
                          "--issued-at", "2026-03-21T08:00:00+08:00",
                          "--valid-until", "2026-04-21T00:00:00+08:00",
                          "--legal-reviewer", "赵律师",
                          "--legal-review-at", "2026-03-21T08:30:00+08:00", "--db", db)
    assert code == 0, err
    code, out, _ = invoke(capsys, "visits", "request", "WLD-1001", "--at",
                          "2026-03-21T16:00:00+08:00", "--db", db, "--json")
    assert code == 0 and json.loads(out)["recorded"] is True  # after a refusal to pay
    code, out, _ = invoke(capsys, "visits", "request", "WLD-1002", "--at",
                          "2026-03-21T16:00:00+08:00", "--db", db, "--json")
    refused = json.loads(out)
    assert code == 1 and refused["allowed"] is False
    assert refused["rule_ids"] == ["cn.cba2026.field_visit", "cn.house.visit_conditions"]
