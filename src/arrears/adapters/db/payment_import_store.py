"""The store behind payment files (`PaymentImportStore`) on SQLAlchemy Core, and the unit of
work that carries it beside the book on one transaction.

Everything is per chunk of rows, never per row: loans, the keys already posted and the
payments of replayed loans are each one query, and the new payment and import rows are
multi-row inserts. A loan priced on its plain rows (`LoanSnapshot`) is read without the
installments that owe nothing and written once however many of its payments the chunk holds.

Each list of keys is one parameter: on SQLite a JSON array read by `json_each` (an IN list of
bound values stops at 900, and SQLAlchemy spends more expanding one than SQLite takes to run
the query), on PostgreSQL an array. PostgreSQL finds a chunk's loans ref by ref, and their
installments and payments loan by loan, through their indexes (`_postgres_queries`): a book's
planner statistics may be missing or stale (autovacuum off, a book boarded a minute ago), and
without them the planner takes a list of a thousand loan ids for most of the table and scans
all of it, once per chunk: quadratic in the file (148 s for 100,000 rows; 18 s now). Each kind
of row a chunk writes is one statement too: a COPY, or an UPDATE with its columns bound as
arrays.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from operator import attrgetter, itemgetter
from typing import Any, Self

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from arrears.adapters.db import tables as t
from arrears.adapters.db.book import (
    HOLDS_PLAN,
    INSTALLMENT_AMOUNTS,
    OUTBOX_COLUMNS,
    UPDATE_INSTALLMENT,
    driver_dates,
    driver_form,
    execute_rows,
    insert_rows,
    new_ids,
    outbox_rows,
    stored_installment,
)
from arrears.adapters.db.read_ahead import planners
from arrears.adapters.db.unit_of_work import SqlUnitOfWork, SqlUnitOfWorkFactory
from arrears.application.handlers.payment_import import (
    READ_AHEAD_MIN_ROWS,
    ChunkWrites,
    NewPayment,
    PostedKey,
)
from arrears.application.handlers.same_day_payments import LoanPosted, LoanSnapshot
from arrears.application.ports import LoanBook, ReadAhead, StaleWrite, StoredPayment
from arrears.domain.accrual import SUB_MINOR_PER_MINOR
from arrears.domain.delinquency import Bucket

ONE_DAY = timedelta(days=1)

# The columns each kind of row is written with, in the order its tuples hold them.
PAYMENT_COLUMNS = ("id", "loan_id", "idempotency_key", "paid_on", "amount", "to_fee",
                   "to_penalty", "to_compound", "to_interest", "to_principal", "to_credit",
                   "recovery", "prepayment", "reverses_id", "recorded_at")
POSTING_COLUMNS = ("entry", "loan_id", "business_date", "account", "amount")
DELINQUENCY_CHANGE_COLUMNS = ("loan_id", "business_date", "from_bucket", "to_bucket", "dpd")
IMPORT_COLUMNS = ("source", "row_key", "payment_id", "file_sha256", "line", "imported_at")
_loan, _row, _payment, _posting = t.loan.c, t.installment.c, t.payment.c, t.posting.c
PLAN_AMOUNTS = [_loan[f"{what}_{component}"] != 0 for what in ("waived", "capitalised")
                for component in ("fee", "penalty", "compound", "interest", "principal")]
UNPAID = (_row.principal != _row.paid_principal) | (_row.interest != _row.paid_interest) \
    | (_row.fee != _row.paid_fee)
# Due by the open day and owing something: the rows a same-day payment can change.
LIVE = ((_row.due_on <= sa.bindparam("day"))
        & (UNPAID | (_row.penalty_accrued != _row.penalty_paid * SUB_MINOR_PER_MINOR)
           | (_row.compound_accrued != _row.compound_paid * SUB_MINOR_PER_MINOR)))
LIVE_COLUMNS = (_row.number, _row.due_on, *(_row[name] for name in INSTALLMENT_AMOUNTS))
NEXT_UNPAID_DUE = sa.func.min(sa.case((UNPAID & (_row.due_on > sa.bindparam("day")),
                                      _row.due_on)))
# Cast: PostgreSQL sums bigints as numeric.
AHEAD_PRINCIPAL = sa.cast(sa.func.coalesce(sa.func.sum(sa.case(
    (_row.due_on > sa.bindparam("day"), _row.principal - _row.paid_principal), else_=0)), 0),
    sa.BigInteger)
_ahead = t.installment.alias("ahead").c


def _first_ahead_owed(loan_id: sa.ColumnElement[Any]) -> sa.Select[Any]:
    """What the first installment of `loan_id` due after the open day, by number, still asks
    for: principal, interest and fee (`LoanSnapshot.ahead_owed`); read by the primary key."""
    return (sa.select(((_ahead.principal - _ahead.paid_principal)
                       + (_ahead.interest - _ahead.paid_interest)
                       + (_ahead.fee - _ahead.paid_fee)).label("owed"))
            .where((_ahead.loan_id == loan_id) & (_ahead.due_on > sa.bindparam("day")))
            .order_by(_ahead.number).limit(1))


# A filter on a column's values among a list of keys bound as `name`.
Among = Callable[[sa.ColumnElement[Any], str], sa.ColumnElement[bool]]


@dataclass(frozen=True, slots=True)
class _Queries:
    """The store's reads on one kind of database."""

    loan_ids_by_ref: sa.Select[Any]
    # The ids of the loans among `refs`, locked, in id order; None where a transaction holds
    # the whole database (`loan_ids_by_ref` finds them there).
    lock_loans: sa.Executable | None
    snapshot_loans: sa.Select[Any]
    live_rows: sa.Select[Any]  # (loan id, `LIVE_COLUMNS`) by loan and number
    # (loan id, first unpaid due date after the open day, `ahead_owed`, `ahead_principal`)
    due_dates: sa.Select[Any]
    posted: sa.Select[Any]
    payments_of: sa.Select[Any]  # payment rows by loan, date and id


