"""Options that used to succeed wrongly: each is refused with one line naming it (exit 2) and
changes nothing, and the values at the edge of what is allowed still work."""

from __future__ import annotations

import json
from importlib import resources
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


@pytest.fixture
def booked(capsys, db) -> str:
    """The example loans, boarded on 2026-02-02 and closed through 2026-02-16: WLD-1001 (due
    2026-02-15) is 1 day past due, the others are current."""
    for argv in (["init", "--business-date", "2026-02-02"],
                 ["import", "loans", str(EXAMPLES / "loans.csv")],
                 ["eod", "--through", "2026-02-16"]):
        assert invoke(capsys, *argv, "--db", db, "--json")[0] == 0
    return db


def statuses(capsys, db: str) -> dict[str, tuple[str, int]]:
    code, out, _ = invoke(capsys, "loan", "list", "--db", db, "--json")
    assert code == 0
    return {loan["loan_id"]: (loan["status"], loan["dpd"]) for loan in json.loads(out)["loans"]}


@pytest.mark.parametrize("threshold", ["-1", "0", "3651"])
def test_a_write_off_threshold_outside_1_to_3650_days_is_refused(capsys, booked, threshold):
    before = statuses(capsys, booked)
    code, out, err = invoke(capsys, "eod", "--through", "2026-02-17", "--write-off-dpd",
                            threshold, "--db", booked)
    assert (code, out) == (2, "")
    assert err == (f"error: --write-off-dpd: must be a number of days past due from 1 to 3650 "
                   f"(got {threshold})\n")
    assert statuses(capsys, booked) == before
    code, out, _ = invoke(capsys, "report", "portfolio", "--db", booked, "--json")
    assert json.loads(out)["as_of"] == "2026-02-16"


def test_a_write_off_threshold_of_1_writes_off_only_overdue_loans(capsys, booked):
    code, _, _ = invoke(capsys, "eod", "--through", "2026-02-17", "--write-off-dpd", "1",
                        "--db", booked)
    assert code == 0
    after = statuses(capsys, booked)
    assert after.pop("WLD-1001") == ("written_off", 2)
    assert {status for status, _ in after.values()} == {"current"}


def test_a_write_off_threshold_in_the_environment_is_checked_too(capsys, booked, monkeypatch):
    monkeypatch.setenv("ARREARS_WRITE_OFF_DPD", "0")
    code, _, err = invoke(capsys, "eod", "--through", "2026-02-17", "--db", booked)
    assert (code, err) == (2, "error: ARREARS_WRITE_OFF_DPD: must be a number of days past due "
                              "from 1 to 3650 (got 0)\n")


def test_init_on_an_open_book_accepts_only_its_open_date(capsys, booked, tmp_path):
    code, out, err = invoke(capsys, "init", "--business-date", "2026-02-17", "--db", booked,
                            "--json")
    assert (code, err) == (0, "")
    assert json.loads(out)["open_business_date"] == "2026-02-17"
    shipped = json.loads(resources.files("arrears").joinpath("default_products.json")
                         .read_text(encoding="utf-8"))
    products = tmp_path / "products.json"
    products.write_text(json.dumps({"CASH-12M": shipped["WLD-DAILY"]}))
    code, out, err = invoke(capsys, "init", "--business-date", "2026-02-02", "--products",
                            str(products), "--db", booked)
    assert (code, out) == (2, "")
    assert err == ("error: --business-date: the book is already open at 2026-02-17, not "
                   "2026-02-02; `arrears eod` moves it forward\n")
    code, _, err = invoke(capsys, "loan", "list", "--product", "CASH-12M", "--db", booked)
    assert code == 2 and "no product 'CASH-12M'" in err
    code, out, _ = invoke(capsys, "report", "portfolio", "--db", booked, "--json")
    assert json.loads(out)["as_of"] == "2026-02-16"


def test_closing_more_than_366_dates_needs_yes(capsys, db):
    invoke(capsys, "init", "--business-date", "2026-02-02", "--db", db)
    code, out, err = invoke(capsys, "eod", "--through", "2027-02-03", "--db", db, "--json")
    assert (code, out) == (2, "")
    assert err == ("error: --through: would close 367 business dates (2026-02-02 to "
                   "2027-02-03), which cannot be undone; pass --yes to close more than 366 in "
                   "one run\n")
    code, out, _ = invoke(capsys, "eod", "--through", "2027-02-02", "--db", db, "--json")
    assert code == 0 and len(json.loads(out)["days"]) == 366
    code, _, err = invoke(capsys, "eod", "--through", "2028-02-04", "--db", db)
    assert code == 2 and "would close 367 business dates (2027-02-03 to 2028-02-04)" in err
    code, out, _ = invoke(capsys, "eod", "--through", "2028-02-04", "--yes", "--db", db,
                          "--json")
    assert code == 0 and len(json.loads(out)["days"]) == 367


@pytest.mark.parametrize(("options", "message"), [
    (("--backoff-seconds", "-5"), "--backoff-seconds: must be a number of seconds above 0 and "
                                  "at most 7200 (got -5.0)"),
    (("--backoff-seconds", "0"), "--backoff-seconds: must be a number of seconds above 0 and "
                                 "at most 7200 (got 0.0)"),
    (("--backoff-seconds", "nan"), "--backoff-seconds: must be a number of seconds above 0 "
                                   "and at most 7200 (got nan)"),
    (("--backoff-seconds", "inf"), "--backoff-seconds: must be a number of seconds above 0 "
                                   "and at most 7200 (got inf)"),
    (("--max-attempts", "0"), "--max-attempts: must be a whole number from 1 to 30 (got 0)"),
    (("--max-attempts", "31"), "--max-attempts: must be a whole number from 1 to 30 (got 31)"),
    (("--lease-seconds", "0"), "--lease-seconds: must be a number of seconds above 0 and at "
                               "most 86400 (got 0)"),
    (("--poll", "-inf"), "--poll: must be a number of seconds above 0 and at most 86400 "
                         "(got -inf)"),
    (("--http-timeout", "nan"), "--http-timeout: must be a number of seconds above 0 and at "
                                "most 86400 (got nan)"),
])
def test_worker_refuses_waits_and_attempts_that_would_dead_letter_at_once(
        capsys, tmp_path, options, message):
    book = tmp_path / "never-created.db"
    code, out, err = invoke(capsys, "worker", "--until-idle", *options,
                            "--db", f"sqlite:///{book}")
    assert (code, out, err) == (2, "", f"error: {message}\n")
    assert not book.exists()


def test_worker_accepts_the_edges_of_what_is_allowed(capsys, db, tmp_path):
    invoke(capsys, "init", "--business-date", "2026-02-02", "--db", db)
    code, out, err = invoke(capsys, "worker", "--until-idle", "--backoff-seconds", "7200",
                            "--max-attempts", "1", "--lease-seconds", "1", "--poll", "0.01",
                            "--sink-dir", str(tmp_path / "sinks"), "--db", db, "--json")
    assert (code, err) == (0, "")
    assert json.loads(out)["batches"] == 0
