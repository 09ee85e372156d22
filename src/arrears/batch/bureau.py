"""Bureau files built columnarly: fixed-width fields written from arrays into an (n, width)
uint8 matrix, the way the end-of-day kernel works on columns rather than on loans.

Per layout (`domain.bureau.layouts`) a template row holds every constant, blank and zero;
each field given as a column is then written for all rows at once: numbers and dates digit
by digit with integer division (two digits per pass from a 100-entry table), text as a
fixed-width byte array viewed as uint8. The matrix gains a newline column and is written as
one buffer. Numbers are int64 and must fit their width (a 15-digit field < 10^15 < 2^63);
a value that does not fit is refused, naming the field, never truncated. Text is ASCII, cut
to its width; Metro 2 text is upper-cased (M2-1).
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np

from arrears.application.bureau import BureauRecord, Format
from arrears.domain.bureau import layouts
from arrears.domain.bureau.codes import ConditionCode
from arrears.domain.bureau.layouts import Field, Layout
from arrears.domain.money import minor_digits

NEWLINE = 10
SPACE, ZERO = 32, 48
PAIRS = np.array([[ZERO + i // 10, ZERO + i % 10] for i in range(100)], dtype=np.uint8)

class FormatError(ValueError):
    """A column the formatter refuses, naming the field."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def template(layout: Layout, *, upper: bool) -> np.ndarray:
    row = np.full(layout.length, SPACE, dtype=np.uint8)
    for field in layout.fields:
        if field.kind in "ND":
            row[field.start - 1:field.end] = ZERO
        if field.constant:
            text = field.constant.upper() if upper else field.constant
            value = np.frombuffer(text.encode("ascii").rjust(field.length, b"0")
                                  if field.kind in "ND" else
                                  text.encode("ascii").ljust(field.length), dtype=np.uint8)
            row[field.start - 1:field.end] = value
    return row


def write_digits(out: np.ndarray, field: Field, values: np.ndarray) -> None:
    """Right-justified, zero-filled decimal digits of `values` into the field's columns: the
    digits are made one position at a time in a contiguous (width, n) scratch (division by
    a constant is cheap in NumPy), then copied into the rows in one strided pass."""
    v = np.array(values, dtype=np.int64)  # a copy: divided in place below
    if v.size and (v.min() < 0 or v.max() >= 10 ** field.length):
        raise FormatError(field.name, f"values must be 0 to {10 ** field.length - 1}")
    digits = np.empty((field.length, len(v)), dtype=np.uint8)
    remainder = np.empty_like(v)
    for position in range(field.length - 1, -1, -1):
        np.divmod(v, 10, out=(v, remainder))
        np.add(remainder, ZERO, out=digits[position], casting="unsafe")
    out[:, field.start - 1:field.end] = digits.T


TEXT = np.arange(256, dtype=np.uint8)
TEXT[:SPACE] = SPACE  # NUL padding and control characters become blanks
TEXT[128:] = ord("?")  # never emit a byte outside ASCII
UPPER_TEXT = TEXT.copy()
UPPER_TEXT[ord("a"):ord("z") + 1] -= 32


def write_text(out: np.ndarray, field: Field, values: np.ndarray, *, upper: bool) -> None:
    """Left-justified, blank-filled ASCII, cut to the field's width."""
    fixed = np.asarray(values).astype(f"S{field.length}")
    block = fixed.view(np.uint8).reshape(len(fixed), field.length)
    out[:, field.start - 1:field.end] = (UPPER_TEXT if upper else TEXT)[block]


def render_into(out: np.ndarray, layout: Layout, columns: Mapping[str, np.ndarray], *,
                upper: bool) -> None:
    """Records of `layout` into `out`, an (n, length + 1) uint8 matrix, each ending in a
    newline."""
    rows = len(out)
    out[:, :layout.length] = template(layout, upper=upper)
    out[:, layout.length] = NEWLINE
    for name, values in columns.items():
        field = layout.field(name)
        if len(values) != rows:
            raise FormatError(name, f"has {len(values)} values for {rows} records")
        if field.kind == "A":
            write_text(out, field, values, upper=upper)
        else:
            write_digits(out, field, values)


def render(layout: Layout, columns: Mapping[str, np.ndarray], rows: int, *, upper: bool
           ) -> np.ndarray:
    out = np.empty((rows, layout.length + 1), dtype=np.uint8)
    render_into(out, layout, columns, upper=upper)
    return out


