"""`arrears disputes` end to end on a SQLite book: an objection (异议) blocks `compliance may`
and `contacts log` with its rule until answered, `list --overdue` shows it past its 20-day
clock (CN-23), the month's PBOC file counts it as disputed, and bad input names the field and
writes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from arrears.entrypoints.cli.main import run

EXAMPLES = Path(__file__).parents[2] / "examples"
RULE = "cn.house.objection_suspends"


def invoke(capsys, *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        run(list(argv))
    captured = capsys.readouterr()
    return int(exit_info.value.code or 0), captured.out, captured.err


@pytest.fixture
def db(capsys, tmp_path, monkeypatch) -> str:
    monkeypatch.setenv("ARREARS_KEY_DIR", str(tmp_path / "keys"))  # checkpoints are signed
    url = f"sqlite:///{tmp_path / 'book.db'}"
    for argv in (("init", "--business-date", "2026-02-02"),
                 ("import", "loans", str(EXAMPLES / "loans.csv")),
                 ("collectors", "add", "C-01", "--name", "王敏", "--bucket", "M1"),
                 ("bureau", "notice", "WLD-1001", "--sent-on", "2026-02-02"),
                 ("eod", "--through", "2026-03-20"),
                 ("strategies", "run", "--day", "2026-03-20")):  # opens the collection cases
        code, _, err = invoke(capsys, *argv, "--db", url)
        assert code == 0, (argv, err)
    return url


def disputes(capsys, db: str, *argv: str) -> dict:
    code, out, err = invoke(capsys, "disputes", *argv, "--db", db, "--json")
    assert code == 0, (argv, err)
    return json.loads(out)


def may(capsys, db: str, at: str) -> list[str]:
    code, out, err = invoke(capsys, "compliance", "may", "WLD-1001", "--channel", "call",
                            "--at", at, "--db", db, "--json")
    assert code in (0, 1), err
    return [v["rule_id"] for v in json.loads(out)["violations"]]


def test_an_objection_blocks_collection_until_answered_and_is_reported(capsys, db,
                                                                       tmp_path) -> None:
    opened = disputes(capsys, db, "open", "WLD-1001", "--kind", "objection", "--channel",
                      "mail", "--received-at", "2026-03-02T10:00:00+08:00", "--note", "金额不对")
    ref = opened["dispute_id"]
    assert (opened["answer_by"], opened["in_writing"], opened["outcome"]) == \
        ("2026-03-22", True, None)
    assert may(capsys, db, "2026-03-21T10:00:00+08:00") == [RULE]
    code, _, err = invoke(capsys, "contacts", "log", "WLD-1001", "--actor", "C-01", "--outcome",
                          "no_answer", "--at", "2026-03-21T10:00:00+08:00", "--db", db)
    assert code == 2 and f"error: compliance: {RULE}" in err
    assert disputes(capsys, db, "list", "--overdue", "--day", "2026-03-22")["count"] == 0
    listed = disputes(capsys, db, "list", "--overdue", "--day", "2026-03-23")
    assert [d["dispute_id"] for d in listed["disputes"]] == [ref]
    assert disputes(capsys, db, "list", "--loan", "WLD-1002")["count"] == 0
    code, _, err = invoke(capsys, "eod", "--through", "2026-03-31", "--db", db)
    assert code == 0, err
    code, out, err = invoke(capsys, "report", "bureau", "--format", "pboc", "--month",
                            "2026-03", "--out", str(tmp_path / "m3.txt"), "--db", db, "--json")
    assert code == 0, err
    report = json.loads(out)
    assert (report["disputed"], report["objections_overdue"]) == (1, ["WLD-1001"])
    answered = disputes(capsys, db, "answer", ref, "--outcome", "verified", "--sent-at",
                        "2026-04-01T09:00:00+08:00")
    assert (answered["outcome"], answered["answered_on"]) == ("verified", "2026-04-01")
    assert may(capsys, db, "2026-04-01T10:00:00+08:00") == []
    assert disputes(capsys, db, "list", "--open")["count"] == 0


@pytest.mark.parametrize(("argv", "field"), [
    (("open", "WLD-1001", "--kind", "dispute", "--channel", "mail", "--received-at",
      "2026-03-02T10:00:00+08:00"), "--kind"),
    (("open", "WLD-1001", "--kind", "objection", "--channel", "fax", "--received-at",
      "2026-03-02T10:00:00+08:00"), "--channel"),
    (("open", "WLD-1001", "--kind", "objection", "--channel", "mail", "--received-at",
      "2026-03-02 10:00"), "--received-at"),
    (("open", "NOPE", "--kind", "objection", "--channel", "mail", "--received-at",
      "2026-03-02T10:00:00+08:00"), "LOAN_ID"),
    (("answer", "DSP-000001", "--outcome", "verified"), "ID"),
    (("list", "--day", "2026-03-02"), "--day"),
])
def test_bad_input_names_the_field_and_writes_nothing(capsys, db, argv, field) -> None:
    code, _, err = invoke(capsys, "disputes", *argv, "--db", db)
    assert code == 2 and err.startswith(f"error: {field}: ")
    assert disputes(capsys, db, "list")["count"] == 0
