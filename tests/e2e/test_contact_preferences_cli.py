"""`arrears borrowers opt-out | cease | preferences | revoke` and `arrears compliance may` end
to end on a SQLite file: a contact after an opt-out or a request to stop is blocked with the
rule id (exit 1), allowed again after a revocation (exit 0); bad input exits 2 naming the field
and records nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from arrears.entrypoints.cli.main import run

EXAMPLES = Path(__file__).parents[2] / "examples"
OPT_OUT = "cn.house.opt_out"


def invoke(capsys, *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        run(list(argv))
    captured = capsys.readouterr()
    return int(exit_info.value.code or 0), captured.out, captured.err


@pytest.fixture
def db(capsys, tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'book.db'}"
    for argv in (("init", "--business-date", "2026-02-02"),
                 ("import", "loans", str(EXAMPLES / "loans.csv")),
                 ("eod", "--through", "2026-03-20"),
                 ("strategies", "run", "--day", "2026-03-20")):  # opens the cases
        code, _, err = invoke(capsys, *argv, "--db", url, "--json")
        assert code == 0, (argv, err)
    return url


def may(capsys, db: str, channel: str, at: str) -> tuple[int, dict]:
    code, out, err = invoke(capsys, "compliance", "may", "WLD-1001", "--channel", channel,
                            "--at", at, "--db", db, "--json")
    assert code in (0, 1), err
    return code, json.loads(out)


def test_may_i_contact_now_follows_opt_outs_stop_requests_and_revocations(capsys, db):
    code, decision = may(capsys, db, "sms", "2026-03-21T10:00:00+08:00")
    assert code == 0 and decision["allowed"] and OPT_OUT in decision["evaluated"]
    code, out, err = invoke(capsys, "borrowers", "opt-out", "B-1001", "--channel", "sms",
                            "--received-at", "2026-03-21T09:00:00+08:00", "--db", db, "--json")
    assert code == 0, err
    opted = json.loads(out)["preference_id"]
    code, decision = may(capsys, db, "sms", "2026-03-21T10:00:00+08:00")
    assert code == 1 and [v["rule_id"] for v in decision["violations"]] == [OPT_OUT]
    assert decision["next_allowed_at"] is None
    assert may(capsys, db, "sms", "2026-03-21T08:30:00+08:00")[0] == 0  # before it was said
    assert may(capsys, db, "call", "2026-03-21T10:00:00+08:00")[0] == 0

    code, out, err = invoke(capsys, "borrowers", "cease", "B-1001", "--oral", "--channels",
                            "call", "--received-at", "2026-03-21T09:30:00+08:00", "--db", db,
                            "--json")
    assert code == 0, err
    code, decision = may(capsys, db, "call", "2026-03-21T10:00:00+08:00")
    assert code == 1 and [v["rule_id"] for v in decision["violations"]] == [OPT_OUT]
    code, out, _ = invoke(capsys, "compliance", "may", "WLD-1001", "--channel", "call", "--at",
                          "2026-03-21T10:00:00+08:00", "--db", db)
    assert code == 1 and "BLOCKED" in out and OPT_OUT in out

    code, out, err = invoke(capsys, "borrowers", "revoke", "B-1001", str(opted),
                            "--received-at", "2026-03-21T11:00:00+08:00", "--via", "sms",
                            "--db", db, "--json")
    assert code == 0, err
    assert may(capsys, db, "sms", "2026-03-21T12:00:00+08:00")[0] == 0
    assert may(capsys, db, "sms", "2026-03-21T10:30:00+08:00")[0] == 1  # not yet revoked then
    assert may(capsys, db, "call", "2026-03-21T12:00:00+08:00")[0] == 1

    code, out, _ = invoke(capsys, "borrowers", "preferences", "B-1001", "--db", db, "--json")
    listed = json.loads(out)["preferences"]
    assert [(p["kind"], p["channels"], p["revoked"] is not None) for p in listed] == [
        ("opt_out", ["sms"], True), ("cease", ["call"], False)]
    assert listed[0]["received_via"] == "sms" and listed[1]["in_writing"] is False
    code, out, _ = invoke(capsys, "borrowers", "preferences", "B-1001", "--db", db)
    assert code == 0 and "in force" in out and "revoked" in out


def test_a_written_request_to_stop_blocks_every_channel(capsys, db):
    code, _, err = invoke(capsys, "borrowers", "cease", "B-1001", "--received-at",
                          "2026-03-21T09:00:00+08:00", "--db", db)
    assert code == 0, err
    for channel in ("call", "sms", "email", "letter"):
        code, decision = may(capsys, db, channel, "2026-03-21T10:00:00+08:00")
        assert code == 1 and [v["rule_id"] for v in decision["violations"]] == [OPT_OUT]


@pytest.mark.parametrize(("argv", "field"), [
    (("borrowers", "opt-out", "B-1001", "--channel", "fax"), "channel"),
    (("borrowers", "opt-out", "B-9999", "--channel", "sms"), "borrower_id"),
    (("borrowers", "opt-out", "B-1001", "--channel", "sms", "--via", "pigeon"), "via"),
    (("borrowers", "opt-out", "B-1001", "--channel", "sms", "--received-at", "yesterday"),
     "--received-at"),
    (("borrowers", "cease", "B-1001", "--oral"), "channels"),
    (("borrowers", "cease", "B-1001", "--via", "phone"), "via"),
    (("borrowers", "inconvenient-time", "B-1001", "--from", "14:00", "--to", "12:00"), "end"),
    (("borrowers", "inconvenient-time", "B-1001", "--from", "9", "--to", "12:00",
      "--days", "funday"), "--days"),
    (("borrowers", "revoke", "B-1001", "7"), "preference_id"),
    (("compliance", "may", "WLD-1001", "--channel", "fax", "--at",
      "2026-03-21T10:00:00+08:00"), "channel"),
    (("compliance", "may", "WLD-1001", "--channel", "call", "--at", "2026-03-21T10:00"),
     "--at"),
    (("compliance", "may", "NOPE", "--channel", "call", "--at", "2026-03-21T10:00:00+08:00"),
     "loan_id"),
])
def test_bad_input_is_one_line_naming_the_field_and_records_nothing(capsys, db, argv, field):
    code, out, err = invoke(capsys, *argv, "--db", db)
    assert (code, out) == (2, "")
    assert err.startswith(f"error: {field}: ") and err.count("\n") == 1
    code, out, _ = invoke(capsys, "borrowers", "preferences", "B-1001", "--db", db, "--json")
    assert json.loads(out)["preferences"] == []
