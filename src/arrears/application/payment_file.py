"""Payment files (对账文件): a bank's or a payment provider's list of money received, one
payment a row, parsed into rows to post and rows refused with their line and column.

Three layouts, each described by data (`FORMATS`), not code:
- `generic`: the lender's own CSV, header `key,loan_id,amount,paid_on` and optionally
  `currency`; `key` is the payment's idempotency key, as `arrears pay --key` takes it.
- `wechat`: the WeChat Pay merchant trade bill (交易账单, `downloadbill`, bill_type ALL or
  SUCCESS): every cell written with a leading backtick, two summary lines at the end
  (总交易单数 …). The loan id travels in the order's attach (商户数据包); the key is the WeChat
  order number (微信订单号); only SUCCESS rows are payments (a REFUND row is refused: reverse
  the payment with `arrears reverse`).
- `alipay`: the Alipay merchant trade detail (业务明细, from `alipay.data.dataservice.bill.
  downloadurl.query`, bill_type trade), GB18030 or UTF-8, with `#` comment lines before and
  after the table. The loan id travels in the order's body (备注); the key is the Alipay trade
  number (支付宝交易号); only 交易 rows are payments (退款 rows are refused).

A provider's key becomes the payment key with the format's prefix (`wechat:` …), so a payment
posted by `arrears pay --key wechat:<微信订单号>` when its callback arrived is recognised when the
day's bill is imported. Amounts are decimal strings in major units (元), read as `Decimal`,
never float; their minor digits are checked against the currency once the loan is known.

One bad row never stops the others: a row either parses or is refused naming its line and the
file's own column (a WeChat row's 交易状态, say). A file the parser cannot read at all (not text
of the format's encodings, no header, a column missing) is refused as a whole (`FileRefused`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from arrears.domain.dates import check_date
from arrears.domain.errors import DomainError
from arrears.domain.money import MAX_MINOR_UNITS, minor_digits, parse_decimal

# The store's widths: payment keys also name ledger entries (`pay:KEY`) and event ids
# (`payment.posted:KEY`), see `handlers.payments.MAX_KEY_LENGTH`.
MAX_KEY_LENGTH = 60
MAX_LOAN_REF_LENGTH = 64
# The fields a format maps to its columns; `currency` and `status` are optional.
FIELDS = ("key", "loan_id", "amount", "paid_on", "currency", "status")
ROW = "row"  # the field a reject names when the row itself is malformed


@dataclass(frozen=True, slots=True, kw_only=True)
class FileFormat:
    """How one provider lays out a payment file."""

    name: str
    encodings: tuple[str, ...]
    # field → the header names it may have, first found wins (providers renamed columns).
    columns: Mapping[str, tuple[str, ...]]
    key_prefix: str = ""
    # A row is a payment only if its `status` cell is one of these (when the format has one).
    paid_statuses: frozenset[str] = frozenset()
    currency: str | None = None  # when the file names none: every amount is in this one
    comment: str | None = None  # lines starting with this are not part of the table
    cell_prefix: str = ""  # written before every cell (WeChat's backtick)
    ends_at: str | None = None  # a first cell that starts the summary after the table


FORMATS: dict[str, FileFormat] = {
    "generic": FileFormat(
        name="generic", encodings=("utf-8-sig",),
        columns={"key": ("key",), "loan_id": ("loan_id",), "amount": ("amount",),
                 "paid_on": ("paid_on",), "currency": ("currency",)}),
    "wechat": FileFormat(
        name="wechat", encodings=("utf-8-sig", "gb18030"), key_prefix="wechat:",
        columns={"key": ("微信订单号",), "loan_id": ("商户数据包",),
                 # 订单金额 in bills since 2017 (the borrower's payment before any coupon
                 # settlement), 总金额 before.
                 "amount": ("订单金额", "总金额"), "paid_on": ("交易时间",),
                 "currency": ("货币种类",), "status": ("交易状态",)},
        paid_statuses=frozenset({"SUCCESS"}), cell_prefix="`", ends_at="总交易单数"),
    "alipay": FileFormat(
        name="alipay", encodings=("utf-8-sig", "gb18030"), key_prefix="alipay:",
        columns={"key": ("支付宝交易号",), "loan_id": ("备注",),
                 "amount": ("订单金额（元）", "订单金额(元)"), "paid_on": ("完成时间",),
                 "status": ("业务类型",)},
        paid_statuses=frozenset({"交易"}), currency="CNY", comment="#"),
}
REQUIRED = ("key", "loan_id", "amount", "paid_on")


class FileRefused(DomainError):
    """The file cannot be read as a payment file of its format at all."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentRow:
    """One payment the file lists: `key` is the payment's idempotency key (with the format's
    prefix), `amount` in major units, `currency` as the file names it (or None)."""

    line: int
    key: str
    loan_ref: str
    amount: Decimal
    on: date
    currency: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class RowReject:
    """A row refused: its line, the file's column at fault, and why."""

    line: int
    field: str
    reason: str
    key: str = ""
    loan_ref: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentFile:
    format: FileFormat
    columns: dict[str, str]  # field → the header name this file uses for it
    rows: list[PaymentRow]
    rejects: list[RowReject]
    data_lines: int  # rows the table holds (posted or not)

    def column(self, name: str) -> str:
        """The file's column for a field (`amount` → 订单金额); `row` for the row itself."""
        return self.columns.get(name, ROW)


