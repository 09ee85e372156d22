"""Bureau files built columnarly: fixed-width fields written from arrays into an (n, width)
uint8 matrix, the way the end-of-day kernel works on columns rather than on loans.

Per layout (`domain.bureau.layouts`) a template row holds every constant, blank and zero (and
the values one file shares, such as its time stamp); it is copied to every row, then each
field given as a column is written for all rows at once through a structured view of the
matrix (a field is one fixed-size item per row, so a column is one strided copy). Numbers and
dates are turned into digits four at a time from a table of '0000' … '9999' (a 9-digit field
is two divisions and three lookups); text is a fixed-width byte array, blanked below the space
and upper-cased with whole-array operations. The matrix gains a newline column and is written
as one buffer. Numbers are int64 and must fit their width (a 15-digit field < 10^15 < 2^63); a
value that does not fit is refused, naming the field, never truncated. Text is ASCII, cut to
its width; Metro 2 text is upper-cased (M2-1).
"""

from __future__ import annotations

import functools
import hashlib
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np

from arrears.application.bureau import Associate, BureauRecord, Format, Subject
from arrears.domain.bureau import codes, layouts
from arrears.domain.bureau.codes import ConditionCode, FurnisherKind
from arrears.domain.bureau.layouts import Field, Layout
from arrears.domain.errors import DomainError
from arrears.domain.money import minor_digits

NEWLINE = 10
SPACE, ZERO, QUESTION = 32, 48, 63
LOWER_A, LETTERS, CASE_BIT = 97, 26, 32
CHUNK = 8192  # rows formatted together: 8192 × 427 bytes stay within the L3 cache
QUADS = np.frombuffer(b"".join(b"%04d" % i for i in range(10_000)), dtype=np.uint32)
"""'0000' … '9999' as one uint32 each, in memory order: viewed as bytes, a row of them reads
left to right on any byte order."""


class FormatError(DomainError):
    """A column the formatter refuses, naming the field (a user error: the book holds a value
    the file cannot carry)."""


def template(layout: Layout, *, upper: bool) -> np.ndarray:
    row = np.full(layout.length, SPACE, dtype=np.uint8)
    for spec in layout.fields:
        if spec.kind in "ND":
            row[spec.start - 1:spec.end] = ZERO
        if spec.constant:
            text = spec.constant.upper() if upper else spec.constant
            value = np.frombuffer(text.encode("ascii").rjust(spec.length, b"0")
                                  if spec.kind in "ND" else
                                  text.encode("ascii").ljust(spec.length), dtype=np.uint8)
            row[spec.start - 1:spec.end] = value
    return row


def _places(out: np.ndarray, fields: Sequence[Field]) -> np.ndarray:
    """`out`'s rows (a uint8 matrix whose last axis is contiguous) as records whose fields are
    raw byte strings at the fields' places: assigning a column copies one item per row."""
    dtype = np.dtype({"names": [f.name for f in fields],
                      "formats": [f"V{f.length}" for f in fields],
                      "offsets": [f.start - 1 for f in fields], "itemsize": out.shape[1]})
    return out.view(dtype)[:, 0]


@functools.cache
def _item(skip: int, width: int, itemsize: int) -> np.dtype[np.void]:
    return np.dtype({"names": ["item"], "formats": [f"V{width}"], "offsets": [skip],
                     "itemsize": itemsize})


def _numbers(spec: Field, values: np.ndarray) -> np.ndarray:
    """`values` as int64, refused naming the field when one does not fit its width."""
    v = np.asarray(values, dtype=np.int64)
    if v.size and (v.min() < 0 or v.max() >= 10 ** spec.length):
        raise FormatError(spec.name, f"values must be 0 to {10 ** spec.length - 1}")
    return v


