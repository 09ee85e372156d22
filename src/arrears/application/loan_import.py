"""The loans CSV: one row per loan, with its borrower (and one optional emergency contact).

Columns (header row required; optional ones may be absent):
`loan_id, borrower_id, name, national_id, phone, product, currency, principal,
disbursed_on, terms` and optional `phone_time_zone, address, region, time_zone, language,
contact_name, contact_relation, contact_phone`.

Parsing never stops at the first problem: every bad row is reported with its line, field and
reason, and a file with any error imports nothing. A row must have exactly one cell per header
column: an unquoted comma (say, in an address) would otherwise shift or drop values unseen.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as phone_timezones

from arrears.application.loan_file import parse_amount, parse_date, parse_int
from arrears.application.ports import Borrower, ContactPerson, Phone
from arrears.domain.errors import DomainError
from arrears.domain.money import minor_digits
from arrears.domain.product import MAX_TERMS

REQUIRED = ("loan_id", "borrower_id", "name", "national_id", "phone", "product", "currency",
            "principal", "disbursed_on", "terms")
OPTIONAL = ("phone_time_zone", "address", "region", "time_zone", "language", "contact_name",
            "contact_relation", "contact_phone")
LANGUAGES = ("zh-CN", "en")
DEFAULT_REGION = "CN"
# The store's column widths; a longer value is refused here, with its line and field.
MAX_LENGTHS = {"loan_id": 64, "borrower_id": 64, "name": 200, "national_id": 40,
               "address": 400, "region": 40, "product": 40, "contact_name": 200,
               "contact_relation": 40}
T = TypeVar("T")
ONCE_ANSWERS = 65_536


@dataclass(frozen=True, slots=True, kw_only=True)
class RowError:
    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.reason}"


class ImportRejected(DomainError):
    """The file has errors; nothing was imported. `errors` lists every one."""

    def __init__(self, errors: list[RowError]) -> None:
        first = errors[0]
        super().__init__(f"line {first.line}: {first.field}", first.reason)
        self.errors = errors


@dataclass(frozen=True, slots=True, kw_only=True)
class LoanRow:
    line: int
    loan_ref: str
    borrower: Borrower
    product_code: str
    currency: str
    principal: int
    disbursed_on: date
    terms: int


def normalise_phone(text: str, field: str) -> phonenumbers.PhoneNumber:
    """The parsed number, refused unless it is a valid one."""
    try:
        number = phonenumbers.parse(text, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        raise DomainError(field, f"{text!r} is not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise DomainError(field, f"{text!r} is not a valid phone number")
    if number.extension:  # a stored number is E.164, which has no room for one
        raise DomainError(field, f"{text!r} has an extension; give the number alone")
    return number


def e164(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_zones(number: phonenumbers.PhoneNumber) -> tuple[str, ...]:
    """The time zones a valid number's numbering plan covers (none for a plan with no place,
    such as +800 freephone). Asked only when the row gives no zone: it repeats much of the
    validity check."""
    return tuple(z for z in phone_timezones.time_zones_for_number(number)
                 if "/" in z and z != phone_timezones.UNKNOWN_TIMEZONE)


def check_zone(name: str, field: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise DomainError(field, f"{name!r} is not an IANA time zone") from None
    return name


class _Once:
    """Checks whose answer depends only on their arguments, each worked out once per file: a
    large file repeats a few products, amounts, dates and zones on every row, and a borrower's
    phone on each of their loans, and validating a phone number is the dearest check of a row.
    A refusal is remembered as its field and reason and raised afresh for every row that
    repeats the value, so each bad line is still listed. Answers are kept for at most
    `ONCE_ANSWERS` values at a time (then forgotten all at once): a million-row file of
    distinct borrowers would otherwise hold an answer per row that is never asked again."""

    def __init__(self) -> None:
        self._answers: dict[tuple[Any, ...], Any] = {}

    def __call__(self, check: Callable[..., T], *args: str) -> T:
        key = (check, *args)
        try:
            answer = self._answers[key]
        except KeyError:
            try:
                answer = check(*args)
            except DomainError as error:
                answer = _Refusal(type(error), error.field, error.reason)
            if len(self._answers) >= ONCE_ANSWERS:
                self._answers.clear()
            self._answers[key] = answer
        if isinstance(answer, _Refusal):
            raise answer.kind(answer.field, answer.reason)
        return cast(T, answer)


@dataclass(frozen=True, slots=True)
class _Refusal:
    kind: type[DomainError]
    field: str
    reason: str


def _borrower_phone(text: str, given_zone: str) -> Phone:
    """The borrower's phone, its zone given or else the first its numbering plan names."""
    number = normalise_phone(text, "phone")
    zone = given_zone or next(iter(phone_zones(number)), "")
    if not zone:
        raise DomainError("phone_time_zone", "cannot be inferred from the number; give one")
    return Phone(number=e164(number), time_zone=check_zone(zone, "phone_time_zone"))


def _contact_phone(text: str) -> str:
    return e164(normalise_phone(text, "contact_phone"))