def _queries(among: Among) -> _Queries:
    """The reads on SQLite, which `_postgres_queries` builds on. No row is locked there: a
    writer's transaction begins IMMEDIATE, holding the whole database from its first
    statement."""
    return _Queries(
        loan_ids_by_ref=sa.select(_loan.loan_ref, _loan.id).where(among(_loan.loan_ref, "refs")),
        lock_loans=None,
        snapshot_loans=sa.select(
            _loan.id, _loan.loan_ref, _loan.currency, _loan.product_code, _loan.disbursed_on,
            _loan.state_on, _loan.bucket, _loan.delinquent_since, _loan.written_off_on,
            _loan.pauses, _loan.unapplied, _loan.offer_received,
            sa.or_(*PLAN_AMOUNTS).label("plan_amounts"), HOLDS_PLAN.label("holds_plan"),
        ).where(among(_loan.id, "ids")).order_by(_loan.id),
        live_rows=sa.select(_row.loan_id, *LIVE_COLUMNS)
        .where(among(_row.loan_id, "ids") & LIVE).order_by(_row.loan_id, _row.number),
        due_dates=sa.select(
            _row.loan_id, NEXT_UNPAID_DUE,
            sa.func.coalesce(_first_ahead_owed(_row.loan_id).scalar_subquery(), 0),
            AHEAD_PRINCIPAL,
        ).where(among(_row.loan_id, "ids")).group_by(_row.loan_id),
        posted=sa.select(_payment.idempotency_key, _payment.loan_id, _payment.amount,
                         _payment.paid_on).where(among(_payment.idempotency_key, "keys")),
        payments_of=sa.select(t.payment).where(among(_payment.loan_id, "ids"))
        .order_by(_payment.loan_id, _payment.paid_on, _payment.id))