def _digits(width: int, values: np.ndarray) -> np.ndarray:
    words = -(-width // 4)
    quads = np.empty((len(values), words), dtype=np.uint32)
    rest = values
    for word in range(words - 1, 0, -1):
        rest, low = np.divmod(rest, 10_000)
        quads[:, word] = QUADS[low]
    quads[:, 0] = QUADS[rest]  # rest < 10^(width - 4 (words - 1)) ≤ 10^4
    return quads.view(_item(4 * words - width, width, 4 * words))[:, 0]["item"]


def digit_bytes(spec: Field, values: np.ndarray) -> np.ndarray:
    """Right-justified, zero-filled decimal digits of `values`, one V{length} item a row."""
    return _digits(spec.length, _numbers(spec, values))


def text_bytes(spec: Field, values: np.ndarray, *, upper: bool) -> np.ndarray:
    """Left-justified, blank-filled ASCII cut to the field's width, one V{length} item a row:
    NUL padding and control characters become blanks, a byte outside ASCII becomes '?'."""
    fixed = np.asarray(values).astype(f"S{spec.length}")  # a copy: changed in place below
    block = fixed.view(np.uint8).reshape(len(fixed), spec.length)
    np.maximum(block, SPACE, out=block)
    if block.size and block.max() > 127:
        block[block > 127] = QUESTION
    if upper:
        lower = np.subtract(block, LOWER_A, dtype=np.uint8) < LETTERS
        if lower.any():
            block -= lower.view(np.uint8) * np.uint8(CASE_BIT)
    return fixed.view(f"V{spec.length}")


def render_into(out: np.ndarray, layout: Layout, columns: Mapping[str, np.ndarray], *,
                upper: bool, constants: Mapping[str, object] | None = None) -> None:
    """Records of `layout` into `out`, a uint8 matrix `layout.length` wide whose last axis is
    contiguous (the caller owns the columns after it). `constants` are values every record of
    the call shares: written once into the template row. Rows are done CHUNK at a time, so
    each field lands on rows still in the cache from the template's copy."""
    line = template(layout, upper=upper)
    if constants:
        render_into(line.reshape(1, -1), layout, {
            name: np.array([value]) for name, value in constants.items()}, upper=upper)
    for name, values in columns.items():
        if len(values) != len(out):
            raise FormatError(name, f"has {len(values)} values for {len(out)} records")
    places = _places(out, layout.fields)
    fields = [(spec, np.asarray(values) if spec.kind == "A" else _numbers(spec, values))
              for spec, values in ((layout.field(name), v) for name, v in columns.items())]
    for start in range(0, len(out), CHUNK):
        stop = start + CHUNK
        out[start:stop] = line
        rows = places[start:stop]
        for spec, values in fields:
            rows[spec.name] = (text_bytes(spec, values[start:stop], upper=upper)
                               if spec.kind == "A" else _digits(spec.length, values[start:stop]))


def render(layout: Layout, columns: Mapping[str, np.ndarray], rows: int, *, upper: bool
           ) -> np.ndarray:
    """`rows` records of `layout`, each ending in a newline."""
    out = np.empty((rows, layout.length + 1), dtype=np.uint8)
    render_into(out[:, :layout.length], layout, columns, upper=upper)
    out[:, layout.length] = NEWLINE
    return out


# --- Metro 2 -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class OriginalCreditor:
    """The K1 segment's content (M2-1): who first granted the credit, and its class."""

    name: str
    classification: int

    def __post_init__(self) -> None:
        if not self.name.strip() or not self.name.isascii() or not self.name.isprintable():
            raise DomainError("--original-creditor", "must be printable ASCII text")
        if len(self.name) > layouts.METRO2_K1.field("original_creditor_name").length:
            raise DomainError("--original-creditor", "is longer than the 30 characters of K1")
        check_classification(self.classification)


def check_classification(value: int) -> None:
    if value not in codes.CREDITOR_CLASSIFICATIONS:
        raise DomainError("--creditor-classification", "must be one of " + ", ".join(
            f"{code:02d} {name}" for code, name in codes.CREDITOR_CLASSIFICATIONS.items()))


@dataclass(frozen=True, slots=True, kw_only=True)
class Reporter:
    """The furnisher as the file names it: the header, the account type, the K1 segment a
    collection agency or debt buyer appends (M2-1, M2-9), and which of a borrower's contacts
    are liable and reported beside them in J1/J2 (`codes.LIABLE_RELATIONS`)."""

    identification: str = "ARREARS"
    name: str = "ARREARS LENDER"
    address: str = ""
    telephone: int = 0
    kind: FurnisherKind = FurnisherKind.CREDITOR
    original_creditor: OriginalCreditor | None = None
    liable_relations: Mapping[str, str] = field(
        default_factory=lambda: dict(codes.LIABLE_RELATIONS))

    def __post_init__(self) -> None:
        needs = self.kind in codes.NEEDS_ORIGINAL_CREDITOR
        if needs and self.original_creditor is None:
            raise DomainError("--original-creditor", f"a {self.kind.value} reports the "
                                                     "original creditor (K1, M2-1)")
        if not needs and self.original_creditor is not None:
            raise DomainError("--original-creditor", "only a collection agency or a debt "
                                                     "buyer reports one (K1, M2-1)")


@dataclass(frozen=True, slots=True, kw_only=True)
class Appended:
    """One segment slot after every base segment: its columns, and which rows fill it. A file
    of fixed-length records gives every record the same slots; an unused slot is its
    identifier followed by blanks, and the trailer does not count it (M2 `file-structure.md`)."""

    layout: Layout
    columns: Mapping[str, np.ndarray]
    present: np.ndarray  # bool, one per row


def mmddyyyy(days: date | None) -> int:
    return 0 if days is None else days.month * 1_000_000 + days.day * 10_000 + days.year


def yyyymmdd(days: date | None) -> int:
    return 0 if days is None else days.year * 10_000 + days.month * 100 + days.day


def _status_counts(statuses: np.ndarray) -> dict[str, int]:
    """Records per two-character status, counted over the codes' 16-bit values."""
    fixed = np.ascontiguousarray(np.asarray(statuses).astype("S2"))
    counts = np.bincount(fixed.view(np.uint16), minlength=1)
    found = np.flatnonzero(counts)
    return {code.decode(): int(counts[value])
            for value, code in zip(found, found.astype(np.uint16).view("S2"), strict=True)}


def metro2_file(columns: Mapping[str, np.ndarray], rows: int, *, reporter: Reporter,
                activity: date, created: datetime, appended: Sequence[Appended] = ()
                ) -> bytes:
    """Header, one data record per row (the base segment, then the `appended` segments),
    trailer whose status and segment counts add up to the records. Every record of the file
    has the same length, the header and trailer blank-padded to it, and the record descriptor
    word says that length (M2 `base_segment.go`, `header_record.go`)."""
    base = layouts.METRO2_BASE
    length = base.length + sum(a.layout.length for a in appended)
    word = {"record_descriptor_word": length}
    whole = np.empty((rows + 2, length + 1), dtype=np.uint8)
    whole[:, length] = NEWLINE
    render_into(whole[1:-1, :base.length], base, columns, upper=True, constants={
        **word, "time_stamp": _stamp(created),
        "identification_number": reporter.identification.encode(),
        "account_type": codes.ACCOUNT_TYPES[reporter.kind].encode()})
    offset = base.length
    for segment in appended:
        block = whole[1:-1, offset:offset + segment.layout.length]
        render_into(block, segment.layout, segment.columns, upper=True)
        absent = ~np.asarray(segment.present, dtype=bool)
        if absent.any():
            block[absent] = _blank_segment(segment.layout)
        offset += segment.layout.length
    whole[[0, -1], base.length:length] = SPACE
    render_into(whole[:1, :base.length], layouts.METRO2_HEADER, {
        "reporter_name": np.array([reporter.name.encode()]),
        "reporter_address": np.array([reporter.address.encode()]),
        "reporter_telephone_number": np.array([reporter.telephone]),
        "activity_date": np.array([mmddyyyy(activity)]),
        "date_created": np.array([mmddyyyy(created.date())]),
    }, upper=True, constants=word)
    render_into(whole[-1:, :base.length], layouts.METRO2_TRAILER,
                _trailer_columns(columns, rows, appended), upper=True, constants=word)
    return whole.tobytes()


def _blank_segment(layout: Layout) -> np.ndarray:
    line = np.full(layout.length, SPACE, dtype=np.uint8)
    identifier = layout.field("segment_identifier")
    line[:identifier.length] = np.frombuffer(identifier.constant.encode(), dtype=np.uint8)
    return line


def _trailer_columns(columns: Mapping[str, np.ndarray], rows: int,
                     appended: Sequence[Appended]) -> dict[str, np.ndarray]:
    found = _status_counts(columns["account_status"])
    unknown = set(found) - set(layouts.TRAILER_STATUS_COUNTS) - {"DF"}
    if unknown:
        raise FormatError("account_status", f"no trailer count for {sorted(unknown)}")
    totals: dict[str, int] = {"total_base_records": rows, "block_count": 0,
                              "total_status_DF": found.get("DF", 0)}
    for code in layouts.TRAILER_STATUS_COUNTS:
        totals[f"total_status_{code}"] = found.get(code, 0)
    ssn = {"base": int(np.count_nonzero(columns.get("social_security_number", ())))}
    segments = {"j1": 0, "j2": 0, "k1": 0}
    for segment in appended:
        kind = segment.layout.name.rsplit(".", 1)[1]
        present = np.asarray(segment.present, dtype=bool)
        segments[kind] += int(np.count_nonzero(present))
        if "social_security_number" in segment.columns:
            numbers = np.asarray(segment.columns["social_security_number"])
            ssn[kind] = ssn.get(kind, 0) + int(np.count_nonzero(numbers[present]))
    totals |= {"total_j1_segments": segments["j1"], "total_j2_segments": segments["j2"],
               "total_original_creditor_segments": segments["k1"],
               "total_ssn_all_segments": sum(ssn.values()),
               "total_ssn_base_segments": ssn["base"],
               "total_ssn_j1_segments": ssn.get("j1", 0),
               "total_ssn_j2_segments": ssn.get("j2", 0)}
    return {name: np.array([value]) for name, value in totals.items()}


def _stamp(at: datetime) -> int:
    return (mmddyyyy(at.date()) * 1_000_000 + at.hour * 10_000 + at.minute * 100 + at.second)


def _whole(amounts: Sequence[int], currency_digits: Sequence[int]) -> np.ndarray:
    """M2-1: whole units, cents truncated; negative balances reported as 0 (M2-7)."""
    units = np.asarray(amounts, dtype=np.int64)
    scale = np.power(10, np.asarray(currency_digits, dtype=np.int64))
    return np.maximum(units, 0) // scale


def _money(name: str, amounts: Sequence[int], currency_digits: Sequence[int],
           refs: Sequence[str]) -> np.ndarray:
    """The Metro 2 money field `name` in whole units (`_whole`), refused naming the first
    loan whose amount is wider than the field."""
    whole = _whole(amounts, currency_digits)
    width = layouts.METRO2_BASE.field(name).length
    too_wide = np.flatnonzero(whole >= 10 ** width)
    if len(too_wide):
        at = int(too_wide[0])
        raise FormatError(name, f"loan {refs[at]}: {whole[at]} whole units do not fit the "
                                f"field's {width} digits")
    return whole


def account_numbers(refs: Sequence[str], spec: Field) -> np.ndarray:
    """Loan ids as the account-number field `spec`, each exactly: an id longer than the field
    or outside printable ASCII is refused naming it, since cut or replaced it could be
    another loan's account to the bureau."""
    for ref in refs:
        if len(ref) > spec.length or not ref.isascii() or not ref.isprintable():
            raise FormatError(spec.name, f"loan {ref}: the file's account numbers are at most "
                                         f"{spec.length} printable ASCII characters")
    return np.array([ref.encode() for ref in refs], dtype=f"S{spec.length}")


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


def liable(subject: Subject, reporter: Reporter) -> list[tuple[Associate, str]]:
    """The subject's associates the file reports, each with their ECOA code (M2-9)."""
    return [(a, reporter.liable_relations[a.relation.strip().lower()])
            for a in subject.associates if a.relation.strip().lower() in reporter.liable_relations]


def _same_place(associate: Associate, subject: Subject) -> bool:
    """J1 (same address) or J2 (their own): an associate with no address on file is reported
    at the borrower's — the interpretation the README states ([U]: the book keeps no address
    for contacts)."""
    own = " ".join(associate.address.upper().split())
    return not own or own == " ".join(subject.address.upper().split())


def metro2_columns(records: Sequence[BureauRecord], reporter: Reporter | None = None
                   ) -> dict[str, np.ndarray]:
    """The base-segment columns of `records` (one Python pass to gather, then arrays)."""
    reporter = reporter or Reporter()
    snaps = [r.snapshot for r in records]
    refs = [s.loan_ref for s in snaps]
    digits = [minor_digits(s.currency) for s in snaps]

    def money(name: str, amounts: list[int]) -> np.ndarray:
        return _money(name, amounts, digits, refs)

    names = [_split_name(r.subject.name) for r in records]
    ssn = []
    for record in records:
        number = "".join(ch for ch in record.subject.national_id if ch.isdigit())
        ssn.append(int(number) if len(number) == 9 else 0)
    return {
        "correction_indicator": np.array([int(r.correction) for r in records], dtype=np.int64),
        "consumer_account_number": account_numbers(
            refs, layouts.METRO2_BASE.field("consumer_account_number")),
        "date_opened": np.array([mmddyyyy(s.opened_on) for s in snaps], dtype=np.int64),
        "highest_credit": money("highest_credit", [s.principal for s in snaps]),
        "terms_duration": np.array([f"{s.terms:03d}".encode() for s in snaps], dtype="S3"),
        "scheduled_monthly_payment": money("scheduled_monthly_payment",
                                           [s.scheduled_payment for s in snaps]),
        "actual_payment": money("actual_payment", [s.actual_payment for s in snaps]),
        "account_status": np.array([s.metro2_status.encode() for s in snaps], dtype="S2"),
        "payment_rating": np.array([s.payment_rating.encode() for s in snaps], dtype="S1"),
        "payment_history_profile": np.array([s.metro2_history.encode() for s in snaps],
                                            dtype="S24"),
        "special_comment": np.array([s.special_comment.encode() for s in snaps], dtype="S2"),
        "compliance_condition_code": np.array(
            [s.condition_code.value.encode() if s.condition_code is not ConditionCode.NONE
             else b"" for s in snaps], dtype="S2"),
        "current_balance": money("current_balance", [s.balance for s in snaps]),
        "amount_past_due": money("amount_past_due", [s.past_due_30 for s in snaps]),
        "original_charge_off_amount": money("original_charge_off_amount",
                                            [s.charge_off_amount for s in snaps]),
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
        "ecoa_code": np.array([codes.base_ecoa(frozenset(
            code for _, code in liable(r.subject, reporter))).encode() for r in records],
            dtype="S1"),
    }


def metro2_segments(records: Sequence[BureauRecord], reporter: Reporter) -> list[Appended]:
    """The segments after each base segment, in M2-1 order: a J1 slot per associate at the
    borrower's address and a J2 slot per associate elsewhere (as many slots as the record with
    the most), then K1 when the furnisher reports the original creditor."""
    same: list[list[tuple[Associate, str]]] = []
    elsewhere: list[list[tuple[Associate, str]]] = []
    for record in records:
        found = liable(record.subject, reporter)
        same.append([f for f in found if _same_place(f[0], record.subject)])
        elsewhere.append([f for f in found if not _same_place(f[0], record.subject)])
    appended: list[Appended] = []
    for layout, by_record in ((layouts.METRO2_J1, same), (layouts.METRO2_J2, elsewhere)):
        for slot in range(max(map(len, by_record), default=0)):
            people = [found[slot] if slot < len(found) else None for found in by_record]
            names = [_split_name(p[0].name) if p else ("", "", "") for p in people]
            columns = {
                "surname": np.array([_ascii(n[0]) for n in names], dtype="S25"),
                "first_name": np.array([_ascii(n[1]) for n in names], dtype="S20"),
                "middle_name": np.array([_ascii(n[2]) for n in names], dtype="S20"),
                "ecoa_code": np.array([p[1].encode() if p else b"" for p in people], dtype="S1"),
            }
            if layout is layouts.METRO2_J2:
                columns["first_line_of_address"] = np.array(
                    [_ascii(p[0].address) if p else b"" for p in people], dtype="S32")
            appended.append(Appended(layout=layout, columns=columns,
                                     present=np.array([p is not None for p in people])))
    creditor = reporter.original_creditor
    if creditor is not None:
        rows = len(records)
        appended.append(Appended(layout=layouts.METRO2_K1, columns={
            "original_creditor_name": np.full(rows, creditor.name.encode(), dtype="S30"),
            "creditor_classification": np.full(rows, creditor.classification, dtype=np.int64),
        }, present=np.ones(rows, dtype=bool)))
    return appended


# --- PBOC ----------------------------------------------------------------------------------


def pboc_columns(records: Sequence[BureauRecord]) -> tuple[dict[str, np.ndarray],
                                                           dict[str, np.ndarray]]:
    """(account columns, special-transaction columns with `owner`: the account row index)."""
    snaps = [r.snapshot for r in records]
    bands = np.array([s.overdue_principal_bands for s in snaps], dtype=np.int64).reshape(-1, 5)
    accounts = {
        "correction_flag": np.array([int(r.correction) for r in records], dtype=np.int64),
        "account_id": account_numbers([s.loan_ref for s in snaps],
                                      layouts.PBOC_ACCOUNT.field("account_id")),
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
        return metro2_file(metro2_columns(records, reporter), len(records), reporter=reporter,
                           activity=month_end, created=created,
                           appended=metro2_segments(records, reporter))
    accounts, specials = pboc_columns(records)
    return pboc_file(accounts, specials, len(records), reporter=reporter,
                     report_date=month_end, created=created)


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()
