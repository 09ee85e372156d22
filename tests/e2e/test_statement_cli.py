"""`arrears statement` end to end: its figures are `loan status`'s and `loan show`'s to the fen,
its day-by-day lines add up to the accrued totals exactly, and the PDF is a PDF."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from arrears.entrypoints.cli.main import run

EXAMPLES = Path(__file__).parents[2] / "examples"
FIGURES = ("status", "dpd", "principal_outstanding", "overdue_principal", "overdue_interest",
           "overdue_fee", "penalty_interest", "compound_interest", "total_due", "payoff_amount",
           "unapplied_credit", "first_delinquency_on", "restructured", "waived", "capitalised")


def invoke(capsys, *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        run(list(argv))
    captured = capsys.readouterr()
    return int(exit_info.value.code or 0), captured.out, captured.err


def assert_reconciles(statement: dict, status: dict) -> None:
    for key in FIGURES:
        assert statement[key] == status[key], key
    by_number = {row["number"]: row for row in status["installments"]}
    for row in statement["installments"]:
        for component in ("penalty", "compound"):
            lines = sum(Decimal(a["total"]) for a in statement["accrual"]
                        if a["installment"] == row["number"] and a["component"] == component)
            moved = sum(Decimal(a["amount"]) for a in statement["adjustments"]
                        if a["installment"] == row["number"] and a["component"] == component)
            accrued = Decimal(by_number[row["number"]][f"{component}_accrued"])
            assert lines + moved == accrued == Decimal(row[component]["accrued"])
    for line in statement["accrual"]:
        assert Decimal(line["daily"]) * line["days"] == Decimal(line["total"])


@pytest.mark.parametrize("name", ["wld-daily-rate.json", "phone-24m-flat-fee.json"])
@pytest.mark.parametrize("as_of", ["2026-03-17", "2026-05-20", "2027-03-01"])
def test_example_loans_reconcile_to_loan_status(capsys, name, as_of) -> None:
    path = str(EXAMPLES / name)
    code, out, err = invoke(capsys, "statement", "--file", path, "--as-of", as_of, "--json")
    assert code == 0, err
    statement = json.loads(out)
    code, out, err = invoke(capsys, "loan", "status", path, "--as-of", as_of, "--json")
    assert code == 0, err
    assert_reconciles(statement, json.loads(out))
    assert statement["itemization"] is None  # CN loans carry no Regulation F itemization


def test_a_loan_file_with_a_plan_reconciles(capsys, tmp_path) -> None:
    document = json.loads((EXAMPLES / "wld-daily-rate.json").read_text())
    document["plans"] = [{"plan_id": "W-1", "kind": "waiver", "effective_on": "2026-04-01",
                          "waive": {"penalty": "1", "compound": "0.5"}}]
    path = tmp_path / "loan.json"
    path.write_text(json.dumps(document))
    code, out, err = invoke(capsys, "statement", "--file", str(path), "--as-of", "2026-05-20",
                            "--json")
    assert code == 0, err
    statement = json.loads(out)
    code, out, _ = invoke(capsys, "loan", "status", str(path), "--as-of", "2026-05-20",
                          "--json")
    assert_reconciles(statement, json.loads(out))
    assert statement["plans"][0]["plan_id"] == "W-1"
    assert Decimal(statement["waived"]["penalty"]) > 0
    assert any(a["reason"] == "plan" and a["plan_id"] == "W-1"
               for a in statement["adjustments"])


def test_us_statement_itemizes_and_gives_the_validation_end(capsys, tmp_path) -> None:
    document = json.loads((EXAMPLES / "wld-daily-rate.json").read_text())
    document["currency"] = "USD"
    document["product"] = {**document["product"], "jurisdiction": "US"}
    path = tmp_path / "us.json"
    path.write_text(json.dumps(document))
    code, out, err = invoke(capsys, "statement", "--file", str(path), "--as-of", "2025-11-23",
                            "--json")
    assert code == 2 and err.startswith("error: as_of:")  # before disbursement
    code, out, err = invoke(capsys, "statement", "--file", str(path), "--as-of", "2026-05-20",
                            "--json", "--out", str(tmp_path / "s.pdf"))
    assert code == 0, err
    item = json.loads(out)["itemization"]
    assert item["itemization_date"] == "2026-03-20" and item["basis"] == "last_payment"
    total = (Decimal(item["amount_on_itemization_date"]) + Decimal(item["interest"])
             + Decimal(item["fees"]) - Decimal(item["payments"]) - Decimal(item["credits"]))
    assert total == Decimal(item["current_amount"]) == Decimal(json.loads(out)["payoff_amount"])
    # US-22: provided Thu 2026-05-21 → receipt after 5 business days (Memorial Day 05-25
    # excluded) on Fri 05-29 → validation period ends 30 days later, Sun 2026-06-28.
    assert (item["provided_on"], item["validation_end"]) == ("2026-05-21", "2026-06-28")
    assert (tmp_path / "s.pdf").read_bytes().startswith(b"%PDF-")


def test_bad_input_names_the_field(capsys, tmp_path) -> None:
    path = str(EXAMPLES / "wld-daily-rate.json")
    for argv, field in (
        (("statement",), "LOAN_ID"),
        (("statement", "--file", path), "--as-of"),
        (("statement", "--file", path, "--as-of", "2026-13-01"), "--as-of"),
        (("statement", "--file", path, "--as-of", "2026-05-01", "--lang", "fr"), "--lang"),
        (("statement", "X-1", "--as-of", "2026-05-01"), "--as-of"),
        (("statement", "--file", path, "--as-of", "2026-05-01", "--out",
          str(tmp_path / "missing" / "s.pdf")), "--out"),
    ):
        code, out, err = invoke(capsys, *argv)
        assert code == 2 and err.startswith(f"error: {field}:"), (argv, err)
        assert out == ""
    assert not (tmp_path / "missing").exists()


def test_book_loan_with_back_dated_payment_matches_loan_show(capsys, tmp_path) -> None:
    db = f"sqlite:///{tmp_path / 'book.db'}"
    for argv in (("init", "--business-date", "2026-02-02"),
                 ("import", "loans", str(EXAMPLES / "loans.csv")),
                 ("eod", "--through", "2026-03-25"),
                 ("pay", "WLD-1001", "916.80", "--on", "2026-03-20", "--key", "k-1"),
                 # Back-dated: restates the allocation of the payment above.
                 ("pay", "WLD-1001", "300.00", "--on", "2026-02-20", "--key", "k-0"),
                 ("pay", "WLD-1001", "100.00", "--on", "2026-03-26", "--key", "k-open")):
        code, _, err = invoke(capsys, *argv, "--db", db)
        assert code == 0, (argv, err)
    code, out, err = invoke(capsys, "statement", "WLD-1001", "--db", db, "--json", "--out",
                            str(tmp_path / "s.pdf"), "--lang", "zh-CN")
    assert code == 0, err
    statement = json.loads(out)
    code, out, err = invoke(capsys, "loan", "show", "WLD-1001", "--db", db, "--json")
    assert code == 0, err
    shown = json.loads(out)
    assert_reconciles(statement, shown)
    keys = [p["key"] for p in statement["payments"] if p["kind"] == "payment"]
    assert keys == ["k-0", "k-1", "k-open"]  # value-date order, the open day's last
    replayed = {p["key"]: p for p in statement["payments"]}
    stored = {p["key"]: p for p in shown["payments"]}
    for key in keys:
        parts = ("fee", "penalty", "compound", "interest", "principal", "credit")
        assert sum(Decimal(replayed[key][f"to_{x}"]) for x in parts) == \
            Decimal(stored[key]["amount"])
    assert (tmp_path / "s.pdf").read_bytes().startswith(b"%PDF-")
    code, _, err = invoke(capsys, "statement", "NOPE", "--db", db)
    assert code == 2 and err.startswith("error: LOAN_ID:")
