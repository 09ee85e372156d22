"""Payment files: each provider's layout parses its realistic sample, and no cell, however
wrong, crashes the parser — every data row is a payment or a reject naming its column."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.application.payment_file import (
    FORMATS,
    ROW,
    FileRefused,
    decode,
    minor_units,
    parse,
)
from arrears.domain.errors import DomainError

EXAMPLES = Path(__file__).parents[3] / "examples"


def _sample(name: str, encoding: str = "utf-8") -> str:
    layout = FORMATS[name]
    path = EXAMPLES / ("payments.csv" if name == "generic" else f"payments-{name}.csv")
    return decode(path.read_text(encoding="utf-8").encode(encoding), layout, "FILE.csv")


def test_the_generic_sample():
    parsed = parse(_sample("generic"), FORMATS["generic"])
    assert [(r.line, r.key, r.loan_ref, r.amount, r.on, r.currency) for r in parsed.rows] == [
        (2, "bank-20260216-0001", "WLD-1001", Decimal("916.80"), date(2026, 2, 16), None),
        (3, "bank-20260216-0002", "WLD-1002", Decimal("500.00"), date(2026, 2, 16), None),
        (4, "bank-20260216-0003", "PHN-2001", Decimal("300.00"), date(2026, 2, 16), None)]
    assert parsed.rejects == []


def test_a_wechat_bill_backticks_summary_and_refund():
    parsed = parse(_sample("wechat"), FORMATS["wechat"])
    assert [(r.line, r.key, r.loan_ref, r.amount, r.currency) for r in parsed.rows] == [
        (2, "wechat:4200002026021600000000000001", "WLD-1001", Decimal("916.80"), "CNY"),
        (3, "wechat:4200002026021600000000000002", "WLD-1002", Decimal("500.00"), "CNY")]
    assert [(r.line, r.field) for r in parsed.rejects] == [(4, "交易状态")]
    assert parsed.data_lines == 3  # the two summary lines are not rows


def test_an_alipay_bill_in_gb18030_with_comment_lines():
    parsed = parse(_sample("alipay", "gb18030"), FORMATS["alipay"])
    assert [(r.line, r.key, r.loan_ref, r.amount, r.on) for r in parsed.rows] == [
        (6, "alipay:2026021622001412340000000101", "WLD-1001", Decimal("916.80"),
         date(2026, 2, 16)),
        (7, "alipay:2026021622001412340000000102", "PHN-2001", Decimal("300.00"),
         date(2026, 2, 16))]
    assert [(r.line, r.field) for r in parsed.rejects] == [(8, "业务类型")]


@pytest.mark.parametrize(("content", "reason"), [
    (b"key,loan_id,amount\nk,L,1.00\n", "has no column paid_on"),
    (b"\xff\xfe\x00k", "is not UTF-8 text"),
    (b"", "has no header row"),
    (b'key,loan_id,amount,paid_on\n"k,L,1.00,2026-02-16\n', "unexpected end of data"),
])
def test_a_file_that_cannot_be_read_is_refused_whole(content, reason):
    layout = FORMATS["generic"]
    with pytest.raises(FileRefused) as refused:
        parse(decode(content, layout, "FILE.csv"), layout)
    assert refused.value.field == "FILE.csv" and reason in refused.value.reason


def test_amounts_keep_the_currency_minor_digits_exactly():
    assert minor_units(Decimal("916.80"), "CNY") == 91680
    assert minor_units(Decimal("1E+3"), "JPY") == 1000
    with pytest.raises(DomainError, match="more than 0 decimal places"):
        minor_units(Decimal("100.5"), "JPY")
    parsed = parse("key,loan_id,amount,paid_on,currency\nk,L,0.1,2026-02-16,JPY\n"
                   "k2,L,1e30,2026-02-16,CNY\nk3,L,1.5,2026-02-16 25:00:00,CNY\n",
                   FORMATS["generic"])
    assert [(r.line, r.field) for r in parsed.rejects] == [
        (2, "amount"), (3, "amount"), (4, "paid_on")]


JUNK = st.text(st.characters(exclude_characters="\x00", exclude_categories=("Cs",)),
               max_size=12)


def _cells(draw: st.DrawFn, header: list[str], layout_name: str) -> list[str]:
    plausible = {"key": "k-1", "loan_id": "WLD-1001", "amount": "12.30",
                 "paid_on": "2026-02-16", "currency": "CNY", "status": "SUCCESS"}
    columns = {name: field for field, names in FORMATS[layout_name].columns.items()
               for name in names}
    width = draw(st.sampled_from([len(header), len(header), len(header) - 1, len(header) + 1]))
    cells = []
    for position in range(width):
        name = header[position] if position < len(header) else ""
        good = plausible.get(columns.get(name, ""), "x")
        cells.append(draw(st.one_of(st.just(good), JUNK)))
    return cells


@settings(max_examples=100, deadline=None)
@given(st.data(), st.sampled_from(sorted(FORMATS)))
def test_junk_cells_give_a_row_or_a_reject_naming_the_column(data, layout_name):
    layout = FORMATS[layout_name]
    header = [names[0] for names in layout.columns.values()] + ["其他"]
    rows = [_cells(data.draw, header, layout_name) for _ in range(3)]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(header)
    writer.writerows([[layout.cell_prefix + cell for cell in row] for row in rows])
    parsed = parse(out.getvalue(), layout)
    kept = [row for row in rows
            if any(cell.strip() for cell in row)
            and not (layout.ends_at and row[0].strip() == layout.ends_at)
            and not (layout.comment and row[0].startswith(layout.comment))]
    if len(kept) == len(rows):  # no blank row, comment or summary line among them
        assert len(parsed.rows) + len(parsed.rejects) == len(rows)
    for reject in parsed.rejects:
        assert reject.field in (*header, ROW) and reject.reason
    for row in parsed.rows:
        assert row.amount > 0 and row.key.startswith(layout.key_prefix)