# --- Metro 2 -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Reporter:
    """The furnisher as the header names it."""

    identification: str = "ARREARS"
    name: str = "ARREARS LENDER"
    address: str = ""
    telephone: int = 0


def mmddyyyy(days: date | None) -> int:
    return 0 if days is None else days.month * 1_000_000 + days.day * 10_000 + days.year


def yyyymmdd(days: date | None) -> int:
    return 0 if days is None else days.year * 10_000 + days.month * 100 + days.day


def metro2_file(columns: Mapping[str, np.ndarray], rows: int, *, reporter: Reporter,
                activity: date, created: datetime) -> bytes:
    """Header, one base segment per row, trailer whose status counts add up to the records."""
    statuses = np.asarray(columns["account_status"]).astype("S2")
    whole = np.empty((rows + 2, layouts.METRO2_LENGTH + 1), dtype=np.uint8)
    render_into(whole[1:-1], layouts.METRO2_BASE, {
        **columns,
        "identification_number": np.full(rows, reporter.identification.encode(), dtype="S20"),
        "time_stamp": np.full(rows, _stamp(created), dtype=np.int64),
    }, upper=True)
    render_into(whole[:1], layouts.METRO2_HEADER, {
        "reporter_name": np.array([reporter.name.encode()]),
        "reporter_address": np.array([reporter.address.encode()]),
        "reporter_telephone_number": np.array([reporter.telephone]),
        "activity_date": np.array([mmddyyyy(activity)]),
        "date_created": np.array([mmddyyyy(created.date())]),
    }, upper=True)
    codes, counts = np.unique(statuses, return_counts=True)
    found = {code.decode(): int(count) for code, count in zip(codes, counts, strict=True)}
    unknown = set(found) - set(layouts.TRAILER_STATUS_COUNTS) - {"DF"}
    if unknown:
        raise FormatError("account_status", f"no trailer count for {sorted(unknown)}")
    trailer_columns: dict[str, np.ndarray] = {
        "total_base_records": np.array([rows]),
        "block_count": np.array([0]),
        "total_status_DF": np.array([found.get("DF", 0)]),
    }
    for code in layouts.TRAILER_STATUS_COUNTS:
        trailer_columns[f"total_status_{code}"] = np.array([found.get(code, 0)])
    ssn = np.asarray(columns.get("social_security_number", np.zeros(rows, dtype=np.int64)))
    trailer_columns["total_ssn_all_segments"] = np.array([int(np.count_nonzero(ssn))])
    trailer_columns["total_ssn_base_segments"] = trailer_columns["total_ssn_all_segments"]
    render_into(whole[-1:], layouts.METRO2_TRAILER, trailer_columns, upper=True)
    return whole.tobytes()


def _stamp(at: datetime) -> int:
    return (mmddyyyy(at.date()) * 1_000_000 + at.hour * 10_000 + at.minute * 100 + at.second)


def _whole(amounts: Sequence[int], currency_digits: Sequence[int]) -> np.ndarray:
    """M2-1: whole units, cents truncated; negative balances reported as 0 (M2-7)."""
    units = np.asarray(amounts, dtype=np.int64)
    scale = np.power(10, np.asarray(currency_digits, dtype=np.int64))
    return np.maximum(units, 0) // scale


def _split_name(name: str) -> tuple[str, str, str]:
    """(surname, first, middle) from a name written first name first."""
    parts = name.split()
    if not parts:
        return "", "", ""
    if len(parts) == 1:
        return parts[0], "", ""
    return parts[-1], parts[0], " ".join(parts[1:-1])


def _ascii(text: str) -> bytes:
    """ASCII, accents dropped ("Müller" → "Muller", not "M?ller"); what has no ASCII form
    becomes "?"."""
    plain = "".join(ch for ch in unicodedata.normalize("NFKD", text)
                    if not unicodedata.combining(ch))
    return plain.encode("ascii", "replace")