class _JsonArray(sa.types.TypeDecorator[list[Any]]):
    """A list of ids or keys bound as the text of one JSON array."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: list[Any] | None, dialect: sa.Dialect) -> str:
        return json.dumps(value)


def _in_json(column: sa.ColumnElement[Any], name: str) -> sa.ColumnElement[bool]:
    values = sa.func.json_each(sa.bindparam(name, type_=_JsonArray)).table_valued("value")
    return column.in_(sa.select(values.c.value))


class _ArrayText(sa.types.TypeDecorator[list[Any]]):
    """A list bound as the text of a PostgreSQL array, cast to the array's type in SQL
    (`_array`): psycopg adapts a list element by element in Python, which cost a chunk's
    reads and updates more than joining strings does."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: list[Any] | None, dialect: sa.Dialect) -> str:
        values = value or ()
        if set(map(type, values)) <= _PLAIN:  # most columns: no element needs a look
            return "{" + ",".join(map(str, values)) + "}"
        return "{" + ",".join(map(_array_element, values)) + "}"


_PLAIN = {int, date}  # written as `str` writes them: digits, YYYY-MM-DD


def _array_element(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value)  # an integer, or a date as YYYY-MM-DD


def _array(name: str, item_type: sa.types.TypeEngine[Any]) -> sa.ColumnElement[Any]:
    """The list bound as `name`, as an array of `item_type`."""
    return sa.cast(sa.bindparam(name, type_=_ArrayText), postgresql.ARRAY(item_type))


def _in_array(column: sa.ColumnElement[Any], name: str) -> sa.ColumnElement[bool]:
    if isinstance(column.type, sa.String):
        # Keys stay arrays psycopg binds: cast from text, the planner looked for a list of
        # payment keys by scanning the table, 1.2 s a chunk.
        return column == sa.any_(sa.bindparam(name, type_=postgresql.ARRAY(column.type)))
    return column == sa.any_(_array(name, column.type))


def _postgres_queries() -> _Queries:
    """Arrays for lists; a chunk's installments and payments read loan by loan, each loan's
    rows by index (`LATERAL`): nothing scans a table, whatever the planner believes of it.
    `OFFSET 0` keeps the planner from flattening a lateral read into a join with the whole
    table (it does not flatten a subquery with an OFFSET)."""
    queries = _queries(_in_array)
    wanted = (sa.func.unnest(_array("ids", sa.BigInteger()))
              .table_valued("id").render_derived(name="wanted"))

    live = (sa.select(*LIVE_COLUMNS).where((_row.loan_id == wanted.c.id) & LIVE).offset(0)
            .lateral("live"))
    due = (sa.select(NEXT_UNPAID_DUE.label("next_unpaid_due"),
                     AHEAD_PRINCIPAL.label("ahead_principal"))
           .where(_row.loan_id == wanted.c.id).lateral("due"))  # an aggregate: never flattened
    ahead = _first_ahead_owed(wanted.c.id).lateral("first_ahead")
    paid = sa.select(t.payment).where(_payment.loan_id == wanted.c.id).offset(0).lateral("paid")
    return _Queries(
        loan_ids_by_ref=queries.loan_ids_by_ref,
        # Found by their refs and locked by a statement of its own before the read (see
        # `book.LOCK_LOANS`), in id order as every writer locking several loans: a ref never
        # changes, so finding and locking are one statement. Each ref is looked up by its
        # index: given the list itself (`loan_ref = ANY(...)`), the planner read the whole
        # loan table once per chunk, some 20 ms of a book of 100,000 loans.
        lock_loans=sa.text(
            "SELECT id FROM loan WHERE id = ANY(ARRAY(SELECT (SELECT id FROM loan AS by_ref "
            "WHERE by_ref.loan_ref = ref) FROM unnest(CAST(:refs AS varchar[])) AS ref)) "
            "ORDER BY id FOR UPDATE"),
        snapshot_loans=queries.snapshot_loans,
        live_rows=sa.select(wanted.c.id, live).select_from(wanted.join(live, sa.true()))
        .order_by(wanted.c.id, live.c.number),
        due_dates=sa.select(wanted.c.id, due.c.next_unpaid_due,
                            sa.func.coalesce(ahead.c.owed, 0), due.c.ahead_principal)
        .select_from(wanted.join(due, sa.true()).outerjoin(ahead, sa.true())),
        posted=queries.posted,
        payments_of=sa.select(paid).select_from(wanted.join(paid, sa.true()))
        .order_by(paid.c.loan_id, paid.c.paid_on, paid.c.id))


