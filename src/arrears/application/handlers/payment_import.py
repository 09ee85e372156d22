"""Posting a payment file (`payment_file`) to the book: each row exactly as `post_payment`
would post it, many rows per transaction.

Rows are grouped by loan and taken in chunks of whole loans (`CHUNK_ROWS` rows at most, a loan
with more in a chunk of its own). A chunk is one unit of work: its loans are read and locked
together, the keys already posted are found in one query, and each loan's rows are priced one
after another in file order — the same arithmetic as a single payment — and everything is
written in bulk. A loan paid on the open day no more than it owes is priced on its plain rows
(`same_day_payments`, most of a daily file); any other loan is loaded whole and priced by
`payments.price`, a back-dated row restating it as of the open day. A crash leaves whole chunks
posted; running the file again posts the rest, since every row's key is found posted. Where
the store's units of work can run side by side (`side_by_side`: PostgreSQL's row locks), a
chunk is written and committed on a thread of its own while the next is read and priced; the
chunks are still written one after another, in file order.

A row is posted, found already posted (its key names a payment of the same loan, amount and
date: an earlier import, or the payment's callback through `arrears pay` or the API), or
refused with its line and column: an unknown loan, an amount in more decimals than the loan's
currency, a date the loan cannot take, a key already used for another payment. A refused row
never holds back the others.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import partial
from operator import attrgetter
from typing import Any, Protocol, cast

from arrears.application.handlers.payments import Posting, payment_posted, price, standing
from arrears.application.handlers.same_day_payments import (
    LoanPosted,
    LoanSnapshot,
    SameDayPosting,
    price_same_day,
)
from arrears.application.payment_file import PaymentFile, PaymentRow, RowReject, minor_units
from arrears.application.ports import (
    BookedLoan,
    Clock,
    Event,
    InProcess,
    LoanUpdate,
    ReadAhead,
    StoredPayment,
    UnitOfWork,
)
from arrears.application.transitions import bucket_changed
from arrears.domain.errors import DomainError, PaymentRejected
from arrears.domain.loan import Payment, PaymentApplied
from arrears.domain.product import Product

ONE_DAY = timedelta(days=1)
CHUNK_ROWS = 2000
RACE_RETRIES = 2  # a chunk whose key a concurrent `pay` took meanwhile is priced again
# Below this, pricing processes would cost more to start than they save.
READ_AHEAD_MIN_ROWS = 10 * CHUNK_ROWS


@dataclass(frozen=True, slots=True, kw_only=True)
class PostedKey:
    """A payment already in the book under a key the file lists."""

    key: str
    loan_id: int
    amount: int
    on: date


@dataclass(frozen=True, slots=True, kw_only=True)
class NewPayment:
    loan_id: int
    applied: PaymentApplied
    recovery: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportedRow:
    """Where a posted payment came from (`payment_import`)."""

    row_key: str
    payment_key: str
    line: int


class PaymentImportStore(Protocol):
    """What posting a payment file needs beyond the book, in the same transaction."""

    def snapshots(self, refs: Sequence[str], open_day: date) -> dict[str, LoanSnapshot]:
        """The loans among `refs` the book holds, as `LoanSnapshot`s for `open_day`, their
        rows locked for this transaction."""
        ...

    def write_same_day(self, loans: Sequence[LoanPosted], business_date: date) -> None:
        """Write what `price_same_day` priced: each loan's row and changed installments once,
        each payment's ledger entry and delinquency change. The guard against another writer
        is the row lock `snapshots` took, held to the end of the transaction; the loan row's
        date and the number of installment rows written are checked as well (`StaleWrite`
        if either is not as read), so a caller that skipped the lock fails rather than
        writing over another's work."""
        ...

    def posted(self, keys: Sequence[str]) -> dict[str, PostedKey]:
        """The payments (reversals too) already recorded under any of `keys`."""
        ...

    def payments_of(self, loan_ids: Sequence[int]) -> dict[int, list[StoredPayment]]:
        """Each loan's payments, in posting order."""
        ...

    def add_payments(self, payments: Sequence[NewPayment], recorded_at: datetime
                     ) -> dict[str, int]:
        """Insert payment rows; key → id."""
        ...

    def chunk_rows(self, written: ChunkWrites, business_date: date, source: str,
                   file_sha256: str) -> Any:
        """What `written` (priced for the open day `business_date`) writes, as the rows
        `write_chunk` takes: the payments, the same-day loans as `write_same_day` writes
        them, the events and where each payment came from. Reads nothing; the rows travel
        by pickle."""
        ...

    def write_chunk(self, parts: Sequence[Any]) -> None:
        """Write `chunk_rows`' rows, the parts' payments numbered in the parts' order and
        their events in file order."""
        ...

    def version(self) -> Hashable | None:
        """A value that stays the same as long as no other connection commits to the book,
        read in this transaction; None where the store cannot tell."""
        ...