def decode(content: bytes, layout: FileFormat, name: str) -> str:
    """The file's text in the first of the format's encodings that reads it."""
    for encoding in layout.encodings:
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    names = " or ".join(e.removesuffix("-sig").upper() for e in layout.encodings)
    raise FileRefused(name, f"is not {names} text (a {layout.name} payment file)")


def parse(text: str, layout: FileFormat, name: str = "FILE.csv") -> PaymentFile:
    """Every row of the table: parsed, or refused naming its line and column."""
    text = text.removeprefix("\ufeff")
    if "\x00" in text:
        raise FileRefused(name, "contains a NUL character; it is not a text file")
    records = _records(text, layout, name)
    header_line, header = next(records, (0, []))
    if not header:
        raise FileRefused(name, "has no header row")
    header = [_cell(value, layout) for value in header]
    columns: dict[str, str] = {}
    positions: dict[str, int] = {}
    for wanted, names in layout.columns.items():
        found = next((n for n in names if n in header), None)
        if found is not None:
            columns[wanted] = found
            positions[wanted] = header.index(found)
        elif wanted in REQUIRED or wanted == "status":
            raise FileRefused(name, f"has no column {' or '.join(names)} (line {header_line}: "
                                    f"a {layout.name} payment file needs "
                                    f"{', '.join(layout.columns[f][0] for f in REQUIRED)})")
    rows: list[PaymentRow] = []
    rejects: list[RowReject] = []
    count = 0
    days: dict[str, date] = {}  # a file's rows share a few dates: each read once
    for line, cells in records:
        if not any(_cell(cell, layout) for cell in cells):
            continue
        if layout.ends_at is not None and _cell(cells[0], layout) == layout.ends_at:
            break
        count += 1
        parsed = _row(line, cells, len(header), positions, columns, layout, days)
        if isinstance(parsed, PaymentRow):
            rows.append(parsed)
        else:
            rejects.append(parsed)
    return PaymentFile(format=layout, columns=columns, rows=rows, rejects=rejects,
                       data_lines=count)


def _records(text: str, layout: FileFormat, name: str) -> Iterator[tuple[int, list[str]]]:
    """(first line, cells) of each CSV record, comment lines left out."""
    # Universal newlines: a bare CR ends a line, as an editor shows it. Strict: a quote left
    # open would swallow every row after it into one cell unseen.
    reader = csv.reader(io.StringIO(text, newline=None), strict=True)
    start = 1
    try:
        for cells in reader:
            if cells and not (layout.comment and cells[0].startswith(layout.comment)):
                yield start, cells
            start = reader.line_num + 1
    except csv.Error as error:
        raise FileRefused(name, f"line {start}: {error}") from None


def _cell(value: str, layout: FileFormat) -> str:
    value = value.strip()
    if layout.cell_prefix:
        value = value.removeprefix(layout.cell_prefix).strip()
    return value