_BUCKETS = {bucket.value: bucket for bucket in Bucket}
QUERIES = {"sqlite": _queries(_in_json), "postgresql": _postgres_queries()}
SAME_DAY_LOAN_COLUMNS = ("state_on", "status", "dpd", "bucket", "earliest_unpaid_due_on",
                         "delinquent_since", "unapplied")
SAME_DAY_LOAN_KEYS = ("b_id", "b_state_on", *SAME_DAY_LOAN_COLUMNS)  # a loan's row, as written
INSTALLMENT_KEYS = ("b_loan_id", "b_number", "due_on", *INSTALLMENT_AMOUNTS)
amounts_of = attrgetter(*INSTALLMENT_AMOUNTS)
# Conditional on the date the loan was read at, as `book.UPDATE_LOAN`.
UPDATE_SAME_DAY_LOAN = t.loan.update().where(
    (_loan.id == sa.bindparam("b_id")) & (_loan.state_on == sa.bindparam("b_state_on"))
).values(**{name: sa.bindparam(name) for name in SAME_DAY_LOAN_COLUMNS})


def _given(table: sa.Table, columns: dict[str, str]) -> Any:
    """A FROM item of rows bound as one array per column (`unnest`), named as the keys of
    `columns` and typed as the table's columns they name."""
    return (sa.func.unnest(*(_array(name, table.c[column].type)
                             for name, column in columns.items()))
            .table_valued(*columns).render_derived(name="given"))


_loans = _given(t.loan, {"b_id": "id", "b_state_on": "state_on",
                         **{name: name for name in SAME_DAY_LOAN_COLUMNS}})
UPDATE_LOANS_FROM_ARRAYS = t.loan.update().where(
    # The loans found by their ids first: joined on id and date alone, they are looked for
    # by scanning the table.
    _in_array(_loan.id, "b_id") & (_loan.id == _loans.c.b_id)
    & (_loan.state_on == _loans.c.b_state_on)
).values({name: _loans.c[name] for name in SAME_DAY_LOAN_COLUMNS})
_rows = _given(t.installment, {"b_loan_id": "loan_id", "b_number": "number",
                               "due_on": "due_on",
                               **{name: name for name in INSTALLMENT_AMOUNTS}})
# Joined on the whole primary key: the planner expects a row per pair and looks each up.
UPDATE_INSTALLMENTS_FROM_ARRAYS = t.installment.update().where(
    (_row.loan_id == _rows.c.b_loan_id) & (_row.number == _rows.c.b_number)
).values({name: _rows.c[name] for name in ("due_on", *INSTALLMENT_AMOUNTS)})


