"""`arrears credentials …`, `arrears evidence …` and `arrears collectors deactivate` end to end
on a SQLite file: the JSON shapes scripts rely on, exit codes (0 genuine / intact, 1 not, 2 bad
input), a bundle checked against the published JWKS, and a collector's credentials revoked as
they leave."""

from __future__ import annotations

import base64
import json
import zipfile
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


def _book(capsys, tmp_path, monkeypatch) -> str:
    """The example loans through 2026-03-20, collector C-01 working the M2 cases: the URL."""
    monkeypatch.setenv("ARREARS_KEY_DIR", str(tmp_path / "keys"))
    db = f"sqlite:///{tmp_path / 'book.db'}"
    for argv in (("init", "--business-date", "2026-02-02"),
                 ("import", "loans", str(EXAMPLES / "loans.csv")),
                 ("collectors", "add", "C-01", "--name", "王敏", "--bucket", "M2"),
                 ("eod", "--through", "2026-03-20"),
                 ("strategies", "run", "--day", "2026-03-20")):
        code, _, err = invoke(capsys, *argv, "--db", db, "--json")
        assert code == 0, (argv, err)
    return db


def test_credentials_and_evidence_commands(capsys, tmp_path, monkeypatch) -> None:
    db = _book(capsys, tmp_path, monkeypatch)
    code, out, err = invoke(capsys, "credentials", "issue", "--collector", "C-01", "--debt",
                            "WLD-1001", "--scope", "call", "--db", db, "--json")
    assert code == 0, err
    issued = json.loads(out)
    assert set(issued) == {"token", "qr_svg", "kid", "claims"}
    assert issued["qr_svg"].startswith("<svg") and issued["claims"]["debt"] == "WLD-1001"
    token = issued["token"]
    code, out, _ = invoke(capsys, "credentials", "verify", token, "--debt", "WLD-1001",
                          "--db", db, "--json")
    verdict = json.loads(out)
    assert code == 0 and verdict["verdict"] == "genuine"
    assert verdict["collector"] == {"id": "C-01", "name": "王敏"} and verdict["agency"] is None
    assert verdict["scope"] == ["call"]
    code, out, _ = invoke(capsys, "credentials", "verify", token, "--debt", "WLD-1002",
                          "--db", db, "--json")
    assert code == 1 and json.loads(out)["verdict"] == "wrong_debt"
    # Without --json a borrower reads the verdict in plain words, with who and what.
    code, out, _ = invoke(capsys, "credentials", "verify", token, "--debt", "WLD-1001",
                          "--db", db)
    assert code == 0 and out.startswith("GENUINE: 王敏 (C-01) may call about WLD-1001")
    # The signature's first character changed: its last ones may carry only padding bits.
    signed, signature = token.rsplit(".", 1)
    forged = f"{signed}.{'B' if signature[0] == 'A' else 'A'}{signature[1:]}"
    code, out, _ = invoke(capsys, "credentials", "verify", forged, "--db", db)
    assert code == 1 and out.startswith("FORGED: ") and "do not deal with this caller" in out
    code, _, err = invoke(capsys, "credentials", "verify", token, "--on", "2026-13-01",
                          "--db", db)
    assert code == 2 and err.startswith("error: --on:")
    code, _, err = invoke(capsys, "credentials", "issue", "--collector", "C-01", "--debt",
                          "WLD-1001", "--scope", "fax", "--db", db)
    assert code == 2 and err.startswith("error: scope:")
    code, out, _ = invoke(capsys, "credentials", "revoke", token, "--db", db, "--json")
    assert code == 0 and json.loads(out)["revoked"] is True
    code, out, _ = invoke(capsys, "credentials", "verify", token, "--db", db, "--json")
    assert code == 1 and json.loads(out)["verdict"] == "revoked"
    code, out, _ = invoke(capsys, "credentials", "keys", "--db", db)
    jwks = json.loads(out)
    assert [k["kid"] for k in jwks["keys"]] == [issued["kid"]]
    (tmp_path / "jwks.json").write_text(out)

    code, out, err = invoke(capsys, "contacts", "log", "WLD-1001", "--actor", "C-01",
                            "--outcome", "conversation", "--at", "2026-03-21T10:00:00+08:00",
                            "--db", db, "--json")
    assert code == 0, err
    bundle = tmp_path / "b.zip"
    code, out, err = invoke(capsys, "evidence", "export", "B-1001", "--out", str(bundle),
                            "--db", db, "--json")
    assert code == 0, err
    code, out, _ = invoke(capsys, "evidence", "verify", str(bundle), "--jwks",
                          str(tmp_path / "jwks.json"), "--json")
    assert code == 0 and json.loads(out)["intact"] is True
    with zipfile.ZipFile(bundle) as original:
        members = {n: original.read(n) for n in original.namelist()}
    lines = members["entries.jsonl"].split(b"\n")
    members["entries.jsonl"] = b"\n".join([lines[1], lines[0], *lines[2:]])
    with zipfile.ZipFile(tmp_path / "bad.zip", "w") as tampered:
        for name, data in members.items():
            tampered.writestr(name, data)
    code, out, _ = invoke(capsys, "evidence", "verify", str(tmp_path / "bad.zip"), "--db", db,
                          "--json")
    report = json.loads(out)
    assert code == 1 and report["intact"] is False
    assert any(p["where"] == "entry 1" for p in report["problems"])
    code, _, err = invoke(capsys, "evidence", "export", "NOPE", "--out", str(bundle),
                          "--db", db)
    assert code == 2 and err.startswith("error: BORROWER_ID:")
    code, _, err = invoke(capsys, "evidence", "verify", str(tmp_path / "missing.zip"),
                          "--db", db)
    assert code == 2 and err.startswith("error: BUNDLE.zip:")
    # Hostile input: a token no parser should agree on is forged (exit 1), never a crash; a
    # purge naming a day to come is refused (it would drop what retention still requires).
    huge = b'{"alg":"EdDSA","kid":"k","n":' + b"9" * 5000 + b"}"
    far = json.dumps({**issued["claims"], "nbf": 10**30}).encode()  # past any datetime
    for hostile in (f"{_b64(huge)}.{_b64(b'{}')}.{_b64(bytes(64))}",
                    f"{_b64(b'[' * 50_000)}.{_b64(b'{}')}.{_b64(bytes(64))}",
                    f"{token.split('.')[0]}.{_b64(far)}.AA"):
        code, out, err = invoke(capsys, "credentials", "verify", hostile, "--db", db, "--json")
        assert code == 1 and json.loads(out)["verdict"] == "forged", err
    code, _, err = invoke(capsys, "evidence", "purge", "--as-of", "2999-01-01", "--db", db)
    assert code == 2 and err.startswith("error: --as-of:"), err


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


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
    """`arrears collectors deactivate`: a collector who leaves stops collecting at once — their
    open cases go back to the case sync, which gives them to another collector, every
    credential they hold (a badge, one for a debt) reads as revoked to a borrower checking it,
    and their API key is revoked; bad input names its field and changes nothing."""
    db = _book(capsys, tmp_path, monkeypatch)
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
    code, out, err = invoke(capsys, "apikeys", "create", "C-01's dialer", "--role",
                            "collector", "--collector", "C-01", "--db", db, "--json")
    assert code == 0, err
    key_ref = json.loads(out)["id"]

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
    assert (done["api_keys_revoked"], done["web_users_disabled"], done["visits_cancelled"]) \
        == ([key_ref], [], 0)
    code, out, err = invoke(capsys, "apikeys", "list", "--db", db, "--json")
    assert code == 0, err
    assert [k["revoked_at"] is not None for k in json.loads(out)["keys"]
            if k["id"] == key_ref] == [True]
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
