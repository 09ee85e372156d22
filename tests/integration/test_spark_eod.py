"""The Spark executor through the book: the same days closed on Spark (local[2]) and by the
scalar EOD leave identical books."""

from __future__ import annotations

import shutil
from datetime import date

import pytest

from arrears import bootstrap
from arrears.adapters.db.columns import SqlColumnStore
from arrears.application.handlers import eod
from arrears.batch.executor import vectorised_closer
from arrears.config import Settings

from fakes import FixedClock
from test_vectorised_eod import _content, _simulate

pytest.importorskip("pyspark", reason="the Spark extra is not installed")
from arrears.batch.spark import SparkKernel  # noqa: E402

CLOSE_THROUGH = date(2026, 4, 23)


def test_spark_closes_days_like_the_scalar_engine(tmp_path):
    base = tmp_path / "base.db"
    built = bootstrap.build(Settings(database_url=f"sqlite:///{base}"), clock=FixedClock())
    built.migrate()
    _simulate(built, eod.SCALAR)
    built.engine.dispose()
    books = {}
    for engine in ("scalar", "spark"):
        path = tmp_path / f"{engine}.db"
        shutil.copy(base, path)
        books[engine] = bootstrap.build(Settings(database_url=f"sqlite:///{path}"),
                                        clock=FixedClock())
    kernel = SparkKernel(master="local[2]", workdir=tmp_path / "spark", partitions=2)
    try:
        closer = vectorised_closer(SqlColumnStore(), write_off_dpd=60, clock=FixedClock(),
                                   kernel=kernel)
        eod.run_eod_through(CLOSE_THROUGH, uow_factory=books["spark"].uow_factory,
                            clock=FixedClock(), write_off_dpd=60, engine="spark",
                            close_batch=closer)
    finally:
        kernel.stop()
    eod.run_eod_through(CLOSE_THROUGH, uow_factory=books["scalar"].uow_factory,
                        clock=FixedClock(), write_off_dpd=60)
    assert _content(books["spark"]) == _content(books["scalar"])
