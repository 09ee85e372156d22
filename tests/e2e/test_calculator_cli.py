"""The calculator commands through the real console entry point: JSON shapes and bad input."""

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


def test_schedule_json(capsys):
    code, out, _ = invoke(capsys, "schedule", "--principal", "10000.00", "--annual-rate", "0.18",
                          "--terms", "12", "--method", "equal_installment", "--start",
                          "2026-01-15", "--day-count", "ACT/360", "--json")
    assert code == 0
    rows = json.loads(out)["installments"]
    assert len(rows) == 12
    assert set(rows[0]) == {"number", "due_date", "principal", "interest", "fee", "payment",
                            "balance_after"}
    assert rows[0]["payment"] == "916.80"
    assert rows[-1]["balance_after"] == "0.00"


def test_loan_status_json_of_the_daily_rate_example(capsys):
    code, out, _ = invoke(capsys, "loan", "status", str(EXAMPLES / "wld-daily-rate.json"),
                          "--as-of", "2026-04-14", "--json")
    assert code == 0
    report = json.loads(out)
    for key in ("as_of", "dpd", "bucket", "status", "principal_outstanding", "overdue_principal",
                "overdue_interest", "penalty_interest", "compound_interest", "total_due",
                "payoff_amount", "installments"):
        assert key in report
    assert (report["dpd"], report["bucket"], report["status"]) == (30, "M1", "overdue")
    assert report["installments"][0]["status"] == "paid"


def test_phone_example_posts_a_retried_payment_once(capsys):
    code, out, _ = invoke(capsys, "loan", "status", str(EXAMPLES / "phone-24m-flat-fee.json"),
                          "--as-of", "2026-02-28", "--json")
    assert code == 0
    report = json.loads(out)
    assert report["status"] == "current"
    assert report["unapplied_credit"] == "0.00"
    assert report["installments"][1]["paid_principal"] == "0.00"


def test_apr_json(capsys):
    code, out, _ = invoke(capsys, "apr", "--principal", "12000", "--payment", "1072", "--terms",
                          "12", "--json")
    assert code == 0
    assert json.loads(out) == {
        "monthly_irr": "0.01086185", "apr_nominal": "0.130342", "apr_effective": "0.138418",
        "cap": {"name": "CN cost cap", "rate": "0.24", "basis": "nominal", "exceeded": False},
    }


def test_apr_from_a_cash_flow_file(capsys, tmp_path):
    flows = tmp_path / "flows.json"
    flows.write_text(json.dumps({"cashflows": ["-1000"] + ["200"] * 6}))
    code, out, _ = invoke(capsys, "apr", "--cashflows", str(flows), "--cap", "0.36", "--json")
    assert code == 0
    assert json.loads(out)["cap"]["exceeded"] is True


def _loan(tmp_path: Path, **changes: object) -> str:
    document = json.loads((EXAMPLES / "wld-daily-rate.json").read_text())
    for dotted, value in changes.items():
        target = document
        *parents, last = dotted.split("__")
        for key in parents:
            target = target[key]
        target[last] = value
    path = tmp_path / "loan.json"
    path.write_text(json.dumps(document))
    return str(path)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"principal": "-5.00"}, "principal"),
        ({"product__method": "balloon"}, "product.method"),
        ({"product__day_count": "ACT/999"}, "product.day_count"),
        ({"disbursed_on": "2026-02-30"}, "disbursed_on"),
        ({"payments": [{"key": "a", "on": "2025-12-01", "amount": "1.00"}]}, "payments[0].on"),
        ({"payments": [{"key": "a", "on": "2026-02-01", "amount": "1.005"}]},
         "payments[0].amount"),
        ({"product__annual_rate": "0.30"}, "product.annual_rate"),
        ({"product__colour": "red"}, "product.colour"),
    ],
)
def test_bad_loan_files_exit_2_with_one_line_naming_the_field(capsys, tmp_path, changes, field):
    code, out, err = invoke(capsys, "loan", "status", _loan(tmp_path, **changes), "--as-of",
                            "2026-04-14", "--json")
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith(f"error: {field}:")


def test_malformed_json_file(capsys, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    code, _, err = invoke(capsys, "loan", "status", str(bad), "--as-of", "2026-04-14")
    assert code == 2 and err.startswith("error: LOAN.json:") and err.count("\n") == 1


@pytest.mark.parametrize(
    ("argv", "field"),
    [
        (["--method", "weird"], "--method"),
        (["--day-count", "ACT/1"], "--day-count"),
        (["--start", "2026-13-01"], "--start"),
        (["--principal", "-1"], "--principal"),
    ],
)
def test_bad_schedule_options(capsys, argv, field):
    base = {"--principal": "100.00", "--annual-rate": "0.1", "--terms": "3",
            "--method": "bullet", "--start": "2026-01-01"}
    base.update(dict(zip(argv[::2], argv[1::2], strict=True)))
    args = [item for pair in base.items() for item in pair]
    code, _, err = invoke(capsys, "schedule", *args)
    assert code == 2
    assert err.startswith(f"error: {field}:") and err.count("\n") == 1


def test_missing_option_is_one_line(capsys):
    code, _, err = invoke(capsys, "schedule", "--principal", "100")
    assert code == 2 and err.count("\n") == 1 and "Missing option" in err
