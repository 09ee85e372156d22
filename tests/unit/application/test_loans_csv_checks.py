"""The loans CSV checks each distinct value once per file (a phone number, an amount, a date,
a zone): remembering an answer must never change a row's outcome. Every row of a file parses
exactly as it would alone, a bad value that repeats is listed on every line that has it, and a
remembered phone agrees with validating the number afresh."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.application.loan_import import (
    ImportRejected,
    LoanRow,
    RowError,
    e164,
    normalise_phone,
    parse_loans_csv,
    phone_zones,
)
from arrears.domain.errors import DomainError

PRODUCTS = {"WLD-DAILY"}
COLUMNS = ("loan_id", "borrower_id", "name", "national_id", "phone", "phone_time_zone",
           "product", "currency", "principal", "disbursed_on", "terms", "time_zone",
           "contact_name", "contact_phone")
PHONES = ("13812345678", "+8613812345678", "+86 138 1234 5678", "+86 10 6552 9988",
          "+44 20 7946 0958", "+1 202 456 1111", "+800 1234 5678", "12345", "+86123",
          "not a phone", "+8613812345678;ext=12", "")
# Repeats on purpose: the same value on many rows, valid and not, in both phone columns.
CELLS = {
    "phone": st.one_of(st.sampled_from(PHONES),
                       st.from_regex(r"\+?[0-9][0-9 ]{2,15}", fullmatch=True)),
    "phone_time_zone": st.sampled_from(("", "", "Asia/Shanghai", "Mars/Base")),
    "currency": st.sampled_from(("CNY", "CNY", "CNY", "XYZ")),
    "principal": st.sampled_from(("1000.00", "1000.00", "2500", "1000.001", "0", "-5", "1e3",
                                  "abc", "")),
    "disbursed_on": st.sampled_from(("2026-01-15", "2026-01-15", "2026-02-30", "9999-12-31",
                                     "15/01/2026")),
    "terms": st.sampled_from(("12", "12", "6", "0", "x", "999")),
    "time_zone": st.sampled_from(("", "", "Europe/London", "Nowhere/Zone")),
    "contact_name": st.sampled_from(("", "李娜")),
}


@st.composite
def _rows(draw: st.DrawFn) -> list[dict[str, str]]:
    count = draw(st.integers(1, 12))
    rows = []
    for index in range(count):
        row = {name: draw(strategy) for name, strategy in CELLS.items()}
        row["contact_phone"] = draw(CELLS["phone"]) if draw(st.booleans()) else ""
        row.update(loan_id=f"L-{index}", borrower_id=f"B-{index}", name="张伟",
                   national_id="110101199003071234", product="WLD-DAILY")
        rows.append(row)
    return rows


def _csv(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _outcome(text: str) -> list[LoanRow] | list[RowError]:
    try:
        return parse_loans_csv(text, PRODUCTS)
    except ImportRejected as rejected:
        return rejected.errors


@settings(max_examples=150, deadline=None)
@given(_rows())
def test_every_row_of_a_file_parses_as_it_would_alone(rows):
    together = _outcome(_csv(rows))
    alone = [_outcome(_csv([row])) for row in rows]
    failed = [(line, result[0]) for line, result in enumerate(alone, 2)
              if isinstance(result[0], RowError)]
    if failed:
        # Every bad line is listed, each with the field and reason it has on its own.
        assert [(e.line, e.field, e.reason) for e in together] == [
            (line, error.field, error.reason) for line, error in failed]
    else:
        assert together == [
            LoanRow(**{**{name: getattr(result[0], name) for name in LoanRow.__slots__},
                       "line": line})
            for line, result in enumerate(alone, 2)]


@settings(max_examples=300, deadline=None)
@given(st.lists(CELLS["phone"].map(str.strip).filter(bool), min_size=1, max_size=6))
def test_a_remembered_phone_agrees_with_validating_it_afresh(phones):
    """Each row's phone (and the same text as a contact's) as the per-number check gives it:
    the E.164 form and the first zone its numbering plan names, or that check's refusal."""
    rows = [{**dict.fromkeys(COLUMNS, ""), "loan_id": f"L-{index}", "borrower_id": f"B-{index}",
             "name": "张伟", "national_id": "110101199003071234", "product": "WLD-DAILY",
             "currency": "CNY", "principal": "1000.00", "disbursed_on": "2026-01-15",
             "terms": "12", "phone": text, "contact_name": "李娜", "contact_phone": text}
            for index, text in enumerate(phones * 2)]
    result = _outcome(_csv(rows))
    expected = [_afresh(text) for text in phones * 2]
    if all(isinstance(one, tuple) for one in expected):
        assert [(r.borrower.phones[0].number, r.borrower.phones[0].time_zone,
                 r.borrower.contacts[0].phone) for r in result] == expected
    else:
        assert [(e.line, e.field, e.reason) for e in result] == [
            (line, *one) for line, one in enumerate(expected, 2) if isinstance(one, list)]


def _afresh(text: str) -> tuple[str, str, str] | list[str]:
    """(number, zone, contact number) from the uncached checks, or [field, reason]."""
    try:
        number = normalise_phone(text, "phone")
    except DomainError as error:
        return [error.field, error.reason]
    zone = next(iter(phone_zones(number)), "")
    if not zone:
        return ["phone_time_zone", "cannot be inferred from the number; give one"]
    return (e164(number), zone, e164(normalise_phone(text, "contact_phone")))


@pytest.mark.parametrize("cell, value, field", [
    ("phone", "12345", "phone"), ("contact_phone", "12345", "contact_phone"),
    ("phone", "+800 1234 5678", "phone_time_zone"),
    # E.164 has no extension: storing the number would silently drop it.
    ("phone", "+8613812345678;ext=12", "phone"),
    ("contact_phone", "+86 139 8765 4321 ext. 7", "contact_phone"),
    ("principal", "1000.001", "principal"), ("disbursed_on", "2026-02-30", "disbursed_on"),
    ("terms", "0", "terms"), ("time_zone", "Nowhere/Zone", "time_zone"),
    ("currency", "XYZ", "currency")])
def test_a_bad_value_on_every_row_is_listed_on_every_line(cell, value, field):
    good = {"loan_id": "", "borrower_id": "", "name": "张伟",
            "national_id": "110101199003071234", "phone": "13812345678", "phone_time_zone": "",
            "product": "WLD-DAILY", "currency": "CNY", "principal": "1000.00",
            "disbursed_on": "2026-01-15", "terms": "12", "time_zone": "", "contact_name": "李娜",
            "contact_phone": "13987654321"}
    rows = [{**good, "loan_id": f"L-{n}", "borrower_id": f"B-{n}", cell: value}
            for n in range(5)]
    with pytest.raises(ImportRejected) as rejected:
        parse_loans_csv(_csv(rows), PRODUCTS)
    assert [(e.line, e.field) for e in rejected.value.errors] == [
        (line, field) for line in range(2, 7)]
