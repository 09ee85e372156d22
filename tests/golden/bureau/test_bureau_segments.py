"""Metro 2 segments after the base segment: J1 (an associated consumer at the borrower's
address), J2 (at an address of their own) and K1 (the original creditor) — their byte layout
(M2-1 lengths; field places from moov-io `specifications.go`, the M2 source), the record
descriptor word of a record with segments (moov-io's worked example: base 426 + J2 200 + K1 34
= RDW 0660), fixed-length files whose unused slots are blank and uncounted, and the validator
catching each corruption.

Regenerate the golden file after an intended change with ARREARS_UPDATE_GOLDEN=1."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from arrears.application.bureau import Associate, BureauRecord, Format, Subject
from arrears.batch import bureau as files
from arrears.domain.bureau import codes, layouts
from arrears.domain.bureau.codes import FurnisherKind
from arrears.domain.bureau.snapshot import Month, build_snapshot
from arrears.domain.bureau.validate import validate
from arrears.domain.errors import DomainError

from builders import loan

HERE = Path(__file__).parent
UPDATE = bool(os.environ.get("ARREARS_UPDATE_GOLDEN"))
JANUARY = Month(2026, 1)
CREATED = datetime(2026, 2, 1, 6, tzinfo=UTC)
DEBT_BUYER = files.Reporter(kind=FurnisherKind.DEBT_BUYER, original_creditor=files.OriginalCreditor(
    name="Weilidai Lending Co", classification=12))
BORROWER = Subject(name="Pat Q Doe", national_id="123-45-6789", address="1 Main St",
                   region="NY", phone="")


def _record(ref: str, *associates: Associate) -> BureauRecord:
    snapshot, _ = build_snapshot(loan(), [], JANUARY, None)
    assert snapshot is not None
    return BureauRecord(snapshot=replace(snapshot, loan_ref=ref),
                        subject=replace(BORROWER, associates=associates))


GUARANTOR_HOME = Associate(name="Sam Doe", relation="guarantor")
GUARANTOR_AWAY = Associate(name="Alex B Roe", relation="Guarantor", address="9 Elm Rd Albany")
SPOUSE = Associate(name="Lee Doe", relation="spouse")


def _file(records: list[BureauRecord], reporter: files.Reporter) -> bytes:
    return files.build_file(Format.METRO2, records, reporter=reporter,
                            month_end=JANUARY.last, created=CREATED)


def _slice(line: bytes, layout: layouts.Layout, name: str, offset: int = 0) -> bytes:
    spec = layout.field(name)
    return line[offset + spec.start - 1:offset + spec.end]


def test_segment_layouts_have_the_m2_1_lengths_and_the_m2_source_places() -> None:
    assert [s.length for s in layouts.METRO2_SEGMENTS] == [100, 200, 34]  # M2-1
    j1, j2, k1 = layouts.METRO2_SEGMENTS
    # moov-io specifications.go (0-based there): Surname {3, 25}, ECOACode {96, 1} …
    assert (j1.field("surname").start, j1.field("ecoa_code").start) == (4, 97)
    assert (j2.field("first_line_of_address").start, j2.field("zip_code").start) == (102, 188)
    assert (k1.field("original_creditor_name").start, k1.field("creditor_classification")
            .start) == (3, 33)


def test_rdw_of_a_record_with_j2_and_k1_is_0660_and_the_file_is_golden() -> None:
    """The worked example of the M2 source: 426 + 200 + 34 = 660."""
    records = [_record("L-AWAY", GUARANTOR_AWAY, SPOUSE), _record("L-ALONE")]
    content = _file(records, DEBT_BUYER)
    path = HERE / "metro2-segments.txt"
    if UPDATE:
        path.write_bytes(content)
    assert content == path.read_bytes()
    assert validate(content, "metro2") == []
    header, away, alone, trailer = content.split(b"\n")[:-1]
    assert {len(line) for line in (header, away, alone, trailer)} == {660}
    assert {line[:4] for line in (header, away, alone, trailer)} == {b"0660"}
    assert header[426:] == trailer[426:] == b" " * 234  # padded to the records' length
    j2, k1 = 426, 626
    assert _slice(away, layouts.METRO2_J2, "segment_identifier", j2) == b"J2"
    assert _slice(away, layouts.METRO2_J2, "surname", j2) == b"ROE".ljust(25)
    assert _slice(away, layouts.METRO2_J2, "first_name", j2) == b"ALEX".ljust(20)
    assert _slice(away, layouts.METRO2_J2, "ecoa_code", j2) == b"5"  # co-maker (M2-9)
    assert _slice(away, layouts.METRO2_J2, "first_line_of_address", j2) == (
        b"9 ELM RD ALBANY".ljust(32))
    assert _slice(away, layouts.METRO2_BASE, "ecoa_code") == b"7"  # maker (M2-9)
    assert b"LEE" not in away  # a spouse owes nothing: never reported
    # The record without a second consumer keeps the slot: its identifier, then blanks.
    assert alone[j2:j2 + 200] == b"J2" + b" " * 198
    assert _slice(alone, layouts.METRO2_BASE, "ecoa_code") == b"1"
    for line in (away, alone):
        assert line[k1:] == b"K1" + b"WEILIDAI LENDING CO".ljust(30) + b"12"
        assert _slice(line, layouts.METRO2_BASE, "account_type") == b"0C"  # debt buyer
    assert _slice(trailer, layouts.METRO2_TRAILER, "total_j2_segments") == b"000000001"
    assert _slice(trailer, layouts.METRO2_TRAILER, "total_j1_segments") == b"000000000"
    assert _slice(trailer, layouts.METRO2_TRAILER,
                  "total_original_creditor_segments") == b"000000002"


def test_a_guarantor_without_an_address_of_their_own_goes_in_j1() -> None:
    content = _file([_record("L-HOME", GUARANTOR_HOME)], files.Reporter())
    assert validate(content, "metro2") == []
    _, home, trailer = content.split(b"\n")[:-1]
    assert len(home) == 526 and home[:4] == b"0526"
    assert home[426:] == (b"J1 " + b"DOE".ljust(25) + b"SAM".ljust(20) + b" " * 21
                          + b"0" * 27 + b"5" + b" " * 3)
    assert _slice(home, layouts.METRO2_BASE, "account_type") == b"01"  # our own loan
    assert _slice(trailer, layouts.METRO2_TRAILER, "total_j1_segments") == b"000000001"


def test_without_liable_associates_or_k1_the_records_stay_426_bytes() -> None:
    content = _file([_record("L-1", SPOUSE)], files.Reporter(liable_relations={}))
    assert {len(line) for line in content.split(b"\n")[:-1]} == {426}
    content = _file([_record("L-1", GUARANTOR_HOME)], files.Reporter(liable_relations={}))
    assert {len(line) for line in content.split(b"\n")[:-1]} == {426}


def _corrupt(content: bytes, line: int, start: int, value: bytes) -> bytes:
    lines = content.split(b"\n")
    row = bytearray(lines[line])
    row[start - 1:start - 1 + len(value)] = value
    lines[line] = bytes(row)
    return b"\n".join(lines)


@pytest.mark.parametrize(("line", "start", "value", "field"), [
    (1, 426 + 97, b"9", "J2.ecoa_code"),  # not an ECOA code (M2-9)
    (1, 426 + 4, b" " * 25, "J2.surname"),
    (1, 426 + 102, b" " * 32, "J2.first_line_of_address"),
    (1, 627, b"J1", "segment_identifier"),  # J1 after J2 (M2-1 order)
    (1, 627, b"Q9", "segment_identifier"),  # no such segment
    (1, 629, b" " * 30, "K1.original_creditor_name"),
    (1, 1, b"0659", "record_descriptor_word"),
    (0, 500, b"X", "padding"),
    (3, 39, b"000000001", "total_j1_segments"),
    (3, 282, b"000000001", "total_original_creditor_segments"),
])
def test_each_segment_corruption_is_caught(line: int, start: int, value: bytes,
                                           field: str) -> None:
    good = _file([_record("L-AWAY", GUARANTOR_AWAY), _record("L-ALONE")], DEBT_BUYER)
    problems = validate(_corrupt(good, line, start, value), "metro2")
    assert (line + 1, field) in {(p.record, p.field) for p in problems}, [
        str(p) for p in problems]


def test_the_furnisher_and_its_k1_must_agree() -> None:
    with pytest.raises(DomainError, match="original creditor"):
        files.Reporter(kind=FurnisherKind.COLLECTION_AGENCY)
    with pytest.raises(DomainError, match="only a collection agency or a debt buyer"):
        files.Reporter(original_creditor=DEBT_BUYER.original_creditor)
    with pytest.raises(DomainError) as refused:
        files.OriginalCreditor(name="Lender", classification=16)
    assert refused.value.field == "--creditor-classification"
    assert codes.ACCOUNT_TYPES[FurnisherKind.COLLECTION_AGENCY] == "48"  # M2-9