class PaymentImportUnitOfWork(UnitOfWork, Protocol):
    payment_imports: PaymentImportStore


class PaymentImportUnitOfWorkFactory(Protocol):
    @property
    def side_by_side(self) -> bool:
        """Whether two of its units of work, each on loans of its own, can be open at once
        (row locks, not a lock on the whole database)."""
        ...

    def __call__(self) -> PaymentImportUnitOfWork: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class PostedRow:
    line: int
    key: str
    loan_ref: str
    currency: str
    amount: int
    on: date
    restated: bool  # dated before the open day: the loan was replayed with it


@dataclass(frozen=True, slots=True, kw_only=True)
class AlreadyPosted:
    line: int
    key: str
    loan_ref: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportReport:
    source: str
    open_day: date | None
    rows: int
    posted: list[PostedRow]
    already_posted: list[AlreadyPosted]
    rejected: list[RowReject]


def import_payments(
    parsed: PaymentFile, file_sha256: str, *, uow_factory: PaymentImportUnitOfWorkFactory,
    clock: Clock, is_duplicate_key_error: Callable[[Exception], bool] = lambda _: False,
    chunk_rows: int = CHUNK_ROWS, on_chunk: Callable[[int], None] = lambda _: None,
    read_ahead: ReadAhead | None = None,
) -> ImportReport:
    """Post every good row of `parsed`; see the module docstring. `on_chunk` hears how many
    rows each committed chunk settled; `read_ahead`'s processes price chunks ahead where the
    store can tell that nothing else wrote meanwhile (`_posted_ahead`)."""
    rejected = list(parsed.rejects)
    already: list[AlreadyPosted] = []
    repeats: list[tuple[PaymentRow, PaymentRow]] = []
    rows = _first_of_each_key(parsed, rejected, repeats)
    posted: list[PostedRow] = []
    open_day: date | None = None
    post = partial(_post_alone, uow_factory, parsed, file_sha256, clock, is_duplicate_key_error)
    chunks = _chunks(rows, chunk_rows)
    if isinstance(read_ahead, InProcess) or len(chunks) < 2:
        read_ahead = None  # it would price each chunk just before writing it, as here
    base = None if read_ahead is None else _version(uow_factory)
    settled: Iterable[_Posted]
    if read_ahead is not None and base is not None:
        settled = _posted_ahead(uow_factory, parsed, chunks, file_sha256, clock,
                                is_duplicate_key_error, post, read_ahead, base)
    elif uow_factory.side_by_side:
        settled = _posted_side_by_side(uow_factory, parsed, chunks, file_sha256, clock,
                                       is_duplicate_key_error, post)
    else:
        settled = map(post, chunks)
    with _collector_paused():
        for chunk, outcome in settled:
            open_day = outcome.open_day
            posted += outcome.posted
            already += outcome.already_posted
            rejected += outcome.rejected
            on_chunk(sum(len(loan_rows) for loan_rows in chunk))
    refused = {r.line: r for r in rejected}
    for repeat, first in repeats:  # a row listed twice fares as its first listing did
        if first.line in refused:
            rejected.append(replace(refused[first.line], line=repeat.line,
                                    reason=f"as on line {first.line}: "
                                           f"{refused[first.line].reason}"))
        else:
            already.append(AlreadyPosted(line=repeat.line, key=repeat.key,
                                         loan_ref=repeat.loan_ref))
    return ImportReport(source=parsed.format.name, open_day=open_day, rows=parsed.data_lines,
                        posted=sorted(posted, key=lambda r: r.line),
                        already_posted=sorted(already, key=lambda r: r.line),
                        rejected=sorted(rejected, key=lambda r: r.line))


