"""Parse a bureau file and refuse impossible records, each problem naming the record (1-based
line), the field and its first position.

Metro 2 (M2-1 … M2-8): record lengths, header first and trailer last; status 11 with an
amount past due (M2-7); a delinquent status without a date of first delinquency (M2-6); the
payment rating against the status (M2-4); profile values and embedded B (M2-5); a profile
whose latest month cannot precede the status — no history before a delinquent account, a
charge-off followed by anything but 97/64, or a jump of more than two bands (DPD grows at
most 31 days a month); a charge-off without its amount (M2-7); trailer counts that do not
match the records or do not add up; a record descriptor word that is not the record's length
(every record of a file has the length the header declares, header and trailer blank-padded
to it), segments out of M2-1 order or cut short, J1/J2/K1 segments without their name or with
an ECOA code M2-9 does not list, and trailer segment counts that do not match the segments
that carry data. PBOC (our layout, CN-25): lengths, record order, the 24-month string's values
and its latest month against the account status, overdue terms against the overdue amount,
special-transaction counts and the trailer's counts.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from arrears.domain.bureau import codes, layouts
from arrears.domain.bureau.layouts import Layout


@dataclass(frozen=True, slots=True)
class Problem:
    record: int  # 1-based line number
    field: str
    position: int  # 1-based byte position of the field
    message: str

    def __str__(self) -> str:
        return f"record {self.record}: {self.field} (position {self.position}): {self.message}"


class _Record:
    """A record, or a segment of one starting `offset` bytes into its line: problems name the
    segment's fields `J1.surname` … and give positions in the line."""

    def __init__(self, number: int, text: str, layout: Layout, problems: list[Problem],
                 offset: int = 0) -> None:
        self.number, self.layout, self.problems, self.offset = number, layout, problems, offset
        self.text = text[offset:offset + layout.length]
        self.prefix = f"{layout.name.rsplit('.', 1)[1].upper()}." if offset else ""

    def raw(self, name: str) -> str:
        field = self.layout.field(name)
        return self.text[field.start - 1:field.end]

    def number_of(self, name: str) -> int:
        value = self.raw(name)
        if not value.isdigit():
            self.problem(name, f"{value!r} is not a number")
            return 0
        return int(value)

    def problem(self, name: str, message: str) -> None:
        self.problems.append(Problem(self.number, self.prefix + name,
                                     self.offset + self.layout.field(name).start, message))

    def check_numbers(self) -> None:
        for field in self.layout.fields:
            if field.kind == "N":
                self.number_of(field.name)
            elif field.kind == "D":
                self.date_of(field.name)

    def date_of(self, name: str) -> date | None:
        value = self.raw(name)
        if value.strip("0") == "":
            return None
        if not value.isdigit():
            self.problem(name, f"{value!r} is not a date")
            return None
        metro2 = self.layout.name.startswith("metro2")
        month, day, year = ((int(value[:2]), int(value[2:4]), int(value[4:])) if metro2 else
                            (int(value[4:6]), int(value[6:]), int(value[:4])))
        try:
            return date(year, month, day)
        except ValueError:
            self.problem(name, f"{value!r} is not a date")
            return None


def _lines(content: bytes, length: int, problems: list[Problem]) -> list[tuple[int, str]]:
    lines = content.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    good = []
    for number, line in enumerate(lines, start=1):
        if len(line) != length:
            problems.append(Problem(number, "record", min(len(line), length) + 1,
                                    f"is {len(line)} bytes, expected {length}"))
            continue
        try:
            good.append((number, line.decode("ascii")))
        except UnicodeDecodeError as error:
            problems.append(Problem(number, "record", error.start + 1, "is not ASCII"))
    return good


def validate_metro2(content: bytes) -> list[Problem]:
    problems: list[Problem] = []
    length = _record_length(content)
    lines = _lines(content, length, problems)
    if not lines:
        return problems or [Problem(1, "record", 1, "the file has no records")]
    kinds = [_metro2_kind(text) for _, text in lines]
    if kinds[0] != "header":
        problems.append(Problem(lines[0][0], "record_identifier", 5, "the first record must "
                                "be the HEADER"))
    if kinds[-1] != "trailer":
        problems.append(Problem(lines[-1][0], "record_identifier", 5, "the last record must "
                                "be the TRAILER"))
    statuses: Counter[str] = Counter()
    segments: Counter[str] = Counter()
    base_count = 0
    for (number, text), kind in zip(lines, kinds, strict=True):
        if kind == "header":
            record = _Record(number, text, layouts.METRO2_HEADER, problems)
            record.check_numbers()
            _check_padding(record, text)
            if number != lines[0][0]:
                problems.append(Problem(number, "record_identifier", 5, "a HEADER inside"))
        elif kind == "trailer":
            if number != lines[-1][0]:
                problems.append(Problem(number, "record_identifier", 5, "a TRAILER inside"))
                continue
            record = _Record(number, text, layouts.METRO2_TRAILER, problems)
            _check_padding(record, text)
            _check_trailer(record, base_count, statuses, segments)
        else:
            record = _Record(number, text, layouts.METRO2_BASE, problems)
            base_count += 1
            statuses[record.raw("account_status")] += 1
            _check_base(record)
            _check_word(record, len(text))
            segments.update(_check_segments(number, text, problems))
    return problems