class SqlPaymentImports:
    def __init__(self, connection: sa.Connection, book: LoanBook) -> None:
        self.connection = connection
        self.book = book
        self.queries = QUERIES[connection.dialect.name]

    def snapshots(self, refs: Sequence[str], open_day: date) -> dict[str, LoanSnapshot]:
        queries = self.queries
        if queries.lock_loans is not None:
            ids = list(self.connection.scalars(queries.lock_loans, {"refs": list(refs)}))
        else:
            ids = sorted(id_ for _, id_ in self.connection.execute(queries.loan_ids_by_ref,
                                                                    {"refs": list(refs)}))
        found: dict[int, LoanSnapshot] = {}
        # Columns unpacked by position and buckets looked up: a chunk reads thousands.
        for (id_, loan_ref, currency, product_code, disbursed_on, state_on, bucket,
             delinquent_since, written_off_on, pauses, unapplied, offer_received,
             plan_amounts, holds_plan) in self.connection.execute(queries.snapshot_loans,
                                                                  {"ids": ids}):
            found[id_] = LoanSnapshot(
                id=id_, loan_ref=loan_ref, currency=currency, product_code=product_code,
                disbursed_on=disbursed_on, state_on=state_on, bucket=_BUCKETS[bucket],
                delinquent_since=delinquent_since, holds_plan=bool(holds_plan),
                written_off=written_off_on is not None, paused=bool(pauses),
                plan_amounts=bool(plan_amounts), unapplied=unapplied,
                offer_received=offer_received, next_unpaid_due=None)
        bound = {"ids": ids, "day": open_day}
        for loan_id, *values in self.connection.execute(queries.live_rows, bound):
            found[loan_id].rows.append(stored_installment(values))
        for loan_id, next_unpaid_due, ahead_owed, ahead_principal in self.connection.execute(
                queries.due_dates, bound):
            snapshot = found[loan_id]
            snapshot.next_unpaid_due = next_unpaid_due
            snapshot.ahead_owed, snapshot.ahead_principal = ahead_owed, ahead_principal
        return {snapshot.loan_ref: snapshot for snapshot in found.values()}

    def write_same_day(self, loans: Sequence[LoanPosted], business_date: date) -> None:
        rows = ChunkRows()
        self._add_same_day(rows, loans, business_date)
        self._write_same_day(rows)

    def _add_same_day(self, rows: ChunkRows, loans: Sequence[LoanPosted],
                      business_date: date) -> None:
        as_date = driver_dates(self.connection.dialect)
        closed = as_date(business_date - ONE_DAY)
        rows.loans += [
            (posted.snapshot.id, as_date(posted.snapshot.state_on), closed, posted.status.value,
             posted.dpd, posted.bucket.value,
             posted.earliest_unpaid_due_on and as_date(posted.earliest_unpaid_due_on),
             posted.delinquent_since and as_date(posted.delinquent_since), posted.unapplied)
            for posted in loans]
        rows.installments += [(posted.snapshot.id, row.number, as_date(row.due_date),
                               *amounts_of(row))
                              for posted in loans for row in posted.changed]
        day = as_date(business_date)
        rows.postings += [
            (f"pay:{payment.applied.key}", posted.snapshot.id, day, account.value, amount)
            for posted in loans for payment in posted.postings
            for account, amount in payment.postings]
        rows.delinquency_changes += [
            (posted.snapshot.id, day, payment.bucket_before.value, payment.bucket.value,
             payment.dpd)
            for posted in loans for payment in posted.postings
            if payment.bucket != payment.bucket_before]

    def _write_same_day(self, rows: ChunkRows) -> None:
        self._update_all(rows.loans, UPDATE_LOANS_FROM_ARRAYS, UPDATE_SAME_DAY_LOAN,
                         SAME_DAY_LOAN_KEYS, "loans")
        self._update_all(rows.installments, UPDATE_INSTALLMENTS_FROM_ARRAYS,
                         UPDATE_INSTALLMENT, INSTALLMENT_KEYS, "installments")
        connection = self.connection
        insert_rows(connection, t.posting, POSTING_COLUMNS, rows.postings)
        insert_rows(connection, t.delinquency_change, DELINQUENCY_CHANGE_COLUMNS,
                    rows.delinquency_changes)

    def _update_all(self, rows: list[tuple[Any, ...]], by_arrays: sa.Update, by_row: sa.Update,
                    keys: tuple[str, ...], what: str) -> None:
        """Update each row as read, on PostgreSQL in one statement of arrays, on SQLite row by
        row; `StaleWrite` if any is no longer as read."""
        if not rows:
            return
        connection = self.connection
        updated = (connection.execute(by_arrays, _by_column(keys, rows)).rowcount
                   if connection.dialect.name == "postgresql"
                   else execute_rows(connection, by_row, keys, rows))
        if updated != len(rows):
            raise StaleWrite(len(rows), updated, what=what)

    def posted(self, keys: Sequence[str]) -> dict[str, PostedKey]:
        return {key: PostedKey(key=key, loan_id=loan_id, amount=amount, on=on)
                for key, loan_id, amount, on in self.connection.execute(
                    self.queries.posted, {"keys": list(keys)})}

    def payments_of(self, loan_ids: Sequence[int]) -> dict[int, list[StoredPayment]]:
        rows = self.connection.execute(self.queries.payments_of, {"ids": list(loan_ids)}).all()
        reversed_ids = {row.reverses_id for row in rows if row.reverses_id is not None}
        by_loan: dict[int, list[StoredPayment]] = defaultdict(list)
        for row in rows:
            by_loan[row.loan_id].append(StoredPayment(
                id=row.id, loan_id=row.loan_id, key=row.idempotency_key, on=row.paid_on,
                amount=row.amount, reverses_id=row.reverses_id,
                reversed=row.id in reversed_ids, prepayment=row.prepayment))
        return dict(by_loan)

    def add_payments(self, payments: Sequence[NewPayment], recorded_at: datetime
                     ) -> dict[str, int]:
        rows = ChunkRows()
        self._add_payments(rows, payments, recorded_at)
        return self._insert_payments(rows.payments)

    def _add_payments(self, rows: ChunkRows, payments: Sequence[NewPayment],
                      recorded_at: datetime) -> None:
        dialect = self.connection.dialect
        paid_on = driver_dates(dialect)
        at = driver_form(dialect, _payment.recorded_at.type)(recorded_at)
        recovery = {flag: driver_form(dialect, _payment.recovery.type)(flag)
                    for flag in (False, True)}
        rows.payments += [
            (p.loan_id, p.applied.key, paid_on(p.applied.on), p.applied.amount,
             p.applied.to_fee, p.applied.to_penalty, p.applied.to_compound,
             p.applied.to_interest, p.applied.to_principal, p.applied.to_credit,
             recovery[p.recovery], recovery[False], None, at)
            for p in payments]

    def _insert_payments(self, payments: list[tuple[Any, ...]]) -> dict[str, int]:
        """Insert payment rows (`PAYMENT_COLUMNS` but the id); key → id."""
        # Ids taken before the insert rather than looked up by key after it: no list of a
        # chunk's keys bound, searched and read back.
        ids = new_ids(self.connection, t.payment, len(payments))
        insert_rows(self.connection, t.payment, PAYMENT_COLUMNS,
                    [(id_, *row) for id_, row in zip(ids, payments, strict=True)])
        return {row[1]: id_ for id_, row in zip(ids, payments, strict=True)}

    def chunk_rows(self, written: ChunkWrites, business_date: date, source: str,
                   file_sha256: str) -> ChunkRows:
        rows = ChunkRows()
        self._add_payments(rows, written.payments, written.at)
        self._add_same_day(rows, written.same_day, business_date)
        dialect = self.connection.dialect
        lines = [line for line, events in written.events.items() for _ in events]
        rows.events += zip(lines, outbox_rows(dialect, [
            event for events in written.events.values() for event in events]), strict=True)
        imported_at = driver_form(dialect, t.payment_import.c.imported_at.type)(written.at)
        rows.imports += [(row.payment_key, source, row.row_key, file_sha256, row.line,
                          imported_at) for row in written.imported]
        return rows

    def write_chunk(self, parts: Sequence[ChunkRows]) -> None:
        chunk = ChunkRows()
        for part in parts:
            chunk.extend(part)
        if not chunk.payments:
            return
        ids = self._insert_payments(chunk.payments)
        self._write_same_day(chunk)
        # In file order, however each loan was priced (`sorted` is stable: a row's events
        # keep their order).
        insert_rows(self.connection, t.outbox, OUTBOX_COLUMNS,
                    [row for _, row in sorted(chunk.events, key=itemgetter(0))])
        insert_rows(self.connection, t.payment_import, IMPORT_COLUMNS,
                    [(source, row_key, ids[payment_key], file_sha256, line, at)
                     for payment_key, source, row_key, file_sha256, line, at in chunk.imports])

    def version(self) -> Hashable | None:
        connection = self.connection
        if connection.dialect.name != "sqlite":
            return None
        # `data_version` moves when another connection commits; the rows this connection
        # changed (`total_changes`), when anyone changes rows through it, this unit of work
        # or another that the pool lent it to. Both are per connection: the connection itself
        # is part of the version (held here, so that a new one at the same address cannot
        # pass for it).
        driver = connection.connection.dbapi_connection
        assert isinstance(driver, sqlite3.Connection)
        return (driver, connection.exec_driver_sql("PRAGMA data_version").scalar(),
                driver.total_changes)