def _post_alone(uow_factory: PaymentImportUnitOfWorkFactory, parsed: PaymentFile,
                file_sha256: str, clock: Clock, is_duplicate_key_error: Callable[[Exception], bool],
                chunk: list[list[PaymentRow]], retries: int = RACE_RETRIES) -> _Posted:
    """Post one chunk in a unit of work of its own: read, price, write, commit."""
    attempt = 0
    while True:
        try:
            with uow_factory() as uow:
                outcome, written = _price_chunk(uow, parsed, chunk, clock)
                _write_chunk(uow, parsed, written, outcome.open_day, file_sha256)
                uow.commit()
            return chunk, outcome
        except Exception as error:
            attempt += 1
            if attempt > retries or not is_duplicate_key_error(error):
                raise


def _posted_side_by_side(
    uow_factory: PaymentImportUnitOfWorkFactory, parsed: PaymentFile,
    chunks: list[list[list[PaymentRow]]], file_sha256: str, clock: Clock,
    is_duplicate_key_error: Callable[[Exception], bool], post: Callable[..., _Posted],
) -> Iterator[_Posted]:
    """`_post_alone` over `chunks`, in order, each chunk written and committed on a thread of
    its own while the next is read and priced in a unit of work of its own: the database works
    on one chunk while Python works on the next, rather than each waiting for the other.
    Chunks hold distinct loans and keys, so neither unit of work reads what the other
    writes, and the writes still go one chunk after another, in file order.

    A chunk whose write fails on a key a concurrent payment took is posted again alone
    (`RACE_RETRIES`) with nothing else of the import open: the next chunk's unit of work is
    given up first and that chunk priced again after. Otherwise it would hold its loans' locks
    while this thread waits for the retry's, a wait the database cannot see, and a writer
    locking loans of both chunks could wait on each for good. A chunk that fails to price
    while the one before is being written raises that one's failure first, in file order."""
    with ThreadPoolExecutor(max_workers=1) as writer:
        pending: tuple[list[list[PaymentRow]], _Outcome, Future[None]] | None = None
        for chunk in chunks:
            while True:
                uow = uow_factory().__enter__()
                try:
                    outcome, written = _price_chunk(uow, parsed, chunk, clock)
                except BaseException:
                    uow.__exit__(None, None, None)
                    if pending is not None and (earlier := pending[2].exception()) is not None:
                        raise earlier from None
                    raise
                if pending is None:
                    break
                failed = pending[2].exception()
                if failed is None:
                    yield pending[0], pending[1]
                    pending = None
                    break
                uow.__exit__(None, None, None)
                yield _posted_again(pending[0], failed, is_duplicate_key_error, post)
                pending = None
            pending = (chunk, outcome, writer.submit(
                _write_and_commit, uow, parsed, written, outcome.open_day, file_sha256))
        if pending is not None:
            failed = pending[2].exception()
            yield (pending[0], pending[1]) if failed is None else _posted_again(
                pending[0], failed, is_duplicate_key_error, post)


def _version(uow_factory: PaymentImportUnitOfWorkFactory) -> Hashable | None:
    with uow_factory() as uow:
        return uow.payment_imports.version()