def _metro2_kind(text: str) -> str:
    if text[4:10] == "HEADER":
        return "header"
    if text[4:11] == "TRAILER":
        return "trailer"
    return "base"


def _record_length(content: bytes) -> int:
    """The length the header's record descriptor word declares (every record of a file of
    fixed-length records has it, M2-1), or 426 when the header declares none."""
    word = content[:4]
    if word.isdigit() and int(word) >= layouts.METRO2_LENGTH:
        return int(word)
    return layouts.METRO2_LENGTH


def _check_word(record: _Record, length: int) -> None:
    """The record descriptor word is the record's length, segments included."""
    word = record.raw("record_descriptor_word")
    if word != f"{length:04d}":
        record.problem("record_descriptor_word", f"says {word!r}, the record is {length} bytes")


def _check_padding(record: _Record, text: str) -> None:
    """Header and trailer are blank-padded to the data records' length."""
    _check_word(record, len(text))
    tail = text[layouts.METRO2_LENGTH:]
    if tail.strip(" "):
        record.problems.append(Problem(
            record.number, "padding", layouts.METRO2_LENGTH + 1 + len(tail) - len(
                tail.lstrip(" ")), "must be blank after position 426"))


SEGMENT_ORDER = list(layouts.SEGMENT_LENGTHS)
SEGMENT_LAYOUTS = {layout.name.rsplit(".", 1)[1].upper(): layout
                   for layout in layouts.METRO2_SEGMENTS}


def _check_segments(number: int, text: str, problems: list[Problem]) -> Counter[str]:
    """The segments after the base segment, in M2-1 order, each its own length; J1, J2 and K1
    are checked field by field. Returns how many of each carry data (blank slots do not
    count, M2 `file-structure.md`)."""
    found: Counter[str] = Counter()
    offset, last = layouts.METRO2_LENGTH, 0
    while offset < len(text):
        identifier = text[offset:offset + 2]
        size = layouts.SEGMENT_LENGTHS.get(identifier)
        if size is None or offset + size > len(text):
            problems.append(Problem(number, "segment_identifier", offset + 1,
                                    f"{identifier!r} does not begin a segment that fits "
                                    f"(expected one of {', '.join(SEGMENT_ORDER)}, M2-1)"))
            break
        order = SEGMENT_ORDER.index(identifier)
        if order < last:
            problems.append(Problem(number, "segment_identifier", offset + 1,
                                    f"{identifier} after {SEGMENT_ORDER[last]} (M2-1 order)"))
        last = order
        if text[offset + 2:offset + size].strip(" "):
            found[identifier] += 1
            layout = SEGMENT_LAYOUTS.get(identifier)
            if layout is not None:
                _check_segment(_Record(number, text, layout, problems, offset))
        offset += size
    return found


def _check_segment(segment: _Record) -> None:
    segment.check_numbers()
    if segment.layout is layouts.METRO2_K1:
        if not segment.raw("original_creditor_name").strip():
            segment.problem("original_creditor_name", "is blank (K1, M2-1)")
        return
    if not segment.raw("surname").strip():
        segment.problem("surname", "is blank")
    ecoa = segment.raw("ecoa_code")
    if ecoa not in codes.ECOA_CODES:
        segment.problem("ecoa_code", f"{ecoa!r} is not an ECOA code (M2-9)")
    if segment.layout is layouts.METRO2_J2 and not segment.raw(
            "first_line_of_address").strip():
        segment.problem("first_line_of_address", "is blank: J2 is for an address of their own")


