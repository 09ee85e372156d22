"""Money: a Decimal amount in an ISO 4217 currency, and exact splitting.

Amounts inside the domain are `Decimal`; storage and batch kernels use integer minor units.
Rounding happens in one named place, `Money.rounded`, half-up by default (DESIGN §2).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from arrears.domain.errors import DomainError

ZERO = Decimal(0)

# ISO 4217 minor-unit exponents for the currencies a lender may book. Kept as data here so the
# domain stays free of I/O; adding a currency is one line.
MINOR_DIGITS: dict[str, int] = {
    "CNY": 2, "USD": 2, "HKD": 2, "EUR": 2, "GBP": 2, "SGD": 2, "MXN": 2, "INR": 2,
    "PHP": 2, "IDR": 2, "BRL": 2, "JPY": 0, "KRW": 0, "VND": 0,
}

# Accrued amounts keep this many extra digits below the minor unit (1/10,000 of a cent).
SUB_MINOR_DIGITS = 4

# The largest amount accepted from outside, in minor units (10^11 yuan or dollars): far above
# any consumer loan or payment, and small enough that the EOD kernel's int64 products of
# amount × rate × days cannot overflow.
MAX_MINOR_UNITS = 10**13

# What an amount or rate may look like: ASCII digits, one optional point and exponent. Python's
# Decimal also takes full-width digits, "1_000", "NaN" and surrounding spaces; a file or an
# operator writing those has made a mistake the system must not guess at.
_DECIMAL_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,4})?")


def minor_digits(currency: str) -> int:
    """The number of decimal digits of `currency`'s minor unit."""
    try:
        return MINOR_DIGITS[currency]
    except KeyError:
        raise DomainError(
            "currency", f"unknown or unsupported ISO 4217 code {currency!r}"
        ) from None


def parse_decimal(text: str | int | Decimal, field: str) -> Decimal:
    """A finite Decimal from text; floats are refused because they are already inexact."""
    if isinstance(text, bool) or isinstance(text, float):
        raise DomainError(field, f"must be a decimal string, not {type(text).__name__}")
    if isinstance(text, str) and not _DECIMAL_TEXT.fullmatch(text):
        raise DomainError(field, f"{text!r} is not a decimal number")
    try:
        value = Decimal(text)
    except (InvalidOperation, TypeError, ValueError):
        raise DomainError(field, f"{text!r} is not a decimal number") from None
    if not value.is_finite():
        raise DomainError(field, f"{text!r} is not a finite number")
    return value


@dataclass(frozen=True, slots=True)
class Money:
    """An amount of one currency. Arithmetic between currencies is refused."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise TypeError(f"Money needs a Decimal, got {type(self.amount).__name__}")
        minor_digits(self.currency)

    @classmethod
    def of(cls, amount: str | int | Decimal, currency: str, field: str = "amount") -> Money:
        return cls(parse_decimal(amount, field), currency)

    @classmethod
    def from_minor(cls, units: int, currency: str) -> Money:
        """From integer minor units (cents, 分)."""
        return cls(Decimal(units).scaleb(-minor_digits(currency)), currency)

    @classmethod
    def from_sub_minor(cls, units: int, currency: str) -> Money:
        """From integer 1/10,000 minor units, the precision accrued amounts keep."""
        return cls(Decimal(units).scaleb(-minor_digits(currency) - SUB_MINOR_DIGITS), currency)

    @property
    def quantum(self) -> Decimal:
        return Decimal(1).scaleb(-minor_digits(self.currency))

    def rounded(self, rounding: str = ROUND_HALF_UP) -> Money:
        """Rounded to the minor unit, half-up unless a product names another rounding."""
        return Money(self.amount.quantize(self.quantum, rounding=rounding), self.currency)

    def minor_units(self) -> int:
        """Exact integer minor units; refuses an amount with sub-minor digits."""
        if not self.is_whole_minor():
            raise DomainError("amount", f"{self.amount} has more than the currency's minor digits")
        return int(self.amount.scaleb(minor_digits(self.currency)))

    def is_whole_minor(self) -> bool:
        scaled = self.amount.scaleb(minor_digits(self.currency))
        return scaled == scaled.to_integral_value()

    def _same(self, other: Money) -> None:
        if self.currency != other.currency:
            raise DomainError("currency", f"cannot combine {self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.amount >= other.amount

    def format(self) -> str:
        """The JSON/CSV form: a decimal string with exactly the currency's minor digits."""
        return str(self.rounded().amount)

    def __str__(self) -> str:
        return f"{self.format()} {self.currency}"


def allocate(total: Money, weights: Sequence[Decimal]) -> tuple[Money, ...]:
    """Split `total` by `weights` into minor-unit parts that add back to `total` exactly.

    Largest-remainder method; ties go to the earlier part, so 100.00 by (1, 1, 1) gives
    33.34, 33.33, 33.33. Weights must be non-negative Decimals with a positive sum.
    """
    if not weights:
        raise DomainError("weights", "at least one weight is needed")
    for weight in weights:
        if not isinstance(weight, Decimal):
            raise TypeError(f"weights must be Decimal, got {type(weight).__name__}")
        if weight < 0:
            raise DomainError("weights", "weights must not be negative")
    weight_sum = sum(weights, ZERO)
    if weight_sum == 0:
        raise DomainError("weights", "weights must not all be zero")
    units = total.minor_units()
    sign = -1 if units < 0 else 1
    magnitude = abs(units)
    exact = [Decimal(magnitude) * w / weight_sum for w in weights]
    floors = [int(share) for share in exact]
    leftover = magnitude - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:leftover]:
        floors[i] += 1
    return tuple(Money.from_minor(sign * part, total.currency) for part in floors)