@dataclass(slots=True)
class ChunkRows:
    """What a chunk of a payment file writes, as tuples in the driver's form: built where it
    was priced (`chunk_rows`), perhaps in another process, and written by `write_chunk`."""

    payments: list[tuple[Any, ...]] = field(default_factory=list)  # without their ids
    loans: list[tuple[Any, ...]] = field(default_factory=list)  # `SAME_DAY_LOAN_KEYS`
    installments: list[tuple[Any, ...]] = field(default_factory=list)  # `INSTALLMENT_KEYS`
    postings: list[tuple[Any, ...]] = field(default_factory=list)
    delinquency_changes: list[tuple[Any, ...]] = field(default_factory=list)
    events: list[tuple[int, tuple[Any, ...]]] = field(default_factory=list)  # (line, outbox row)
    # (payment key, then `IMPORT_COLUMNS` with that payment's key for its id)
    imports: list[tuple[Any, ...]] = field(default_factory=list)

    def extend(self, other: ChunkRows) -> None:
        for name in self.__slots__:
            getattr(self, name).extend(getattr(other, name))


def _by_column(keys: tuple[str, ...], rows: list[tuple[Any, ...]]) -> dict[str, list[Any]]:
    """Rows (tuples of `keys`' values) as one list of values per key."""
    return {name: list(values) for name, values in zip(keys, zip(*rows, strict=True), strict=True)}


