"""A payment file posts what the same payments posted one at a time post (state, ledger,
payments, events), whatever its rows and however it is cut into chunks, and importing it again
changes nothing: a property over random files on copies of one opened SQLite book, and on a
few pairs of books opened on PostgreSQL (whose writes bind arrays and COPY rows)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arrears import bootstrap
from arrears.adapters.db import tables as t
from arrears.adapters.db.payment_import_store import SqlPaymentImportUnitOfWorkFactory
from arrears.application import payment_file
from arrears.application.handlers import eod, payments, servicing
from arrears.application.handlers.payment_import import ImportReport, import_payments
from arrears.config import Settings
from arrears.domain.errors import DomainError

from book_checks import assert_ledger_consistent, table_rows
from fakes import FixedClock
from loopback import POSTGRES_URL, postgres_schema_url
from shipped import default_products

EXAMPLES = Path(__file__).parents[2] / "examples"
OPEN = date(2026, 2, 2)
CLOSED = date(2026, 2, 20)
LOANS = ("WLD-1001", "WLD-1002", "PHN-2001", "PHN-2002", "NO-SUCH")
GENERIC = payment_file.FORMATS["generic"]


@pytest.fixture(scope="module")
def opened(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One book opened once: loans boarded, end-of-day run through CLOSED."""
    folder = tmp_path_factory.mktemp("opened")
    built = bootstrap.build(Settings(database_url=f"sqlite:///{folder / 'book.db'}",
                                     key_dir=str(folder / "keys")), clock=FixedClock())
    built.migrate()
    _open(built)
    built.engine.dispose()
    yield folder / "book.db"


def _open(built: bootstrap.Services) -> None:
    servicing.init_book(OPEN, default_products(), uow_factory=built.uow_factory)
    servicing.import_loans_csv((EXAMPLES / "loans.csv").read_text(),
                               uow_factory=built.uow_factory, clock=built.clock)
    eod.run_eod_through(CLOSED, uow_factory=built.uow_factory, clock=built.clock)


def _copy(source: Path, folder: Path, name: str) -> bootstrap.Services:
    target = folder / f"{name}.db"
    shutil.copyfile(source, target)
    return bootstrap.build(Settings(database_url=f"sqlite:///{target}",
                                    key_dir=str(folder / "keys")), clock=FixedClock())


def _without_ids(built: bootstrap.Services) -> dict[str, list[tuple[object, ...]]]:
    dump = {}
    for name, rows in table_rows(built).items():
        if name == "payment_import":
            continue
        columns = [c.name for c in t.metadata.tables[name].columns]
        kept = [i for i, column in enumerate(columns) if column != "id"]
        dump[name] = sorted((tuple(row[i] for i in kept) for row in rows), key=repr)
    return dump


rows = st.lists(st.tuples(
    st.integers(0, 11),  # key number: a repeated number is the same payment listed again
    st.sampled_from(LOANS),
    st.integers(1, 1_200_000),  # fen
    st.integers(-40, 3).map(lambda d: CLOSED + timedelta(days=d))), min_size=1, max_size=9)


def _file(listed: list[tuple[int, str, int, date]]) -> str:
    first: dict[int, tuple[str, int, date]] = {}
    lines = ["key,loan_id,amount,paid_on"]
    for number, loan, fen, on in listed:
        loan, fen, on = first.setdefault(number, (loan, fen, on))  # a key names one payment
        lines.append(f"k-{number},{loan},{fen // 100}.{fen % 100:02d},{on.isoformat()}")
    return "\n".join(lines) + "\n"


def _check_file(text: str, chunk_rows: int, filed: bootstrap.Services,
                single: bootstrap.Services) -> None:
    parsed = payment_file.parse(text, GENERIC)

    def imported() -> ImportReport:
        return import_payments(parsed, "0" * 64,
                               uow_factory=SqlPaymentImportUnitOfWorkFactory(filed.engine),
                               clock=filed.clock, chunk_rows=chunk_rows,
                               is_duplicate_key_error=bootstrap.is_duplicate_key_error)

    report = imported()
    posted_one_by_one = []
    for row in parsed.rows:
        try:
            result = payments.post_payment(
                row.loan_ref, payment_file.minor_units(row.amount, "CNY"), row.on, row.key,
                uow_factory=single.uow_factory, clock=single.clock)
        except DomainError:
            continue
        if not result.duplicate:
            posted_one_by_one.append(row.line)
    assert [r.line for r in report.posted] == posted_one_by_one
    assert len(report.posted) + len(report.already_posted) + len(report.rejected) == len(
        parsed.rows)
    book = _without_ids(filed)
    assert book == _without_ids(single)
    assert_ledger_consistent(filed)
    assert imported().posted == [] and _without_ids(filed) == book


@settings(max_examples=10, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(listed=rows, chunk_rows=st.integers(1, 4))
def test_a_file_posts_exactly_what_single_payments_post(opened: Path, tmp_path: Path,
                                                        listed, chunk_rows) -> None:
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    filed, single = _copy(opened, folder, "filed"), _copy(opened, folder, "single")
    try:
        _check_file(_file(listed), chunk_rows, filed, single)
    finally:
        filed.engine.dispose()
        single.engine.dispose()


@pytest.mark.skipif(POSTGRES_URL is None, reason="ARREARS_TEST_POSTGRES_URL is not set")
@settings(max_examples=5, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(listed=rows, chunk_rows=st.integers(1, 4))
def test_a_file_posts_exactly_what_single_payments_post_on_postgresql(
        tmp_path: Path, listed, chunk_rows) -> None:
    with ExitStack() as books:
        filed, single = (books.enter_context(_opened_on_postgres(tmp_path / name))
                         for name in ("filed", "single"))
        _check_file(_file(listed), chunk_rows, filed, single)


@contextmanager
def _opened_on_postgres(folder: Path) -> Iterator[bootstrap.Services]:
    schemas = postgres_schema_url()
    built = bootstrap.build(Settings(database_url=next(schemas), key_dir=str(folder)),
                            clock=FixedClock())
    try:
        built.migrate()
        _open(built)
        yield built
    finally:
        built.engine.dispose()
        next(schemas, None)
