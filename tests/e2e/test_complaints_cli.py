"""`arrears complaints` end to end on a SQLite book: filing links contacts and collectors,
the CN clocks (15 days, one extension) and daily escalation, the overdue list, rates per
1,000 contacts, the regulator's case file (a PDF and a bundle `evidence verify` accepts),
and bad input naming the field with nothing written."""

from __future__ import annotations

import json
import zipfile
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
def db(capsys, tmp_path, monkeypatch) -> str:
    monkeypatch.setenv("ARREARS_KEY_DIR", str(tmp_path / "keys"))  # checkpoints are signed
    url = f"sqlite:///{tmp_path / 'book.db'}"
    for argv in (("init", "--business-date", "2026-02-02"),
                 ("import", "loans", str(EXAMPLES / "loans.csv")),
                 ("collectors", "add", "C-01", "--name", "王敏", "--bucket", "M1"),
                 ("eod", "--through", "2026-03-20"),
                 ("strategies", "run", "--day", "2026-03-20"),  # opens the collection cases
                 ("contacts", "log", "WLD-1001", "--actor", "C-01", "--outcome",
                  "conversation", "--at", "2026-03-21T10:00:00+08:00"),
                 ("contacts", "log", "WLD-1001", "--actor", "C-01", "--outcome",
                  "no_answer", "--at", "2026-03-21T11:00:00+08:00")):
        code, _, err = invoke(capsys, *argv, "--db", url)
        assert code == 0, (argv, err)
    return url


def complaint(capsys, db: str, *argv: str) -> dict:
    code, out, err = invoke(capsys, "complaints", *argv, "--db", db, "--json")
    assert code == 0, (argv, err)
    return json.loads(out)


def test_clocks_extension_and_escalation(capsys, db) -> None:
    filed = complaint(capsys, db, "file", "WLD-1001", "--source", "borrower", "--category",
                      "harassment", "--summary", "called my mother at night", "--contact", "1",
                      "--at", "2026-03-22T09:00:00+08:00")
    ref = filed["complaint_id"]
    assert (filed["team"], filed["collectors"], filed["contacts"]) == \
        ("compliance", ["C-01"], [1])
    assert (filed["acknowledge_by"], filed["answer_by"]) == ("2026-03-23", "2026-04-05")
    overdue = complaint(capsys, db, "list", "--overdue", "--day", "2026-03-23")
    assert overdue["count"] == 0
    overdue = complaint(capsys, db, "list", "--overdue", "--day", "2026-03-24")
    assert [(c["complaint_id"], c["late"]) for c in overdue["complaints"]] == \
        [(ref, ["acknowledge"])]
    complaint(capsys, db, "acknowledge", ref, "--at", "2026-03-24T09:00:00+08:00")
    extended = complaint(capsys, db, "extend", ref, "--reason", "recordings to review",
                         "--at", "2026-04-01T09:00:00+08:00")
    assert extended["answer_by"] == "2026-04-20"
    code, out, err = invoke(capsys, "complaints", "extend", ref, "--reason", "again", "--at",
                            "2026-04-02T09:00:00+08:00", "--db", db)
    assert code == 2 and err.startswith("error: extend:") and out == ""
    assert complaint(capsys, db, "escalate", "--day", "2026-04-20")["escalated"] == []
    assert complaint(capsys, db, "escalate", "--day", "2026-04-21")["escalated"] == [ref]
    assert complaint(capsys, db, "escalate", "--day", "2026-04-22")["escalated"] == []
    answered = complaint(capsys, db, "answer", ref, "--text", "collector retrained; sorry",
                         "--at", "2026-04-22T09:00:00+08:00")
    assert (answered["answered_on"], answered["escalated_on"]) == ("2026-04-22", "2026-04-21")
    assert complaint(capsys, db, "list", "--overdue", "--day", "2026-05-01")["count"] == 0
    rates = complaint(capsys, db, "rates")["rates"]
    assert rates == [{"kind": "collector", "ref": "C-01", "contacts": 2, "complaints": 1,
                      "complaints_per_1000_contacts": "500.00"}]


def test_case_file_is_a_pdf_and_a_bundle_that_verifies(capsys, db, tmp_path) -> None:
    ref = complaint(capsys, db, "file", "WLD-1001", "--source", "regulator", "--category",
                    "wrong_amount", "--summary", "penalty too high", "--at",
                    "2026-03-22T09:00:00+08:00")["complaint_id"]
    complaint(capsys, db, "answer", ref, "--text", "statement sent", "--at",
              "2026-03-25T09:00:00+08:00")
    out = tmp_path / "case"
    out.mkdir()
    exported = complaint(capsys, db, "export", ref, "--out", str(out), "--lang", "en")
    assert [h["kind"] for h in exported["history"]] == ["complaint_filed", "complaint_answered"]
    pdf = Path(exported["summary_pdf"]).read_bytes()
    assert pdf.startswith(b"%PDF-") and f"complaint {ref}".encode() in pdf
    bundle = Path(exported["evidence_bundle"])
    with zipfile.ZipFile(bundle) as archive:
        entries = archive.read("entries.jsonl").decode()
    assert '"kind":"complaint_filed"' in entries and '"kind":"complaint_answered"' in entries
    code, out_text, err = invoke(capsys, "evidence", "verify", str(bundle), "--db", db,
                                 "--json")
    assert code == 0, err
    assert json.loads(out_text)["intact"] is True


def test_bad_input_names_the_field_and_writes_nothing(capsys, db, tmp_path) -> None:
    base = ("complaints", "file", "WLD-1001", "--source", "borrower", "--category", "threat",
            "--summary", "x", "--at", "2026-03-22T09:00:00+08:00")
    cases = (
        (("complaints", "file", "WLD-1001", "--source", "alien", "--category", "threat",
          "--summary", "x"), "source"),
        (("complaints", "file", "WLD-1001", "--source", "borrower", "--category", "rude",
          "--summary", "x"), "category"),
        (("complaints", "file", "WLD-1001", "--source", "borrower", "--category", "threat",
          "--summary", " "), "summary"),
        (("complaints", "file", "NOPE", "--source", "borrower", "--category", "threat",
          "--summary", "x"), "loan"),
        ((*base, "--contact", "99"), "contact"),
        ((*base, "--collector", "C-99"), "collector"),
        ((*base, "--agency", "A-99"), "agency"),
        (("complaints", "file", "WLD-1001", "--source", "borrower", "--category", "threat",
          "--summary", "x", "--at", "2026-03-22T09:00:00"), "--at"),
        (("complaints", "acknowledge", "CMP-999999"), "ID"),
        (("complaints", "escalate", "--day", "2026-02-30"), "--day"),
        (("complaints", "export", "CMP-000001", "--out", str(tmp_path / "nowhere")), "--out"),
    )
    for argv, field in cases:
        code, out, err = invoke(capsys, *argv, "--db", db)
        assert code == 2 and err.startswith(f"error: {field}:"), (argv, err)
        assert out == ""
    assert complaint(capsys, db, "list")["count"] == 0
