"""`arrears import payments` end to end: what posted, what was refused (in the rejects file),
and a second run that posts nothing."""

from __future__ import annotations

import csv
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


def test_a_wechat_bill_posts_and_its_refund_row_is_in_the_rejects_file(capsys, tmp_path):
    db = f"sqlite:///{tmp_path / 'book.db'}"
    for argv in (["init", "--business-date", "2026-02-02"],
                 ["import", "loans", str(EXAMPLES / "loans.csv")],
                 ["eod", "--through", "2026-02-16"]):
        assert invoke(capsys, *argv, "--db", db, "--json")[0] == 0
    rejects = tmp_path / "rejects.csv"
    argv = ["import", "payments", str(EXAMPLES / "payments-wechat.csv"), "--format", "wechat",
            "--rejects", str(rejects), "--db", db, "--json"]
    code, out, err = invoke(capsys, *argv)
    document = json.loads(out)
    assert code == 1 and err == ""  # 1: some rows were refused, the others posted
    assert (document["rows"], document["posted"], document["rejected"]) == (3, 2, 1)
    assert document["posted_rows"][0] == {
        "line": 2, "key": "wechat:4200002026021600000000000001", "loan_id": "WLD-1001",
        "amount": "916.80", "currency": "CNY", "paid_on": "2026-02-16", "restated": True}
    with rejects.open(encoding="utf-8-sig", newline="") as written:
        assert list(csv.reader(written))[1][:4] == [
            "4", "wechat:4200002026021500000000000009", "PHN-2001", "交易状态"]
    code, out, _ = invoke(capsys, *argv)
    again = json.loads(out)
    assert (again["posted"], again["already_posted"], again["rejected"]) == (0, 2, 1)
    code, out, _ = invoke(capsys, "import", "payments", str(EXAMPLES / "payments.csv"),
                          "--rejects", str(rejects), "--db", db)
    assert code == 0 and "posted 3" in out
    assert rejects.read_text(encoding="utf-8-sig") == "line,key,loan_id,field,reason\n"


def test_rejects_file_cells_cannot_run_as_spreadsheet_formulas(capsys, tmp_path):
    """A clerk opens the rejects file in Excel: a key or loan id from the payment file that
    starts like a formula (= + - @, tab, CR) is written as text, not evaluated (CSV injection)."""
    db = f"sqlite:///{tmp_path / 'book.db'}"
    assert invoke(capsys, "init", "--business-date", "2026-02-02", "--db", db)[0] == 0
    hostile = tmp_path / "hostile.csv"
    hostile.write_text('key,loan_id,amount,paid_on\n'
                       '"=HYPERLINK(""http://x.example"",""pay"")",@SUM(A1),1.00,2026-02-02\n'
                       '+cmd,-2+3,1.00,2026-02-02\n', encoding="utf-8")
    rejects = tmp_path / "rejects.csv"
    code, _, _ = invoke(capsys, "import", "payments", str(hostile), "--rejects", str(rejects),
                        "--db", db, "--json")
    assert code == 1
    with rejects.open(encoding="utf-8-sig", newline="") as written:
        cells = [row[1:3] for row in list(csv.reader(written))[1:]]
    assert cells == [["'=HYPERLINK(\"http://x.example\",\"pay\")", "'@SUM(A1)"],
                     ["'+cmd", "'-2+3"]]
