"""`arrears collectors deactivate`: a collector who leaves stops collecting at once — their
open cases go back to the case sync, which gives them to another collector, and every
credential they hold (a badge, one for a debt) reads as revoked to a borrower checking it;
bad input names its field and changes nothing."""

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


def _workers(db: str) -> dict[str, str | None]:
    """Each open case's collector (None: waiting for the next case sync)."""
    engine = sa.create_engine(db)
    with engine.connect() as connection:
        rows = connection.execute(sa.text(
            "SELECT c.id, k.collector_ref FROM collection_case c "
            "LEFT JOIN collector k ON k.id = c.collector_id WHERE c.status = 'open'"))
        found = {str(case): ref for case, ref in rows}
    engine.dispose()
    return found


def test_a_deactivated_collector_holds_no_case_and_no_credential(capsys, tmp_path,
                                                                 monkeypatch) -> None:
    monkeypatch.setenv("ARREARS_KEY_DIR", str(tmp_path / "keys"))
    db = f"sqlite:///{tmp_path / 'book.db'}"
    for argv in (("init", "--business-date", "2026-02-02"),
                 ("import", "loans", str(EXAMPLES / "loans.csv")),
                 ("collectors", "add", "C-01", "--name", "王敏", "--bucket", "M2"),
                 ("eod", "--through", "2026-03-20"),
                 ("strategies", "run", "--day", "2026-03-20")):
        code, _, err = invoke(capsys, *argv, "--db", db, "--json")
        assert code == 0, (argv, err)
    held = {case for case, ref in _workers(db).items() if ref == "C-01"}
    assert held
    code, out, err = invoke(capsys, "credentials", "issue", "--collector", "C-01", "--debt",
                            "WLD-1001", "--scope", "call", "--db", db, "--json")
    assert code == 0, err
    token = json.loads(out)["token"]
    code, out, err = invoke(capsys, "collectors", "credential", "C-01", "BADGE-C-01",
                            "--valid-from", "2026-01-01T00:00:00+08:00",
                            "--valid-until", "2027-01-01T00:00:00+08:00", "--db", db, "--json")
    assert code == 0, err
    badge = json.loads(out)["token"]

    code, _, err = invoke(capsys, "collectors", "deactivate", "C-01", "--reason", " ",
                          "--db", db)
    assert code == 2 and err.startswith("error: reason:")
    assert {case for case, ref in _workers(db).items() if ref == "C-01"} == held  # unchanged
    code, out, err = invoke(capsys, "collectors", "deactivate", "C-01", "--reason",
                            "left the company", "--db", db, "--json")
    assert code == 0, err
    done = json.loads(out)
    assert done["cases_released"] == len(held)
    assert len(done["credentials_revoked"]) == 2 and "BADGE-C-01" in done["credentials_revoked"]
    workers = _workers(db)
    assert "C-01" not in workers.values() and {workers[case] for case in held} == {None}
    for presented in (token, badge):
        code, out, _ = invoke(capsys, "credentials", "verify", presented, "--db", db, "--json")
        assert code == 1 and json.loads(out)["verdict"] == "revoked"
    code, _, err = invoke(capsys, "collectors", "deactivate", "C-01", "--reason", "again",
                          "--db", db)
    assert code == 2 and err.startswith("error: collector:") and "C-01" in err

    # The next case sync gives the cases to a collector on the floor.
    buckets = [arg for bucket in ("M1", "M2", "M3", "M4", "M5", "M6", "M7+")
               for arg in ("--bucket", bucket)]
    for argv in (("collectors", "add", "C-02", "--name", "李强", *buckets),
                 ("eod", "--through", "2026-03-21"),
                 ("strategies", "run", "--day", "2026-03-21")):
        code, _, err = invoke(capsys, *argv, "--db", db, "--json")
        assert code == 0, (argv, err)
    workers = _workers(db)
    assert {workers[case] for case in held if case in workers} == {"C-02"}