def _posted_ahead(
    uow_factory: PaymentImportUnitOfWorkFactory, parsed: PaymentFile,
    chunks: list[list[list[PaymentRow]]], file_sha256: str, clock: Clock,
    is_duplicate_key_error: Callable[[Exception], bool], post: Callable[..., _Posted],
    read_ahead: ReadAhead, base: Hashable,
) -> Iterator[_Posted]:
    """`_post_alone` over `chunks`, in order, each chunk's same-day loans read and priced
    ahead by `read_ahead` (other processes, each reading the book as last committed) while
    this process writes the chunks before: the pricing, most of an import's work, runs on
    the other cores.

    A chunk's reads ahead find what they would find in the writer's transaction as long as
    nothing but this import wrote since `base` was read, before any of them began: the
    chunks before it, written meanwhile, hold other loans and other keys. So each chunk's
    transaction first reads the store's `version` and compares it with the version the
    transaction before left (its own writes counted). Unchanged, the chunk's rows priced
    ahead are written as they are, and the loans they left to `payments.price` priced here.
    Changed (a payment through the API, an end-of-day), the chunk is priced again here on
    what it reads under the write lock, and the read-ahead starts again from the next chunk.
    A write failing on a key posted meanwhile is `_post_alone`'s to retry. A chunk priced
    ahead is recorded (`recorded_at`, the events' `created_at`) as at its pricing, a moment
    before its write."""
    work = _PriceAhead(file=replace(parsed, rows=[], rejects=[]), file_sha256=file_sha256,
                       clock=clock)
    sent = [[list(map(_ROW_VALUES, loan_rows)) for loan_rows in chunk] for chunk in chunks]
    start = 0
    while start < len(chunks):
        ahead = read_ahead.map(work, sent[start:])
        try:
            for chunk, priced in zip(chunks[start:], ahead, strict=True):
                start += 1
                try:
                    with uow_factory() as uow:
                        store = uow.payment_imports
                        fresh = store.version() == base
                        if fresh:
                            outcome = _write_priced(uow, parsed, priced, file_sha256)
                        else:
                            outcome, written = _price_chunk(uow, parsed, chunk, clock)
                            _write_chunk(uow, parsed, written, outcome.open_day, file_sha256)
                        base = store.version()  # with this transaction's own writes
                        uow.commit()
                except Exception as error:
                    yield _posted_again(chunk, error, is_duplicate_key_error, post)
                    base = _version(uow_factory)
                    break
                yield chunk, outcome
                if not fresh:
                    break
        finally:
            ahead.close()  # drops the chunks not yet priced


# A chunk and the rows it posted cross to the pricing processes and back as tuples: a
# dataclass pickles field by field through `dataclasses.fields`, 2.5 µs a row each way.
_ROW_VALUES = attrgetter("line", "key", "loan_ref", "amount", "on", "currency")
_POSTED_VALUES = attrgetter("line", "key", "loan_ref", "currency", "amount", "on", "restated")


@dataclass(frozen=True, slots=True, kw_only=True)
class _PriceAhead:
    """A chunk's same-day loans priced in a reader's unit of work (`ReadAhead`): what they
    came to and the rows they write, and the loans left to `payments.price`."""

    file: PaymentFile  # the file without its rows: its format and columns
    file_sha256: str
    clock: Clock

    def __call__(self, readers: Callable[[], UnitOfWork], sent: list[list[tuple[Any, ...]]]
                 ) -> _PricedAhead:
        # The collector is held off while the chunk's objects live, and they are gone (by
        # reference counting) before it is let back on: back on, it would trace them all.
        with _collector_paused():
            return self._priced(readers, sent)

    def _priced(self, readers: Callable[[], UnitOfWork], sent: list[list[tuple[Any, ...]]]
                ) -> _PricedAhead:
        chunk = [[PaymentRow(line=line, key=key, loan_ref=loan_ref, amount=amount, on=on,
                             currency=currency)
                  for line, key, loan_ref, amount, on, currency in loan_rows]
                 for loan_rows in sent]
        with cast(PaymentImportUnitOfWork, readers()) as uow:
            priced = _price_same_day(uow, self.file, chunk, self.clock)
            outcome = priced.outcome
            rows = uow.payment_imports.chunk_rows(priced.written, outcome.open_day,
                                                  self.file.format.name, self.file_sha256)
        keys = {row.key for loan_rows in priced.whole for row in loan_rows}
        return _PricedAhead(
            open_day=outcome.open_day, posted=list(map(_POSTED_VALUES, outcome.posted)),
            already_posted=outcome.already_posted, rejected=outcome.rejected, rows=rows,
            at=priced.written.at, closed_through=priced.closed_through, whole=priced.whole,
            whole_ids=priced.whole_ids,
            found={key: posted for key, posted in priced.found.items() if key in keys})


