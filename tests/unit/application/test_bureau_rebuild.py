"""Rebuilding a month the bureau runs have passed: the months built after it are rebuilt too
(their 24-month histories hold it, M2-5 / CN-25), and each whose record now reads differently
is re-sent as a correction record (Metro 2 Correction Indicator 1, the PBOC correction flag)."""

from __future__ import annotations

from datetime import UTC, datetime

from arrears.application.bureau import Format
from arrears.application.handlers import bureau as reporting
from arrears.batch import bureau as files
from arrears.domain.bureau import layouts
from arrears.domain.bureau.snapshot import Month
from arrears.domain.bureau.validate import validate
from bureau_book import FakeBureauStore, FakeDisputes, GoldenBook, factory, golden_book, months

BUILT = months()[:6]  # 2026-01 … 2026-06
JUNE = BUILT[-1]
FEBRUARY = Month(2026, 2)
CREATED = datetime(2026, 7, 1, 6, tzinfo=UTC)


def _build(book: GoldenBook, store: FakeBureauStore, month: Month,
           closed: Month = JUNE) -> reporting.MonthRun:
    return reporting.build_month(month, uow_factory=factory(book, store, closed.last),
                                 disputes=FakeDisputes(book))


def _built_through_june(book: GoldenBook) -> FakeBureauStore:
    store = FakeBureauStore(book)
    for month in BUILT:
        _build(book, store, month, month)
    return store


def test_rebuilding_an_unchanged_month_sends_no_correction() -> None:
    book = golden_book()
    store = _built_through_june(book)
    before = dict(store.rows)
    run = _build(book, store, FEBRUARY)
    assert not any(r.correction for r in run.records)
    assert store.rows == before


def test_a_corrected_old_month_rebuilds_the_later_ones_and_corrects_what_changed() -> None:
    book = golden_book()
    store = _built_through_june(book)
    sent = dict(store.rows)
    # February's payment of L-CURE turns out never to have arrived (reversed in the book).
    book.payments["L-CURE"] = [p for p in book.payments["L-CURE"] if p.key != "c-1"]
    run = _build(book, store, FEBRUARY)

    assert [(r.snapshot.loan_ref, str(r.snapshot.month)) for r in run.records
            if r.correction] == [("L-CURE", str(m)) for m in BUILT[2:]]
    february = next(r.snapshot for r in run.records
                    if r.snapshot.loan_ref == "L-CURE" and not r.correction)
    assert february.month == FEBRUARY and february.pboc_code == "1"  # CN-25: 1–30 days
    # Every later month now carries February as the history says (M2-5, CN-25) ...
    march = store.rows[("L-CURE", Month(2026, 3))]
    assert march.metro2_history[0] == february.metro2_code
    assert march.pboc_history[-2] == "1"
    for month in BUILT[1:]:
        assert store.rows[("L-CURE", month)] != sent[("L-CURE", month)]
    # ... and is what building every month afresh from the corrected book gives.
    assert store.rows == _built_through_june(book).rows
    # The other loans' months did not change, and nothing of theirs is re-sent.
    assert {k: v for k, v in store.rows.items() if k[0] != "L-CURE"} == {
        k: v for k, v in sent.items() if k[0] != "L-CURE"}


def test_correction_records_carry_the_correction_indicator_and_validate() -> None:
    book = golden_book()
    store = _built_through_june(book)
    book.payments["L-CURE"] = [p for p in book.payments["L-CURE"] if p.key != "c-1"]
    run = _build(book, store, FEBRUARY)
    corrections = [r for r in run.records if r.correction]
    content = files.build_file(Format.METRO2, run.records, reporter=files.Reporter(),
                               month_end=FEBRUARY.last, created=CREATED)
    assert validate(content, "metro2") == []
    lines = content.split(b"\n")[1:-2]
    indicator = layouts.METRO2_BASE.field("correction_indicator")
    flagged = [line for line in lines if line[indicator.start - 1:indicator.end] == b"1"]
    assert len(flagged) == len(corrections) == 4
    pboc = files.build_file(Format.PBOC, run.records, reporter=files.Reporter(),
                            month_end=FEBRUARY.last, created=CREATED)
    assert validate(pboc, "pboc") == []
    flag = layouts.PBOC_ACCOUNT.field("correction_flag")
    accounts = [line for line in pboc.split(b"\n") if line[:1] == b"A"]
    assert sum(line[flag.start - 1:flag.end] == b"1" for line in accounts) == 4