def metro2_columns(records: Sequence[BureauRecord]) -> dict[str, np.ndarray]:
    """The base-segment columns of `records` (one Python pass to gather, then arrays)."""
    snaps = [r.snapshot for r in records]
    digits = [minor_digits(s.currency) for s in snaps]
    names = [_split_name(r.subject.name) for r in records]
    ssn = []
    for record in records:
        number = "".join(ch for ch in record.subject.national_id if ch.isdigit())
        ssn.append(int(number) if len(number) == 9 else 0)
    return {
        "correction_indicator": np.array([int(r.correction) for r in records], dtype=np.int64),
        "consumer_account_number": np.array([_ascii(s.loan_ref) for s in snaps], dtype="S30"),
        "date_opened": np.array([mmddyyyy(s.opened_on) for s in snaps], dtype=np.int64),
        "highest_credit": _whole([s.principal for s in snaps], digits),
        "terms_duration": np.array([f"{s.terms:03d}".encode() for s in snaps], dtype="S3"),
        "scheduled_monthly_payment": _whole([s.scheduled_payment for s in snaps], digits),
        "actual_payment": _whole([s.actual_payment for s in snaps], digits),
        "account_status": np.array([s.metro2_status.encode() for s in snaps], dtype="S2"),
        "payment_rating": np.array([s.payment_rating.encode() for s in snaps], dtype="S1"),
        "payment_history_profile": np.array([s.metro2_history.encode() for s in snaps],
                                            dtype="S24"),
        "special_comment": np.array([s.special_comment.encode() for s in snaps], dtype="S2"),
        "compliance_condition_code": np.array(
            [s.condition_code.value.encode() if s.condition_code is not ConditionCode.NONE
             else b"" for s in snaps], dtype="S2"),
        "current_balance": _whole([s.balance for s in snaps], digits),
        "amount_past_due": _whole([s.past_due_30 for s in snaps], digits),
        "original_charge_off_amount": _whole([s.charge_off_amount for s in snaps], digits),
        "date_of_account_information": np.array(
            [mmddyyyy(s.closed_on or s.month.last) for s in snaps], dtype=np.int64),
        "date_of_first_delinquency": np.array([mmddyyyy(s.dofd) for s in snaps],
                                              dtype=np.int64),
        "date_closed": np.array([mmddyyyy(s.closed_on) for s in snaps], dtype=np.int64),
        "date_of_last_payment": np.array([mmddyyyy(s.last_payment_on) for s in snaps],
                                         dtype=np.int64),
        "surname": np.array([_ascii(n[0]) for n in names], dtype="S25"),
        "first_name": np.array([_ascii(n[1]) for n in names], dtype="S20"),
        "middle_name": np.array([_ascii(n[2]) for n in names], dtype="S20"),
        "social_security_number": np.array(ssn, dtype=np.int64),
        "first_line_of_address": np.array([_ascii(r.subject.address) for r in records],
                                          dtype="S32"),
        "state": np.array([_ascii(r.subject.region) if len(r.subject.region) == 2 else b""
                           for r in records], dtype="S2"),
    }


# --- PBOC ----------------------------------------------------------------------------------