@dataclass(frozen=True, slots=True, kw_only=True)
class _PricedAhead:
    open_day: date
    posted: list[tuple[Any, ...]]  # `_POSTED_VALUES` of each row posted
    already_posted: list[AlreadyPosted]
    rejected: list[RowReject]
    rows: Any  # the store's `chunk_rows`
    at: datetime
    closed_through: date
    whole: list[list[PaymentRow]]
    whole_ids: list[int]
    found: dict[str, PostedKey]  # the keys of `whole` already posted


def _write_priced(uow: PaymentImportUnitOfWork, parsed: PaymentFile, priced: _PricedAhead,
                  file_sha256: str) -> _Outcome:
    """Write a chunk priced ahead, its loans left to `payments.price` priced now; what its
    rows came to."""
    outcome = _Outcome(
        open_day=priced.open_day, already_posted=priced.already_posted,
        rejected=priced.rejected,
        posted=[PostedRow(line=line, key=key, loan_ref=loan_ref, currency=currency,
                          amount=amount, on=on, restated=restated)
                for line, key, loan_ref, currency, amount, on, restated in priced.posted])
    written = ChunkWrites(at=priced.at)
    if priced.whole:
        _post_whole(uow, parsed, priced.whole, priced.whole_ids, priced.found,
                    priced.closed_through, priced.at, outcome, written)
    _write_chunk(uow, parsed, written, priced.open_day, file_sha256, [priced.rows])
    return outcome


def _posted_again(chunk: list[list[PaymentRow]], failed: BaseException,
                  is_duplicate_key_error: Callable[[Exception], bool],
                  post: Callable[..., _Posted]) -> _Posted:
    """A chunk whose write failed, posted again alone if a concurrent payment took one of its
    keys (`RACE_RETRIES`, the failed write its first try); any other failure raised."""
    if not (isinstance(failed, Exception) and is_duplicate_key_error(failed)):
        raise failed
    return post(chunk, retries=RACE_RETRIES - 1)


