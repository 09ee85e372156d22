"""`arrears users create`: the password comes from standard input (or a prompt), only its
Argon2 hash is stored, and bad input exits 2 naming the field."""

from __future__ import annotations

import io
import sys

import pytest
import sqlalchemy as sa

from arrears import bootstrap
from arrears.application.handlers import users
from arrears.config import Settings
from arrears.entrypoints.cli.main import run

PASSWORD = "a long enough password"


def invoke(capsys, monkeypatch, stdin: str, *argv: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    with pytest.raises(SystemExit) as exit_info:
        run(list(argv))
    captured = capsys.readouterr()
    return int(exit_info.value.code or 0), captured.out, captured.err


def test_users_create(capsys, monkeypatch, tmp_path) -> None:
    db = f"sqlite:///{tmp_path / 'book.db'}"
    code, _, err = invoke(capsys, monkeypatch, "", "init", "--business-date", "2026-02-02",
                          "--db", db)
    assert code == 0, err
    code, out, err = invoke(capsys, monkeypatch, PASSWORD + "\n", "users", "create", "ana",
                            "--role", "supervisor", "--password-stdin", "--db", db, "--json")
    assert code == 0, err
    assert '"role": "supervisor"' in out
    built = bootstrap.build(Settings(database_url=db))
    with built.engine.connect() as connection:
        stored = connection.execute(sa.text("SELECT password_hash FROM web_user")).scalar_one()
    assert stored.startswith("$argon2") and PASSWORD not in stored
    assert users.sign_in("ana", PASSWORD, uow_factory=built.web_uow_factory()) is not None
    assert users.sign_in("ana", "wrong password!", uow_factory=built.web_uow_factory()) is None

    for stdin, argv, field in (
            (PASSWORD, ("ana", "--role", "supervisor"), "name"),  # already exists
            (PASSWORD, ("bob", "--role", "boss"), "role"),
            ("short", ("bob", "--role", "admin"), "password"),
            (PASSWORD, ("bob", "--role", "collector"), "collector"),
            (PASSWORD, ("bob", "--role", "agency", "--agency", "AG-NONE"), "agency")):
        code, _, err = invoke(capsys, monkeypatch, stdin + "\n", "users", "create", *argv,
                              "--password-stdin", "--db", db)
        assert code == 2 and err.startswith(f"error: {field}:"), (argv, err)
    code, _, err = invoke(capsys, monkeypatch, "", "users", "create", "bob", "--role", "admin",
                          "--db", db)
    assert code == 2 and "--password-stdin" in err  # no terminal to prompt on
    built.engine.dispose()
