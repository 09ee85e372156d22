"""The demo's fresh start drops a book of an older release too, whose tables may keep keys the
newest schema dropped (the ledger's keys to the loan, 2026-12-13), on both backends; and the
index that migration adds keeps its condition."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from arrears.adapters.db.engine import alembic_config, create_engine, rebuild, upgrade
from arrears.entrypoints.cli.main import run

from loopback import BACKENDS, postgres_schema_url

BEFORE_LEDGER_KEYS_WENT = "d4f6b8c0e235"


@pytest.fixture(params=BACKENDS)
def url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'book.db'}"
        return
    urls = postgres_schema_url()
    yield next(urls)
    next(urls, None)


def _demo(url: str, sinks: Path) -> None:
    with pytest.raises(SystemExit) as exit_info:
        run(["demo", "--loans", "12", "--days", "3", "--season-months", "2", "--db", url,
             "--sinks", str(sinks), "--json"])
    assert not exit_info.value.code


def test_a_book_with_the_older_ledger_keys_is_rebuilt(url, tmp_path, capsys):
    _demo(url, tmp_path / "sinks")
    engine = create_engine(url)
    try:
        command.downgrade(alembic_config(url), BEFORE_LEDGER_KEYS_WENT)
        with engine.connect() as connection:
            keys = sa.inspect(connection).get_foreign_keys("posting")
            assert [k["referred_table"] for k in keys] == ["loan"]
            assert connection.scalar(sa.text("SELECT count(*) FROM posting")) > 0
        rebuild(engine)
        with engine.connect() as connection:
            assert sa.inspect(connection).get_foreign_keys("posting") == []
            assert connection.scalar(sa.text("SELECT count(*) FROM loan")) == 0
    finally:
        engine.dispose()
    capsys.readouterr()


def test_rebuild_leaves_tables_that_are_not_the_books(url):
    engine = create_engine(url)
    try:
        upgrade(engine)
        with engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE lender_notes (note TEXT)")
        rebuild(engine)
        with engine.connect() as connection:
            assert "lender_notes" in sa.inspect(connection).get_table_names()
    finally:
        engine.dispose()


def test_the_cash_index_keeps_its_condition(url):
    engine = create_engine(url)
    try:
        upgrade(engine)
        with engine.connect() as connection:
            index = next(i for i in sa.inspect(connection).get_indexes("posting")
                         if i["name"] == "ix_posting_cash")
    finally:
        engine.dispose()
    condition = str(next(iter(index.get("dialect_options", {}).values()), ""))
    assert index["column_names"] == ["business_date"]
    assert "cash" in condition and "account" in condition
