"""`arrears agencies place` and `recall` end to end on a SQLite file: a case placed by hand
with a whitelisted agency and recalled; each refusal exits 2 naming the argument or option,
and changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from arrears.entrypoints.cli.main import run

EXAMPLES = Path(__file__).parents[2] / "examples"


def invoke(capsys, *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        run(list(argv))
    captured = capsys.readouterr()
    return int(exit_info.value.code or 0), captured.out, captured.err


def placements(db: str) -> list[tuple[object, ...]]:
    engine = sa.create_engine(db)
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT case_id, agency_id, scope, placed_on, ends_on, recalled_on FROM placement "
            "ORDER BY id").all()
    engine.dispose()
    return [tuple(row) for row in rows]


def test_a_case_is_placed_by_hand_and_recalled(capsys, tmp_path) -> None:
    db = f"sqlite:///{tmp_path / 'book.db'}"
    for argv in (("init", "--business-date", "2026-02-02"),
                 ("import", "loans", str(EXAMPLES / "loans.csv")),
                 ("collectors", "add", "C-01", "--name", "王敏", "--bucket", "M1"),
                 ("agencies", "add", "AG-HUAXIN", "--name", "华信", "--licence", "JR-1",
                  "--valid-from", "2026-01-01", "--valid-until", "2027-12-31",
                  "--capacity", "10", "--commission-rate", "0.1", "--fixed-fee", "5000"),
                 ("agencies", "add", "AG-UNLISTED", "--name", "某机构", "--licence", "JR-2",
                  "--valid-from", "2026-01-01", "--valid-until", "2027-12-31",
                  "--capacity", "10", "--commission-rate", "0.1", "--fixed-fee", "5000",
                  "--no-whitelisted"),
                 ("eod", "--through", "2026-03-20"),
                 ("strategies", "run", "--day", "2026-03-20")):  # syncs the cases first
        code, _, err = invoke(capsys, *argv, "--db", db, "--json")
        assert code == 0, (argv, err)
    engine = sa.create_engine(db)
    with engine.connect() as connection:
        case_id = connection.exec_driver_sql(
            "SELECT min(id) FROM collection_case WHERE status = 'open' AND id NOT IN "
            "(SELECT case_id FROM placement)").scalar()
    engine.dispose()
    assert case_id is not None
    before = placements(db)
    for argv, named in (
            (("agencies", "place", str(case_id), "--agency", "AG-NOBODY"), "--agency"),
            (("agencies", "place", str(case_id), "--agency", "AG-UNLISTED"), "--agency"),
            (("agencies", "place", str(case_id), "--agency", "AG-HUAXIN", "--days", "0"),
             "--days"),
            (("agencies", "place", str(case_id), "--agency", "AG-HUAXIN", "--scope", "visit"),
             "--scope"),
            (("agencies", "place", "999999", "--agency", "AG-HUAXIN"), "CASE_ID"),
            (("agencies", "recall", str(case_id)), "CASE_ID")):
        code, out, err = invoke(capsys, *argv, "--db", db)
        assert (code, out) == (2, ""), (argv, err)
        assert err.startswith(f"error: {named}:"), (argv, err)
        assert placements(db) == before
    code, out, err = invoke(capsys, "agencies", "place", str(case_id), "--agency", "AG-HUAXIN",
                            "--days", "30", "--db", db, "--json")
    assert code == 0, err
    placed = json.loads(out)
    assert (placed["agency"], placed["placed_on"], placed["ends_on"]) == (
        "AG-HUAXIN", "2026-03-21", "2026-04-20")
    assert placed["loans"]
    code, _, err = invoke(capsys, "agencies", "place", str(case_id), "--agency", "AG-HUAXIN",
                          "--db", db)
    assert code == 2 and err.startswith("error: CASE_ID:") and "recall it first" in err
    code, out, err = invoke(capsys, "agencies", "recall", str(case_id), "--db", db, "--json")
    assert code == 0, err
    assert json.loads(out) == {"case_id": case_id, "recalled_on": "2026-03-21"}
    assert [row[-1] for row in placements(db) if row[0] == case_id] == ["2026-03-21"]