def pboc_columns(records: Sequence[BureauRecord]) -> tuple[dict[str, np.ndarray],
                                                           dict[str, np.ndarray]]:
    """(account columns, special-transaction columns with `owner`: the account row index)."""
    snaps = [r.snapshot for r in records]
    bands = np.array([s.overdue_principal_bands for s in snaps], dtype=np.int64).reshape(-1, 5)
    accounts = {
        "correction_flag": np.array([int(r.correction) for r in records], dtype=np.int64),
        "account_id": np.array([_ascii(s.loan_ref) for s in snaps], dtype="S30"),
        "id_number": np.array([_ascii(r.subject.national_id) for r in records], dtype="S18"),
        "open_date": np.array([yyyymmdd(s.opened_on) for s in snaps], dtype=np.int64),
        "maturity_date": np.array([yyyymmdd(s.maturity_on) for s in snaps], dtype=np.int64),
        "loan_amount": np.array([s.principal for s in snaps], dtype=np.int64),
        "currency": np.array([s.currency.encode() for s in snaps], dtype="S3"),
        "terms": np.array([s.terms for s in snaps], dtype=np.int64),
        "record_date": np.array([yyyymmdd(s.closed_on or s.month.last) for s in snaps],
                                dtype=np.int64),
        "balance": np.array([s.balance for s in snaps], dtype=np.int64),
        "overdue_terms": np.array([s.overdue_terms for s in snaps], dtype=np.int64),
        "overdue_amount": np.array([s.past_due for s in snaps], dtype=np.int64),
        "overdue_principal_31_60": bands[:, 1],
        "overdue_principal_61_90": bands[:, 2],
        "overdue_principal_91_180": bands[:, 3],
        "overdue_principal_over_180": bands[:, 4],
        "loan_class": np.array([int(s.loan_class.value) for s in snaps], dtype=np.int64),
        "account_status": np.array([int(s.account_status.value) for s in snaps],
                                   dtype=np.int64),
        "repayment_status_24m": np.array([s.pboc_history.encode() for s in snaps],
                                         dtype="S24"),
        "objection_mark": np.array([int(s.dispute.value == "open") for s in snaps],
                                   dtype=np.int64),
        "scheduled_payment": np.array([s.scheduled_payment for s in snaps], dtype=np.int64),
        "actual_payment": np.array([s.actual_payment for s in snaps], dtype=np.int64),
        "last_payment_date": np.array([yyyymmdd(s.last_payment_on) for s in snaps],
                                      dtype=np.int64),
        "special_records": np.array([len(s.events) for s in snaps], dtype=np.int64),
    }
    owners = [(i, r, e) for i, r in enumerate(records) for e in r.snapshot.events]
    specials = {
        "owner": np.array([i for i, _, _ in owners], dtype=np.int64),
        "correction_flag": np.array([int(r.correction) for _, r, _ in owners], dtype=np.int64),
        "account_id": np.array([_ascii(r.snapshot.loan_ref) for _, r, _ in owners],
                               dtype="S30"),
        "record_date": accounts["record_date"][[i for i, _, _ in owners]],
        "kind": np.array([int(e.kind.value) for _, _, e in owners], dtype=np.int64),
        "transaction_date": np.array([yyyymmdd(e.on) for _, _, e in owners], dtype=np.int64),
        "amount": np.array([e.amount for _, _, e in owners], dtype=np.int64),
        "months_changed": np.array([e.months for _, _, e in owners], dtype=np.int64),
    }
    return accounts, specials


def pboc_file(accounts: Mapping[str, np.ndarray], specials: Mapping[str, np.ndarray],
              rows: int, *, reporter: Reporter, report_date: date, created: datetime) -> bytes:
    """Header, each account record followed by its special-transaction records, trailer."""
    account_rows = render(layouts.PBOC_ACCOUNT, accounts, rows, upper=False)
    owner = np.asarray(specials["owner"], dtype=np.int64)
    special_rows = render(layouts.PBOC_SPECIAL,
                          {k: v for k, v in specials.items() if k != "owner"},
                          len(owner), upper=False)
    per_account = np.bincount(owner, minlength=rows)
    # Account i lands after every record of the accounts before it; its specials follow it.
    account_at = np.arange(rows) + np.concatenate(([0], np.cumsum(per_account)[:-1]))
    nth = np.arange(len(owner)) - np.concatenate(([0], np.cumsum(per_account)))[owner]
    body = np.empty((rows + len(owner), layouts.PBOC_LENGTH + 1), dtype=np.uint8)
    body[account_at] = account_rows
    body[account_at[owner] + 1 + nth] = special_rows
    statuses = np.asarray(accounts["account_status"], dtype=np.int64)
    header = render(layouts.PBOC_HEADER, {
        "reporter_id": np.array([reporter.identification.encode()]),
        "report_date": np.array([yyyymmdd(report_date)]),
        "created_on": np.array([yyyymmdd(created.date())]),
    }, 1, upper=False)
    trailer = render(layouts.PBOC_TRAILER, {
        "account_records": np.array([rows]), "special_records": np.array([len(owner)]),
        **{f"total_status_{code}": np.array([int(np.count_nonzero(statuses == int(code)))])
           for code in layouts.PBOC_STATUS_COUNTS},
    }, 1, upper=False)
    return header.tobytes() + body.tobytes() + trailer.tobytes()


def build_file(kind: Format, records: Sequence[BureauRecord], *, reporter: Reporter,
               month_end: date, created: datetime) -> bytes:
    if kind is Format.METRO2:
        return metro2_file(metro2_columns(records), len(records), reporter=reporter,
                           activity=month_end, created=created)
    accounts, specials = pboc_columns(records)
    return pboc_file(accounts, specials, len(records), reporter=reporter,
                     report_date=month_end, created=created)


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()
