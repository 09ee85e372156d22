"""The operator commands end to end on a SQLite file, through the console entry point."""

from __future__ import annotations

import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from arrears.adapters.db import collections_tables as ct
from arrears.adapters.db.messages import aware
from arrears.entrypoints.cli.main import run

EXAMPLES = Path(__file__).parents[2] / "examples"
SHANGHAI = ZoneInfo("Asia/Shanghai")


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


def test_demo_shows_the_guardrails(capsys, tmp_path):
    """Collectors' calls outside the hours, past the daily cap or with red-line words are
    refused by the engine and show up by rule; en borrowers (and some others) get e-mail.
    A young book (no seasoned vintages): every borrower's first installments fall due in the
    run, so some en borrowers reach the e-mail step."""
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    sinks = tmp_path / "sinks"
    code, out, _ = invoke(capsys, "demo", "--loans", "300", "--days", "60", "--seed", "7",
                          "--season-months", "0", "--db", db, "--sinks", str(sinks), "--json")
    assert code == 0
    summary = json.loads(out)
    blocked = summary["blocked_by_rule"]
    assert blocked["cn.gbt45251.collection_hours"]["rescheduled"] > 0  # CN-1
    assert blocked["cn.gbt45251.call_frequency"]["rescheduled"] > 0  # CN-2
    assert blocked["cn.cba2026.prohibited_conduct"]["cancelled"] > 0  # CN-7
    # Borrowers who opted out of SMS or asked to stop: the strategies' later actions and the
    # collectors' calls to them are refused for good by the house rule (cn.house.opt_out).
    stated = summary["contact_preferences"]
    assert stated["sms_opt_out"] > 0 and stated.get("stop_calling", 0) + stated.get(
        "written_cease", 0) > 0
    with sa.create_engine(db).connect() as connection:
        planned = connection.execute(sa.select(sa.func.count()).select_from(
            ct.collection_action).where(ct.collection_action.c.status == "cancelled",
                                        ct.collection_action.c.rule_ids.contains(
                                            "cn.house.opt_out"))).scalar_one()
    assert planned > 0  # strategy actions
    assert blocked["cn.house.opt_out"]["cancelled"] > planned  # and collectors' calls
    assert blocked["cn.house.opt_out"]["rescheduled"] == 0
    calls = summary["manual_calls"]
    refusals = sum(n for counts in blocked.values() for n in counts.values())
    assert calls["logged"] > calls["refused"] > 0 and refusals >= calls["refused"]
    with sa.create_engine(db).connect() as connection:
        logged = connection.execute(sa.select(ct.contact_log.c.at)).scalars().all()
    assert len(logged) == calls["logged"]  # refused calls leave nothing in the log
    assert all(8 <= aware(at).astimezone(SHANGHAI).hour < 22 for at in logged)
    channels = summary["messages_by_channel"]
    assert len(channels) >= 3 and channels["email"]["delivered"] > 0
    emails = [json.loads(line) for line in
              (sinks / "email.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(emails) == channels["email"]["delivered"]
    assert any("Arrears Consumer Finance" in json.dumps(e, ensure_ascii=False) for e in emails)

    code, text, _ = invoke(capsys, "demo", "--loans", "120", "--days", "45", "--seed", "7",
                           "--db", f"sqlite:///{tmp_path / 'human.db'}", "--sinks",
                           str(tmp_path / "human-sinks"))
    assert code == 0
    assert "Blocked by the compliance engine" in text
    assert "rescheduled" in text and "cancelled" in text
    assert "cn.gbt45251.collection_hours" in text and "CN-1" in text


@pytest.mark.parametrize("encoding", ["gbk", "utf-16", "latin-1"])
def test_a_csv_not_in_utf8_is_one_error_naming_the_file(capsys, db, tmp_path, encoding):
    invoke(capsys, "init", "--business-date", "2026-02-02", "--db", db)
    text = (EXAMPLES / "loans.csv").read_text()
    if encoding == "latin-1":  # the Chinese names cannot be written in it; a French one can
        text = text.replace("张伟", "Frédéric").replace("王芳", "Zoë")
        text = "".join(c for c in text if ord(c) < 256)
    bad = tmp_path / f"loans-{encoding}.csv"
    bad.write_bytes(text.encode(encoding))
    code, out, err = invoke(capsys, "import", "loans", str(bad), "--db", db)
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and err.startswith("error: FILE.csv: ") and str(bad) in err


def test_a_csv_with_a_byte_order_mark_imports(capsys, db, tmp_path):
    invoke(capsys, "init", "--business-date", "2026-02-02", "--db", db)
    marked = tmp_path / "bom.csv"
    marked.write_bytes((EXAMPLES / "loans.csv").read_text().encode("utf-8-sig"))
    code, out, _ = invoke(capsys, "import", "loans", str(marked), "--db", db, "--json")
    assert code == 0 and json.loads(out) == {"imported": 4, "new_borrowers": 3}


def test_import_lists_every_shifted_row_and_imports_nothing(capsys, db, tmp_path):
    invoke(capsys, "init", "--business-date", "2026-02-02", "--db", db)
    lines = (EXAMPLES / "loans.csv").read_text().splitlines()
    lines[1] = lines[1].replace("北京市朝阳区建国路1号", "北京市朝阳区,建国路1号")
    lines[2] = ",".join(lines[2].split(",")[:12])
    bad = tmp_path / "shifted.csv"
    bad.write_text("\n".join(lines) + "\n")
    code, _, err = invoke(capsys, "import", "loans", str(bad), "--db", db)
    assert code == 2
    assert [line.split(":")[:3] for line in err.splitlines()] == [
        ["error", " line 2", " row"], ["error", " line 3", " time_zone"]]
    code, out, _ = invoke(capsys, "import", "loans", str(EXAMPLES / "loans.csv"), "--db", db,
                          "--json")
    assert code == 0 and json.loads(out)["imported"] == 4  # nothing of the bad file was kept