def _check_base(record: _Record) -> None:
    record.check_numbers()
    status = record.raw("account_status")
    if status not in codes.METRO2_STATUSES:
        record.problem("account_status", f"{status!r} is not an account status (M2-3)")
        return
    if status == "11" and record.number_of("amount_past_due") > 0:
        record.problem("amount_past_due", "status 11 (current) with an amount past due (M2-7)")
    if record.raw("ecoa_code") not in codes.ECOA_CODES:
        record.problem("ecoa_code", f"{record.raw('ecoa_code')!r} is not an ECOA code (M2-9)")
    rating = record.raw("payment_rating")
    if codes.carries_dofd(status, rating) and record.date_of("date_of_first_delinquency") is None:
        record.problem("date_of_first_delinquency",
                       f"status {status} (rating {rating.strip() or 'blank'}) needs a date of "
                       f"first delinquency (M2-6)")
    if status in (codes.CHARGED_OFF, codes.PAID_CHARGED_OFF) and (
            record.number_of("original_charge_off_amount") == 0):
        record.problem("original_charge_off_amount",
                       f"status {status} needs the original charge-off amount (M2-7)")
    if status in codes.RATED_STATUSES and rating == " ":
        record.problem("payment_rating", f"status {status} needs a payment rating (M2-4)")
    elif status in codes.RATED_STATUSES and rating not in codes.RATINGS:
        record.problem("payment_rating", f"{rating!r} is not a payment rating (M2-4)")
    elif status not in codes.RATED_STATUSES and rating != " ":
        record.problem("payment_rating", f"must be blank with status {status} (M2-4)")
    profile = record.raw("payment_history_profile")
    bad = [ch for ch in profile if ch not in codes.PROFILE_CODES]
    if bad:
        record.problem("payment_history_profile", f"{bad[0]!r} is not a profile code (M2-5)")
        return
    if "B" in profile.rstrip("B"):
        record.problem("payment_history_profile", "B may only fill the end (M2-5)")
    _check_latest_month(record, status, profile[0])


def _check_latest_month(record: _Record, status: str, latest: str) -> None:
    """The profile's latest month (the month before) must be able to lead to the status."""
    dpd_statuses = {code for _, code, _ in codes.METRO2_DPD_BANDS}
    if latest == codes.NO_HISTORY and status in codes.DELINQUENT_STATUSES:
        record.problem("payment_history_profile",
                       f"no earlier month, yet status {status} is delinquent (M2-5)")
    elif latest == codes.CHARGE_OFF_CODE and status not in (
            codes.CHARGED_OFF, codes.PAID_CHARGED_OFF, "DA", "DF"):
        record.problem("payment_history_profile",
                       f"the month before was charged off (L), status {status} cannot follow")
    elif latest in codes.PROFILE_RANK and status in dpd_statuses:
        rank = [code for _, code, _ in codes.METRO2_DPD_BANDS].index(status)
        if rank > codes.PROFILE_RANK[latest] + 2:
            record.problem("payment_history_profile",
                           f"status {status} cannot follow {latest!r} one month before")


def _check_trailer(record: _Record, base_count: int, statuses: Counter[str],
                   segments: Counter[str]) -> None:
    record.check_numbers()
    for name, identifier in (("total_j1_segments", "J1"), ("total_j2_segments", "J2"),
                             ("total_original_creditor_segments", "K1")):
        if record.number_of(name) != segments[identifier]:
            record.problem(name, f"says {record.number_of(name)}, the file has "
                                 f"{segments[identifier]} {identifier} segments")
    total = record.number_of("total_base_records")
    if total != base_count:
        record.problem("total_base_records", f"says {total}, the file has {base_count}")
    names = ["total_status_DF"] + [f"total_status_{c}" for c in layouts.TRAILER_STATUS_COUNTS]
    counted = 0
    for name in names:
        value = record.number_of(name)
        counted += value
        code = name.rsplit("_", 1)[1]
        if value != statuses.get(code, 0):
            record.problem(name, f"says {value}, the file has {statuses.get(code, 0)}")
    if counted != total:
        record.problem("total_base_records", f"the status counts add up to {counted}, "
                                             f"not {total}")