def _write_and_commit(uow: PaymentImportUnitOfWork, parsed: PaymentFile, written: ChunkWrites,
                      open_day: date, file_sha256: str) -> None:
    """The writing half of `_post_alone`, in a unit of work its caller entered."""
    try:
        _write_chunk(uow, parsed, written, open_day, file_sha256)
        uow.commit()
    finally:
        uow.__exit__(None, None, None)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """CPython's cycle collector held off for the whole import. Each chunk allocates some
    hundred thousand objects (its loans' installment states, their updates) that reference
    counting frees, and the report's rows pile up: the collector would rescan every live
    object many times meanwhile. Paused chunk by chunk, the collection that followed each
    chunk still measured a sixth of the run; a 100,000-row file leaves some sixty objects in
    cycles, collected once the import ends."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _first_of_each_key(parsed: PaymentFile, rejected: list[RowReject],
                       repeats: list[tuple[PaymentRow, PaymentRow]]) -> list[PaymentRow]:
    """The rows to post: a key listed again with the same payment is the same payment, posted
    once (the repeat and its first listing go to `repeats`); a key listed with two different
    payments says nothing sure about any of them, so every row under it is refused (posting
    the first could put money on the wrong loan)."""
    # Most keys are listed once: only the few listed again get a list of their rows.
    first_of: dict[str, PaymentRow] = {}
    listed_again: dict[str, list[PaymentRow]] = {}
    for row in parsed.rows:
        first = first_of.setdefault(row.key, row)
        if first is not row:
            listed_again.setdefault(row.key, [first]).append(row)
    column = parsed.column("key")
    for key, rows in listed_again.items():
        first = rows[0]
        payment = (first.loan_ref, first.amount, first.on, first.currency)
        if all((row.loan_ref, row.amount, row.on, row.currency) == payment for row in rows):
            repeats.extend((row, first) for row in rows[1:])
            continue
        del first_of[key]
        lines = [row.line for row in rows]
        for row in rows:
            others = ", ".join(str(line) for line in lines if line != row.line)
            rejected.append(RowReject(
                line=row.line, field=column, key=key, loan_ref=row.loan_ref,
                reason=f"{key!r} is also on line {others} for another payment"))
    return sorted(first_of.values(), key=attrgetter("line"))


def _chunks(rows: list[PaymentRow], size: int) -> list[list[list[PaymentRow]]]:
    """Each loan's rows (in file order), loans in order of first appearance, packed into
    chunks of at most `size` rows; a loan is never split."""
    by_loan: dict[str, list[PaymentRow]] = {}
    for row in rows:
        by_loan.setdefault(row.loan_ref, []).append(row)
    chunks: list[list[list[PaymentRow]]] = []
    current: list[list[PaymentRow]] = []
    count = 0
    for loan_rows in by_loan.values():
        if current and count + len(loan_rows) > size:
            chunks.append(current)
            current, count = [], 0
        current.append(loan_rows)
        count += len(loan_rows)
    if current:
        chunks.append(current)
    return chunks


@dataclass(slots=True, kw_only=True)
class _Outcome:
    open_day: date
    posted: list[PostedRow]
    already_posted: list[AlreadyPosted]
    rejected: list[RowReject]


_Posted = tuple[list[list[PaymentRow]], _Outcome]


def _price_chunk(uow: PaymentImportUnitOfWork, parsed: PaymentFile,
                 chunk: list[list[PaymentRow]], clock: Clock) -> tuple[_Outcome, ChunkWrites]:
    """Read and lock a chunk's loans and price its rows: what each row came to, and what
    `_write_chunk` is to write."""
    priced = _price_same_day(uow, parsed, chunk, clock)
    if priced.whole:
        _post_whole(uow, parsed, priced.whole, priced.whole_ids, priced.found,
                    priced.closed_through, priced.written.at, priced.outcome, priced.written)
    return priced.outcome, priced.written


@dataclass(slots=True, kw_only=True)
class _SameDayPriced:
    """A chunk's loans paid on the open day priced by `price_same_day`; the others (`whole`,
    with their ids) left for `_post_whole`."""

    closed_through: date
    outcome: _Outcome
    written: ChunkWrites
    whole: list[list[PaymentRow]]
    whole_ids: list[int]
    found: dict[str, PostedKey]  # the chunk's keys already posted


def _price_same_day(uow: PaymentImportUnitOfWork, parsed: PaymentFile,
                    chunk: list[list[PaymentRow]], clock: Clock) -> _SameDayPriced:
    store = uow.payment_imports
    closed_through = uow.book.closed_through()
    if closed_through is None:
        raise PaymentRejected("on", "the book has no business date yet; run `arrears init`")
    open_day = closed_through + ONE_DAY
    at = clock.now()
    snapshots = store.snapshots([loan_rows[0].loan_ref for loan_rows in chunk], open_day)
    found = store.posted([row.key for loan_rows in chunk for row in loan_rows])
    products = uow.book.products()
    outcome = _Outcome(open_day=open_day, posted=[], already_posted=[], rejected=[])
    written = ChunkWrites(at=at)
    whole: list[list[PaymentRow]] = []  # loans priced by `payments.price`
    for loan_rows in chunk:
        snapshot = snapshots.get(loan_rows[0].loan_ref)
        if snapshot is None:
            outcome.rejected += [_refuse(parsed, row, "loan_id", f"no loan {row.loan_ref!r}")
                                 for row in loan_rows]
        elif not (all(row.on == open_day for row in loan_rows) and _post_same_day(
                parsed, loan_rows, snapshot, products[snapshot.product_code], found,
                open_day, at, outcome, written)):
            whole.append(loan_rows)
    return _SameDayPriced(closed_through=closed_through, outcome=outcome, written=written,
                          whole=whole, whole_ids=[snapshots[rows[0].loan_ref].id for rows in whole],
                          found=found)


def _write_chunk(uow: PaymentImportUnitOfWork, parsed: PaymentFile, written: ChunkWrites,
                 open_day: date, file_sha256: str, priced_ahead: Sequence[Any] = ()) -> None:
    """Write what the chunk's rows came to: `written`, after the rows already built of what
    was priced ahead."""
    store = uow.payment_imports
    uow.book.apply(written.updates)
    store.write_chunk([*priced_ahead,
                       store.chunk_rows(written, open_day, parsed.format.name, file_sha256)])


@dataclass(slots=True)
class ChunkWrites:
    """What a chunk writes, from both ways of pricing, recorded as at `at`."""

    at: datetime
    payments: list[NewPayment] = field(default_factory=list)
    imported: list[ImportedRow] = field(default_factory=list)  # one for each payment
    # By the line of the row that raised them: emitted in file order, however each loan
    # was priced.
    events: dict[int, list[Event]] = field(default_factory=dict)
    updates: list[LoanUpdate] = field(default_factory=list)
    same_day: list[LoanPosted] = field(default_factory=list)


def _settled_before(parsed: PaymentFile, row: PaymentRow, currency: str,
                    found: dict[str, PostedKey], loan_id: int, outcome: _Outcome) -> int | None:
    """The row's amount in minor units if it is to be priced; None when it is refused or
    found posted already (noted in `outcome`)."""
    try:
        amount = _units(row, currency)
    except DomainError as error:
        outcome.rejected.append(_refuse(parsed, row, error.field, error.reason))
        return None
    earlier = found.get(row.key)
    if earlier is None:
        return amount
    if (earlier.loan_id, earlier.amount, earlier.on) == (loan_id, amount, row.on):
        outcome.already_posted.append(AlreadyPosted(line=row.line, key=row.key,
                                                    loan_ref=row.loan_ref))
    else:
        outcome.rejected.append(_refuse(
            parsed, row, "key", f"{row.key!r} was already used for {earlier.amount} minor "
                                f"units on {earlier.on} to another loan or amount"))
    return None


def _post_same_day(parsed: PaymentFile, loan_rows: list[PaymentRow], snapshot: LoanSnapshot,
                   product: Product, found: dict[str, PostedKey], open_day: date,
                   at: datetime, outcome: _Outcome, written: ChunkWrites) -> bool:
    """Price one loan's rows, all dated the open day, by `price_same_day`; False (and
    nothing noted) when that path does not price this loan."""
    settled = _Outcome(open_day=open_day, posted=[], already_posted=[], rejected=[])
    priced: list[tuple[PaymentRow, int]] = []
    for row in loan_rows:
        amount = _settled_before(parsed, row, snapshot.currency, found, snapshot.id, settled)
        if amount is not None:
            priced.append((row, amount))
    posted = price_same_day(snapshot, product, [(row.key, amount) for row, amount in priced],
                            open_day) if priced else None
    if priced and posted is None:
        return False
    outcome.already_posted += settled.already_posted
    outcome.rejected += settled.rejected
    if posted is None:
        return True
    written.same_day.append(posted)
    prefix = parsed.format.key_prefix
    for (row, amount), payment in zip(priced, posted.postings, strict=True):
        written.events[row.line] = same_day_events(snapshot, payment, open_day, at)
        written.payments.append(NewPayment(loan_id=snapshot.id, applied=payment.applied,
                                           recovery=False))
        written.imported.append(ImportedRow(row_key=row.key.removeprefix(prefix),
                                            payment_key=row.key, line=row.line))
        outcome.posted.append(PostedRow(
            line=row.line, key=row.key, loan_ref=row.loan_ref, currency=snapshot.currency,
            amount=amount, on=row.on, restated=False))
    return True


def same_day_events(snapshot: LoanSnapshot, payment: SameDayPosting, open_day: date,
                    at: datetime) -> list[Event]:
    """The outbox events of a payment `price_same_day` priced, as `payments.price` raises
    them: the bucket it moved the loan to, if any, then the payment itself."""
    events = []
    if payment.bucket != payment.bucket_before:
        events.append(bucket_changed(
            snapshot.id, snapshot.loan_ref, f"pay:{payment.applied.key}", open_day, at,
            payment.bucket_before, payment.bucket, payment.dpd))
    events.append(payment_posted(snapshot.id, snapshot.loan_ref, payment.applied, open_day, at))
    return events


def _post_whole(uow: PaymentImportUnitOfWork, parsed: PaymentFile,
                chunk: list[list[PaymentRow]], loan_ids: list[int], found: dict[str, PostedKey],
                closed_through: date, at: datetime, outcome: _Outcome,
                written: ChunkWrites) -> None:
    """Price the loans of `chunk` whole, by `payments.price`, as single payments are."""
    open_day = closed_through + ONE_DAY
    loans = {booked.loan.loan_id: booked
             for booked in uow.book.get_many(sorted(loan_ids), for_update=True)}
    # The standing payments of loans that will be replayed, fetched together.
    replayed = [booked.id for loan_rows in chunk
                for booked in (loans[loan_rows[0].loan_ref],)
                if any(row.on <= max(closed_through, booked.state.as_of) for row in loan_rows)]
    stored = uow.payment_imports.payments_of(replayed) if replayed else {}
    prefix = parsed.format.key_prefix
    for loan_rows in chunk:
        booked = loans[loan_rows[0].loan_ref]
        live = standing(stored.get(booked.id, []))
        for row in loan_rows:
            amount = _settled_before(parsed, row, booked.loan.currency, found, booked.id,
                                     outcome)
            if amount is None:
                continue
            payment = Payment(key=row.key, on=row.on, amount=amount)
            try:
                posting = price(booked, payment, open_day, partial(list, live), at)
            except DomainError as error:
                outcome.rejected.append(_refuse(parsed, row, error.field, error.reason))
                continue
            written.updates.append(posting.moved.update)
            written.events[row.line] = [*posting.moved.events, posting.event]
            written.payments.append(NewPayment(loan_id=booked.id, applied=posting.applied,
                                               recovery=posting.recovery))
            written.imported.append(ImportedRow(row_key=row.key.removeprefix(prefix),
                                                payment_key=row.key, line=row.line))
            outcome.posted.append(PostedRow(
                line=row.line, key=row.key, loan_ref=row.loan_ref,
                currency=booked.loan.currency, amount=amount, on=row.on,
                restated=posting.restated))
            live.append(payment)
            booked = _after(booked, posting)


def _after(booked: BookedLoan, posting: Posting) -> BookedLoan:
    """The loan as the book holds it once `posting` is written: what the next row of the same
    loan is priced against, as a single payment would find it."""
    update = posting.moved.update
    return replace(booked, state=posting.state, status=update.status, dpd=update.dpd,
                   bucket=update.bucket)


def _units(row: PaymentRow, currency: str) -> int:
    if row.currency is not None and row.currency != currency:
        raise DomainError("currency", f"{row.currency} is not the loan's currency {currency}")
    return minor_units(row.amount, currency)


# The fields `price` and the checks above name, as a payment file's fields.
_FIELDS = {"on": "paid_on", "loan_id": "loan_id", "amount": "amount", "key": "key",
           "currency": "currency", "paid_on": "paid_on"}


def _refuse(parsed: PaymentFile, row: PaymentRow, field: str, reason: str) -> RowReject:
    return RowReject(line=row.line, field=parsed.column(_FIELDS.get(field, "row")),
                     reason=reason, key=row.key, loan_ref=row.loan_ref)