def _row(line: int, cells: list[str], width: int, positions: dict[str, int],
         columns: dict[str, str], layout: FileFormat, days: dict[str, date]
         ) -> PaymentRow | RowReject:
    values = {wanted: _cell(cells[at], layout) if at < len(cells) else ""
              for wanted, at in positions.items()}
    key = layout.key_prefix + values["key"] if values["key"] else ""
    loan_ref = values["loan_id"]

    def refused(wanted: str, reason: str) -> RowReject:
        return RowReject(line=line, field=columns.get(wanted, ROW), reason=reason, key=key,
                         loan_ref=loan_ref)

    if len(cells) != width:
        return refused(ROW, f"has {len(cells)} cells; the header has {width}")
    for wanted, value in values.items():
        if "\x00" in value:
            return refused(wanted, "contains a NUL character")
    if "status" in values and values["status"] not in layout.paid_statuses:
        return refused("status", f"{values['status']!r} is not a payment (only "
                                 f"{', '.join(sorted(layout.paid_statuses))} rows are posted; "
                                 "a refund is reversed with `arrears reverse`)")
    if not values["key"]:
        return refused("key", "is required")
    if len(key) > MAX_KEY_LENGTH:
        return refused("key", f"must be at most {MAX_KEY_LENGTH - len(layout.key_prefix)} "
                              "characters")
    if not loan_ref:
        return refused("loan_id", "is required (the loan id)")
    if len(loan_ref) > MAX_LOAN_REF_LENGTH:
        return refused("loan_id", f"must be at most {MAX_LOAN_REF_LENGTH} characters")
    currency = values.get("currency") or layout.currency
    try:
        if currency is not None:
            minor_digits(currency)
    except DomainError as error:
        return refused("currency", error.reason)
    try:
        amount = parse_amount(values["amount"], currency)
    except DomainError as error:
        return refused("amount", error.reason)
    try:
        on = days.get(values["paid_on"])
        if on is None:
            on = days[values["paid_on"]] = parse_day(values["paid_on"])
    except DomainError as error:
        return refused("paid_on", error.reason)
    return PaymentRow(line=line, key=key, loan_ref=loan_ref, amount=amount, on=on,
                      currency=values.get("currency") or layout.currency)


def parse_amount(text: str, currency: str | None) -> Decimal:
    """A positive amount in major units; its minor digits checked when the currency is known
    (else by `minor_units` once the loan's is)."""
    if not text:
        raise DomainError("amount", "is required")
    value = parse_decimal(text, "amount")
    if value <= 0:
        raise DomainError("amount", f"must be positive (got {text})")
    if value.adjusted() > 20:  # far above MAX_MINOR_UNITS in any currency: refuse before scaling
        raise DomainError("amount", f"{text} is above the largest amount accepted")
    if currency is not None:
        minor_units(value, currency)
    return value


def minor_units(amount: Decimal, currency: str) -> int:
    """`amount` (major units) in `currency`'s minor units, exactly."""
    digits = minor_digits(currency)
    scaled = amount.scaleb(digits)
    if scaled != scaled.to_integral_value():
        raise DomainError("amount", f"{amount} has more than {digits} decimal places "
                                    f"for {currency}")
    units = int(scaled)
    if units > MAX_MINOR_UNITS:
        raise DomainError("amount", f"{amount} is above the largest amount accepted")
    return units


def parse_day(text: str) -> date:
    """The date of `YYYY-MM-DD` or `YYYY-MM-DD HH:MM:SS` (a provider's local time of payment:
    the value date is its calendar date)."""
    if not text:
        raise DomainError("paid_on", "is required")
    day_text, _, time_text = text.partition(" ")
    if time_text and not _is_time(time_text.strip()):
        raise DomainError("paid_on", f"{text!r} is not a date (YYYY-MM-DD[ HH:MM:SS])")
    try:
        if len(day_text) != 10:
            raise ValueError(day_text)
        day = date.fromisoformat(day_text)
    except ValueError:
        raise DomainError("paid_on", f"{text!r} is not a date (YYYY-MM-DD[ HH:MM:SS])") from None
    return check_date(day, "paid_on")


def _is_time(text: str) -> bool:
    parts = text.split(":")
    return (len(parts) in (2, 3) and all(len(p) == 2 and p.isascii() and p.isdigit()
                                          for p in parts)
            and int(parts[0]) < 24 and all(int(p) < 60 for p in parts[1:]))
