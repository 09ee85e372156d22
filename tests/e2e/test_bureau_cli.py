"""`arrears bureau validate`: exit 0 for a clean file, 1 with each problem named, 2 for bad
input (an unknown format, a missing file)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from arrears.application.bureau import BureauRecord, Format, Subject
from arrears.batch import bureau as files
from arrears.domain.bureau.snapshot import Month, build_snapshot
from arrears.entrypoints.cli.main import run

from builders import loan


def _file(tmp_path: Path) -> Path:
    # The month it is disbursed: a first record with no history before it is current (M2-5).
    snapshot, _ = build_snapshot(loan(), [], Month(2026, 1), None)
    assert snapshot is not None
    record = BureauRecord(snapshot=snapshot, subject=Subject(
        name="Pat Doe", national_id="123456789", address="1 Main St", region="NY", phone=""))
    path = tmp_path / "m2.txt"
    path.write_bytes(files.build_file(Format.METRO2, [record], reporter=files.Reporter(),
                                      month_end=Month(2026, 1).last,
                                      created=datetime(2026, 2, 1, tzinfo=UTC)))
    return path


def _exit(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as stopped:
        run(argv)
    return int(stopped.value.code or 0)


def test_validate_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _file(tmp_path)
    assert _exit(["bureau", "validate", str(path), "--format", "metro2"]) == 0
    content = path.read_bytes().split(b"\n")
    content[1] = content[1][:-1]
    path.write_bytes(b"\n".join(content))
    assert _exit(["bureau", "validate", str(path), "--format", "metro2"]) == 1
    assert "record 2: record (position 426): is 425 bytes, expected 426" in capsys.readouterr().out
    assert _exit(["bureau", "validate", str(path), "--format", "xml"]) == 2
    assert "error: --format:" in capsys.readouterr().err
    assert _exit(["bureau", "validate", str(tmp_path / "none"), "--format", "pboc"]) == 2


@pytest.mark.parametrize(("content", "reason"), [
    (b"\x00" * 426 + b"\n", "is binary"),
    (b'{"loan_id": "\xff\xfe"}\n', "is not UTF-8 text"),
    (b"[" * 100_000 + b"]" * 100_000, "has no line of 426 bytes"),
])
def test_a_file_that_is_no_bureau_file_at_all_is_bad_input(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, reason: str) -> None:
    path = tmp_path / "hostile"
    path.write_bytes(content)
    assert _exit(["bureau", "validate", str(path), "--format", "metro2"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: FILE: ") and reason in err and err.count("\n") == 1


@pytest.mark.parametrize(("options", "field"), [
    (["--furnisher", "debt_buyer"], "--original-creditor"),  # K1 is required (M2-1)
    (["--original-creditor", "Lender Co", "--creditor-classification", "12"],
     "--original-creditor"),  # a creditor reports no K1
    (["--furnisher", "collection_agency", "--original-creditor", "Lender Co"],
     "--original-creditor"),
    (["--liable-relations", "guarantor=1"], "--liable-relations"),  # not 2 or 5 (M2-9)
    (["--furnisher", "lender"], "--furnisher"),
])
def test_furnisher_options_that_disagree_are_refused_naming_the_field(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], options: list[str],
        field: str) -> None:
    out = tmp_path / "m2.txt"
    assert _exit(["report", "bureau", "--format", "metro2", "--month", "2026-01", "--out",
                  str(out), "--db", f"sqlite:///{tmp_path / 'none.db'}", *options]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {field}: ") and err.count("\n") == 1
    assert not out.exists()