def validate_pboc(content: bytes) -> list[Problem]:
    problems: list[Problem] = []
    lines = _lines(content, layouts.PBOC_LENGTH, problems)
    if not lines:
        return problems or [Problem(1, "record", 1, "the file has no records")]
    by_type = {"H": layouts.PBOC_HEADER, "A": layouts.PBOC_ACCOUNT,
               "S": layouts.PBOC_SPECIAL, "T": layouts.PBOC_TRAILER}
    if lines[0][1][0] != "H":
        problems.append(Problem(lines[0][0], "record_type", 1, "the first record must be H"))
    if lines[-1][1][0] != "T":
        problems.append(Problem(lines[-1][0], "record_type", 1, "the last record must be T"))
    statuses: Counter[str] = Counter()
    accounts = specials = 0
    pending: _Record | None = None  # the account whose special records are being counted
    expected = seen = 0
    for number, text in lines:
        if text[0] == "H" and number != lines[0][0]:
            problems.append(Problem(number, "record_type", 1, "a header inside the file"))
        if text[0] == "T" and number != lines[-1][0]:
            problems.append(Problem(number, "record_type", 1, "a trailer inside the file"))
        layout = by_type.get(text[0])
        if layout is None:
            problems.append(Problem(number, "record_type", 1, f"{text[0]!r} is not H, A, S, T"))
            continue
        record = _Record(number, text, layout, problems)
        record.check_numbers()
        if text[0] != "S" and pending is not None and seen != expected:
            pending.problem("special_records", f"says {expected}, {seen} follow")
        if text[0] == "A":
            accounts += 1
            statuses[record.raw("account_status")] += 1
            _check_account(record)
            pending, expected, seen = record, record.number_of("special_records"), 0
        elif text[0] == "S":
            specials += 1
            seen += 1
            if pending is None or record.raw("account_id") != pending.raw("account_id"):
                record.problem("account_id", "does not follow its account record")
        elif text[0] == "T":
            pending = None
            _check_pboc_trailer(record, accounts, specials, statuses)
        else:
            pending = None
    return problems


def _check_account(record: _Record) -> None:
    history = record.raw("repayment_status_24m")
    bad = [ch for ch in history if ch not in codes.PBOC_CODES]
    if bad:
        record.problem("repayment_status_24m", f"{bad[0]!r} is not a repayment status (CN-25)")
        return
    if codes.PBOC_NOT_OPEN in history.lstrip(codes.PBOC_NOT_OPEN):
        record.problem("repayment_status_24m", "'/' (not opened) after the account opened")
    status, latest = record.raw("account_status"), history[-1]
    allowed = {
        codes.AccountStatus.NORMAL.value: "N*",
        codes.AccountStatus.OVERDUE.value: "1234567",
        codes.AccountStatus.SETTLED.value: "CG",
        codes.AccountStatus.BAD_DEBT.value: "1234567",
    }.get(status)
    if allowed is None:
        record.problem("account_status", f"{status!r} is not an account status")
    elif latest not in allowed:
        record.problem("repayment_status_24m",
                       f"the latest month {latest!r} disagrees with account status {status}")
    terms, amount = record.number_of("overdue_terms"), record.number_of("overdue_amount")
    if (terms == 0) != (amount == 0):
        record.problem("overdue_terms", f"{terms} overdue terms with overdue amount {amount}")


def _check_pboc_trailer(record: _Record, accounts: int, specials: int,
                        statuses: Counter[str]) -> None:
    total = record.number_of("account_records")
    if total != accounts:
        record.problem("account_records", f"says {total}, the file has {accounts}")
    if record.number_of("special_records") != specials:
        record.problem("special_records", f"the file has {specials}")
    counted = 0
    for code in layouts.PBOC_STATUS_COUNTS:
        name = f"total_status_{code}"
        value = record.number_of(name)
        counted += value
        if value != statuses.get(code, 0):
            record.problem(name, f"says {value}, the file has {statuses.get(code, 0)}")
    if counted != total:
        record.problem("account_records", f"the status counts add up to {counted}, "
                                          f"not {total}")


def not_a_file(content: bytes, kind: str) -> str | None:
    """Why `content` is not a `kind` file at all, so that checking it record by record would
    say nothing useful (binary, not UTF-8 text, no line of the record length); None when it
    can be validated."""
    length = _record_length(content) if kind == "metro2" else layouts.PBOC_LENGTH
    nul = content.find(b"\x00")
    if nul >= 0:
        return f"is binary, not a {kind} file (a NUL byte at {nul + 1})"
    try:
        content.decode("utf-8")
    except UnicodeDecodeError as error:
        return f"is not UTF-8 text (byte {error.start + 1}), not a {kind} file"
    if content and not any(len(line) == length for line in content.split(b"\n")):
        return f"has no line of {length} bytes, the length of a {kind} record: not a {kind} file"
    return None


def validate(content: bytes, kind: str) -> list[Problem]:
    """Problems of a `metro2` or `pboc` file; an empty list when it is clean."""
    return validate_metro2(content) if kind == "metro2" else validate_pboc(content)
