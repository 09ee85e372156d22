"""Golden bureau files: a small book across 14 months (bureau_book.golden_book — a cure, a
write-off and its recovery, a restructure, a dispute opened and answered, a correction, and a
first negative record held until its notice), both formats, each month's file validated.

Regenerate after an intended change with ARREARS_UPDATE_GOLDEN=1 and review the diff."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from arrears.application.bureau import Format
from arrears.application.handlers import bureau as reporting
from arrears.batch import bureau as files
from arrears.domain.bureau.validate import validate
from bureau_book import FakeBureauStore, FakeDisputes, factory, golden_book, months

HERE = Path(__file__).parent
UPDATE = bool(os.environ.get("ARREARS_UPDATE_GOLDEN"))


def _run_book() -> tuple[dict[Format, bytes], list[dict[str, object]]]:
    book = golden_book()
    store = FakeBureauStore(book)
    content = {kind: b"" for kind in Format}
    summaries: list[dict[str, object]] = []
    for month in months():
        run = reporting.build_month(month, uow_factory=factory(book, store, month.last),
                                    disputes=FakeDisputes(book))
        created = datetime.combine(month.last + timedelta(days=1), time(6), UTC)
        for kind in Format:
            produced = files.build_file(kind, run.records, reporter=files.Reporter(),
                                        month_end=month.last, created=created)
            assert validate(produced, kind.value) == [], (month, kind)
            content[kind] += produced
        summaries.append({
            "month": str(month),
            "records": [r.snapshot.loan_ref + (" (correction)" if r.correction else "")
                        for r in run.records],
            "held": {h.loan_ref: list(h.rule_ids) for h in run.held},
            "events": {r.snapshot.loan_ref: [f"{e.kind.name} {e.on} {e.amount} {e.months}"
                                             for e in r.snapshot.events]
                       for r in run.records if r.snapshot.events},
        })
    return content, summaries


@pytest.fixture(scope="module")
def produced() -> tuple[dict[Format, bytes], list[dict[str, object]]]:
    return _run_book()


@pytest.mark.parametrize("kind", list(Format))
def test_monthly_files_match_golden(produced, kind: Format) -> None:
    path = HERE / f"{kind.value}-2026-01_2027-02.txt"
    if UPDATE:
        path.write_bytes(produced[0][kind])
    assert produced[0][kind] == path.read_bytes()


def test_run_summaries_match_golden(produced) -> None:
    path = HERE / "runs-2026-01_2027-02.json"
    text = json.dumps(produced[1], ensure_ascii=False, indent=1) + "\n"
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_held_record_goes_out_with_its_history(produced) -> None:
    runs = {r["month"]: r for r in produced[1]}
    assert runs["2026-04"]["held"] == {"L-HELD": ["cn.credit2013.pre_report_notice"]}
    assert runs["2026-05"]["held"] == {"L-HELD": ["cn.credit2013.pre_report_notice"]}
    assert "L-HELD" in runs["2026-06"]["records"] and not runs["2026-06"]["held"]
    june = [line for line in produced[0][Format.PBOC].split(b"\n")
            if line[:1] == b"A" and b"L-HELD" in line and b"20260630" in line]
    # April (1–30 days), May (31–60) and June (61–90) are all in the first record sent (CN-25).
    assert june and june[0][194:218].endswith(b"NN123")


def test_correction_resends_the_disputed_month(produced) -> None:
    runs = {r["month"]: r for r in produced[1]}
    assert "L-CORR (correction)" in runs["2026-08"]["records"]
    assert not any("(correction)" in r for m, run in runs.items() if m != "2026-08"
                   for r in run["records"])
