"""`arrears loan list` end to end on a small book: on SQLite, and on PostgreSQL when
ARREARS_TEST_POSTGRES_URL is set."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from arrears import bootstrap
from arrears.config import Settings
from arrears.entrypoints.cli.main import run

from loopback import BACKENDS, postgres_schema_url

EXAMPLES = Path(__file__).parents[2] / "examples"

# Stored DPD descending, then loan id in byte order ("ZZ-1" before "aa-1", unlike a
# language collation), at the end of 2026-04-14.
EXPECTED = [
    ("WLD-1001", "B-1001", "WLD-DAILY", "written_off", "M2", 55),
    ("WLD-1002", "B-1002", "WLD-DAILY", "overdue", "M2", 53),
    ("ZZ-1", "B-1002", "WLD-DAILY", "overdue", "M2", 53),
    ("aa-1", "B-1002", "WLD-DAILY", "overdue", "M2", 53),
    ("PHN-2001", "B-1003", "PHONE-24M", "overdue", "M2", 45),
    ("PHN-2002", "B-1001", "PHONE-24M", "settled", "C", 0),
    ("PHN-3001", "B-1004", "PHONE-24M", "current", "C", 0),
]


def invoke(capsys, *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        run(list(argv))
    captured = capsys.readouterr()
    return int(exit_info.value.code or 0), captured.out, captured.err


def listed(capsys, db: str, *options: str) -> dict:
    code, out, err = invoke(capsys, "loan", "list", *options, "--db", db, "--json")
    assert (code, err) == (0, "")
    return json.loads(out)


def _csv(path: Path, lines: list[str]) -> str:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('list') / 'book.db'}"
        return
    yield from postgres_schema_url()


@pytest.fixture(scope="module")
def book(database_url: str, tmp_path_factory) -> str:
    """Seven loans in every status: two twins of WLD-1002 (same DPD, ids that sort differently
    by bytes and by language), a payoff, a write-off at DPD 55, and a loan not yet due."""
    folder = tmp_path_factory.mktemp("csv")
    lines = (EXAMPLES / "loans.csv").read_text(encoding="utf-8").splitlines()
    header, by_id = lines[0], {line.split(",", 1)[0]: line for line in lines[1:]}
    twins = [by_id["WLD-1002"].replace("WLD-1002", ref, 1) for ref in ("aa-1", "ZZ-1")]
    not_yet_due = (by_id["PHN-2001"].replace("PHN-2001,B-1003", "PHN-3001,B-1004", 1)
                   .replace("2026-01-31", "2026-03-20")
                   .replace("440301199512253456", "440301199512253457")
                   .replace("13600001111", "13600002222"))
    first = _csv(folder / "first.csv", [*lines, *twins])
    later = _csv(folder / "later.csv", [header, not_yet_due])
    for argv in (["init", "--business-date", "2026-02-02"], ["import", "loans", first],
                 ["eod", "--through", "2026-03-31"], ["payoff", "PHN-2002", "--key", "s-1"],
                 ["import", "loans", later],
                 ["eod", "--through", "2026-04-14", "--write-off-dpd", "55"]):
        with pytest.raises(SystemExit) as exit_info:
            run([*argv, "--db", database_url, "--json"])
        assert exit_info.value.code in (0, None), argv
    return database_url


def rows(document: dict) -> list[tuple]:
    return [(loan["loan_id"], loan["borrower_id"], loan["product"], loan["status"],
             loan["bucket"], loan["dpd"]) for loan in document["loans"]]


def test_lists_every_loan_by_dpd_then_id_with_the_amounts_loan_show_gives(capsys, book):
    document = listed(capsys, book)
    assert rows(document) == EXPECTED
    assert (document["as_of"], document["count"], document["limit"], document["more"]) == (
        "2026-04-14", 7, 50, False)
    for loan in document["loans"]:
        code, out, _ = invoke(capsys, "loan", "show", loan["loan_id"], "--db", book, "--json")
        shown = json.loads(out)
        assert (loan["principal_outstanding"], loan["total_due"], loan["currency"]) == (
            shown["principal_outstanding"], shown["total_due"], "CNY")
    by_id = {loan["loan_id"]: loan for loan in document["loans"]}
    assert by_id["PHN-2002"]["principal_outstanding"] == "0.00"
    assert by_id["PHN-3001"]["total_due"] == "0.00"
    assert by_id["PHN-3001"]["principal_outstanding"] == "6999.00"


@pytest.mark.parametrize(("options", "expected_ids"), [
    (("--status", "overdue"), ["WLD-1002", "ZZ-1", "aa-1", "PHN-2001"]),
    (("--status", "WRITTEN_OFF"), ["WLD-1001"]),
    (("--status", "current"), ["PHN-3001"]),
    (("--bucket", "c"), ["PHN-2002", "PHN-3001"]),
    (("--bucket", "M3"), []),
    (("--product", "PHONE-24M", "--status", "overdue"), ["PHN-2001"]),
    (("--borrower", "B-1001"), ["WLD-1001", "PHN-2002"]),
    (("--borrower", "B-1002", "--bucket", "M2", "--limit", "2"), ["WLD-1002", "ZZ-1"]),
])
def test_filters_select_in_the_store(capsys, book, options, expected_ids):
    document = listed(capsys, book, *options)
    assert [loan["loan_id"] for loan in document["loans"]] == expected_ids
    assert document["count"] == len(expected_ids)


def test_the_limit_cuts_the_ordered_list_and_says_more_match(capsys, book):
    document = listed(capsys, book, "--limit", "3")
    assert rows(document) == EXPECTED[:3]
    assert (document["count"], document["limit"], document["more"]) == (3, 3, True)
    assert listed(capsys, book, "--limit", "7")["more"] is False


def test_the_table_names_the_loans_and_how_to_look_at_one(capsys, book):
    code, out, _ = invoke(capsys, "loan", "list", "--status", "overdue", "--limit", "1",
                          "--db", book)
    assert code == 0
    assert "WLD-1002" in out and "1799.76" in out and "ZZ-1" not in out
    assert "raise --limit" in out and "arrears loan show" in out
    code, out, _ = invoke(capsys, "loan", "list", "--bucket", "M7+", "--db", book)
    assert code == 0 and "no loans match" in out


@pytest.mark.parametrize(("options", "message"), [
    (("--status", "late"), "error: --status: unknown value 'late' "
                           "(expected one of current, overdue, settled, written_off)\n"),
    (("--bucket", "M8"), "error: --bucket: unknown value 'M8' "
                         "(expected one of C, M1, M2, M3, M4, M5, M6, M7+)\n"),
    (("--limit", "0"), "error: --limit: must be from 1 to 10,000 (got 0)\n"),
    (("--limit", "10001"), "error: --limit: must be from 1 to 10,000 (got 10001)\n"),
    (("--product", "CAR-60M"), "error: --product: no product 'CAR-60M' "
                               "(the book has PHONE-24M, WLD-DAILY)\n"),
    (("--borrower", "B-9999"), "error: --borrower: no borrower 'B-9999'\n"),
])
def test_a_bad_filter_is_one_line_naming_the_option(capsys, book, options, message):
    code, out, err = invoke(capsys, "loan", "list", *options, "--db", book, "--json")
    assert (code, out, err) == (2, "", message)


def test_a_book_without_a_business_date_is_refused(capsys, tmp_path):
    db = f"sqlite:///{tmp_path / 'empty.db'}"
    bootstrap.build(Settings(database_url=db)).migrate()
    code, _, err = invoke(capsys, "loan", "list", "--db", db)
    assert (code, err) == (2, "error: book: has no business date yet; run `arrears init`\n")