def _currency(code: str) -> str:
    minor_digits(code)
    return code


def _terms(text: str) -> int:
    terms = parse_int(text, "terms")
    if not 1 <= terms <= MAX_TERMS:
        raise DomainError("terms", f"must be between 1 and {MAX_TERMS}")
    return terms


def _row(line: int, values: dict[str, str], products: set[str], once: _Once) -> LoanRow:
    for key, value in values.items():
        if "\x00" in value:  # PostgreSQL cannot store it, and no name or id holds one
            raise DomainError(key, "contains a NUL character")
    for key in REQUIRED:
        if not values[key]:
            raise DomainError(key, "is required")
    for key, limit in MAX_LENGTHS.items():
        if len(values[key]) > limit:
            raise DomainError(key, f"must be at most {limit} characters")
    if values["product"] not in products:
        raise DomainError("product", f"unknown product {values['product']!r}")
    currency = once(_currency, values["currency"])
    phone = once(_borrower_phone, values["phone"], values["phone_time_zone"])
    zone = once(check_zone, values["time_zone"] or phone.time_zone, "time_zone")
    language = values["language"] or "zh-CN"
    if language not in LANGUAGES:
        raise DomainError("language", f"must be one of {', '.join(LANGUAGES)}")
    contacts: tuple[ContactPerson, ...] = ()
    if values["contact_name"] or values["contact_phone"]:
        if not (values["contact_name"] and values["contact_phone"]):
            raise DomainError("contact_phone", "a contact needs both a name and a phone")
        contacts = (ContactPerson(name=values["contact_name"],
                                  relation=values["contact_relation"] or "emergency_contact",
                                  phone=once(_contact_phone, values["contact_phone"])),)
    principal = parse_amount(values["principal"], currency, "principal")  # cheaper than a lookup
    terms = once(_terms, values["terms"])
    return LoanRow(
        line=line, loan_ref=values["loan_id"], product_code=values["product"],
        currency=currency, principal=principal,
        disbursed_on=once(parse_date, values["disbursed_on"], "disbursed_on"), terms=terms,
        borrower=Borrower(
            borrower_ref=values["borrower_id"], name=values["name"],
            national_id=values["national_id"], address=values["address"],
            region=values["region"], time_zone=zone, language=language,
            phones=(phone,), contacts=contacts),
    )


def parse_loans_csv(text: str, products: set[str]) -> list[LoanRow]:
    """Every row parsed, or `ImportRejected` with every bad row's line, field and reason."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    try:
        header = [name.strip() for name in next(reader, [])]
        _check_header(header)
        rows: list[LoanRow] = []
        errors: list[RowError] = []
        seen: dict[str, int] = {}
        once = _Once()
        absent = dict.fromkeys(OPTIONAL, "")
        line = reader.line_num + 1  # where the next record starts (a quoted value may span)
        for cells in reader:
            first, line = line, reader.line_num + 1
            if not cells:  # a blank line
                continue
            if len(cells) != len(header):
                errors.append(_cell_count_error(first, len(cells), header))
                continue
            values = absent | dict(zip(header, map(str.strip, cells), strict=True))
            try:
                row = _row(first, values, products, once)
            except DomainError as error:
                errors.append(RowError(line=first, field=error.field, reason=error.reason))
                continue
            if row.loan_ref in seen:
                errors.append(RowError(line=first, field="loan_id",
                                       reason=f"repeats line {seen[row.loan_ref]}"))
                continue
            seen[row.loan_ref] = first
            rows.append(row)
    except csv.Error as error:
        raise ImportRejected([RowError(line=reader.line_num, field="file",
                                       reason=f"is not readable CSV: {error}")]) from None
    if errors:
        raise ImportRejected(errors)
    if not rows:
        raise ImportRejected([RowError(line=1, field="file", reason="has no loan rows")])
    return rows


def _check_header(header: list[str]) -> None:
    errors = [RowError(line=1, field=name, reason="column is missing")
              for name in REQUIRED if name not in header]
    errors += [RowError(line=1, field=name or f"column {position}",
                        reason="is not a known column")
               for position, name in enumerate(header, 1) if name not in REQUIRED + OPTIONAL]
    for position, name in enumerate(header, 1):
        earlier = header.index(name) + 1
        if earlier < position and name:
            errors.append(RowError(line=1, field=name,
                                   reason=f"is named twice (columns {earlier} and {position})"))
    if errors:
        raise ImportRejected(errors)


def _cell_count_error(line: int, cells: int, header: list[str]) -> RowError:
    if cells > len(header):
        return RowError(line=line, field="row", reason=(
            f"has {cells} cells but the header has {len(header)} columns "
            "(quote a value that contains a comma)"))
    return RowError(line=line, field=header[cells], reason=(
        f"is missing: the row has {cells} cells but the header has {len(header)} columns"))


def mask(value: Any) -> str:
    """Personal data for logs: keep the last four characters only."""
    text = str(value)
    return "*" * max(0, len(text) - 4) + text[-4:]