class SqlPaymentImportUnitOfWork(SqlUnitOfWork):
    """The book's unit of work with the payment-file store on the same transaction."""

    def __enter__(self) -> Self:
        super().__enter__()
        assert self._connection is not None
        if self._connection.dialect.name == "postgresql":
            # Without statistics the planner prices a chunk's reads in the millions and
            # compiles each to machine code first (JIT), which costs more than running it:
            # 30 to 110 ms a read, a third of the database's time.
            self._connection.exec_driver_sql("SET LOCAL jit = off")
        self.payment_imports = SqlPaymentImports(self._connection, self.book)
        return self


class SqlPaymentImportUnitOfWorkFactory(SqlUnitOfWorkFactory):
    @property
    def side_by_side(self) -> bool:
        # A SQLite writer's transaction holds the whole database from its first statement.
        return self.engine.dialect.name == "postgresql"

    def __call__(self) -> SqlPaymentImportUnitOfWork:
        return SqlPaymentImportUnitOfWork(self.engine, self._products)


@contextmanager
def pricing_ahead(factory: SqlPaymentImportUnitOfWorkFactory, rows: int
                  ) -> Iterator[ReadAhead | None]:
    """Processes to price a payment file of `rows` rows ahead (`import_payments`'
    `read_ahead`) where they pay: a SQLite book, whose `version` tells another connection's
    commits, and a file long enough to repay their start (some half second of CPU each)."""
    if factory.engine.dialect.name != "sqlite" or rows < READ_AHEAD_MIN_ROWS:
        yield None
        return
    with planners(factory.engine, factory, SqlPaymentImportUnitOfWorkFactory) as ahead:
        yield ahead
