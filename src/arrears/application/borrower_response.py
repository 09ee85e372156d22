"""The borrower-response model of the strategy simulator, as data: a TOML file (the shipped
one is `borrower_response.toml`, which explains each figure) validated at load with errors
that name the field (`model.channel.call.right_party.M2: …`)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from arrears.domain.delinquency import BUCKETS
from arrears.domain.errors import DomainError
from arrears.domain.money import Money, parse_decimal

OVERDUE_BUCKETS: tuple[str, ...] = tuple(b.value for b in BUCKETS[1:])
CHANNELS = ("sms", "app_push", "email", "call", "letter", "legal_review", "field_visit")
CURRENCY = "CNY"
TOP_FIELDS = {"complaint_fatigue", "book", "self_cure", "promise", "agency", "channel"}


class ModelError(DomainError):
    """A response model is not valid; `field` is the path in the file."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelResponse:
    cost: int
    """Minor units per contact."""
    right_party: dict[str, float]
    promise: dict[str, float]
    complaint: float


@dataclass(frozen=True, slots=True, kw_only=True)
class BookShape:
    dpd_weights: dict[str, int]
    balance_min: int
    balance_max: int
    installment_share: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class ResponseModel:
    book: BookShape
    self_cure: dict[str, float]
    kept: dict[str, float]
    pay_within_days: int
    agency_fixed_fee: int
    agency_commission_rate: Decimal
    agency_daily_call: float
    complaint_fatigue: float
    channels: dict[str, ChannelResponse]


def _table(value: Any, field: str, allowed: set[str] | None = None) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ModelError(field, "must be a table")
    if allowed is not None:
        for key in value:
            if key not in allowed:
                raise ModelError(f"{field}.{key}", "unknown field")
    return value


def _chance(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ModelError(field, f"must be a chance from 0 to 1 (got {value!r})")
    return float(value)


def _by_bucket(value: Any, field: str) -> dict[str, float]:
    table = _table(value, field, set(OVERDUE_BUCKETS))
    for bucket in OVERDUE_BUCKETS:
        if bucket not in table:
            raise ModelError(f"{field}.{bucket}", "missing (give every bucket M1 … M7+)")
    return {bucket: _chance(table[bucket], f"{field}.{bucket}") for bucket in OVERDUE_BUCKETS}


def _amount(value: Any, field: str) -> int:
    if not isinstance(value, str):
        raise ModelError(field, f"must be a decimal string such as \"1.50\" (got {value!r})")
    money = Money.of(value, CURRENCY, field)
    if money.amount < 0 or not money.is_whole_minor():
        raise ModelError(field, "must be a non-negative amount in whole fen")
    return money.minor_units()


def _whole(value: Any, field: str, minimum: int, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise ModelError(field, f"must be a whole number from {minimum} to {maximum} "
                                f"(got {value!r})")
    return value


def _fraction(value: Any, field: str) -> Decimal:
    if not isinstance(value, str):
        raise ModelError(field, f"must be a decimal string such as \"0.12\" (got {value!r})")
    number = parse_decimal(value, field)
    if not 0 <= number <= 1:
        raise ModelError(field, f"must be from 0 to 1 (got {number})")
    return number


def _channel(value: Any, field: str) -> ChannelResponse:
    table = _table(value, field, {"cost", "right_party", "promise", "complaint"})
    for key in ("cost", "right_party", "promise", "complaint"):
        if key not in table:
            raise ModelError(f"{field}.{key}", "missing")
    return ChannelResponse(cost=_amount(table["cost"], f"{field}.cost"),
                           right_party=_by_bucket(table["right_party"], f"{field}.right_party"),
                           promise=_by_bucket(table["promise"], f"{field}.promise"),
                           complaint=_chance(table["complaint"], f"{field}.complaint"))


def _book(value: Any, field: str) -> BookShape:
    table = _table(value, field, {"dpd_weights", "balance_min", "balance_max",
                                  "installment_share"})
    # Loans are written off at 180 days past due, so the book starts in M1 … M6.
    weights_table = _table(table.get("dpd_weights"), f"{field}.dpd_weights",
                           set(OVERDUE_BUCKETS[:-1]))
    weights = {bucket: _whole(weight, f"{field}.dpd_weights.{bucket}", 0, 1_000_000)
               for bucket, weight in weights_table.items()}
    if not any(weights.values()):
        raise ModelError(f"{field}.dpd_weights", "needs a positive weight")
    low = _amount(table.get("balance_min"), f"{field}.balance_min")
    high = _amount(table.get("balance_max"), f"{field}.balance_max")
    if not 0 < low <= high:
        raise ModelError(f"{field}.balance_max", "must be at least balance_min, which must be "
                                                 "positive")
    share = _fraction(table.get("installment_share"), f"{field}.installment_share")
    if share == 0:
        raise ModelError(f"{field}.installment_share", "must be positive")
    return BookShape(dpd_weights=weights, balance_min=low, balance_max=high,
                     installment_share=share)


def parse_model(document: Any) -> ResponseModel:
    field = "model"
    table = _table(document, field, TOP_FIELDS)
    for key in TOP_FIELDS:
        if key not in table:
            raise ModelError(f"{field}.{key}", "missing")
    promise = _table(table["promise"], f"{field}.promise", {"kept", "pay_within_days"})
    agency = _table(table["agency"], f"{field}.agency",
                    {"fixed_fee", "commission_rate", "daily_call"})
    channels = _table(table["channel"], f"{field}.channel", set(CHANNELS))
    for name in CHANNELS:
        if name not in channels:
            raise ModelError(f"{field}.channel.{name}", "missing")
    return ResponseModel(
        book=_book(table["book"], f"{field}.book"),
        self_cure=_by_bucket(table["self_cure"], f"{field}.self_cure"),
        kept=_by_bucket(promise.get("kept"), f"{field}.promise.kept"),
        pay_within_days=_whole(promise.get("pay_within_days"),
                               f"{field}.promise.pay_within_days", 1, 60),
        agency_fixed_fee=_amount(agency.get("fixed_fee"), f"{field}.agency.fixed_fee"),
        agency_commission_rate=_fraction(agency.get("commission_rate"),
                                         f"{field}.agency.commission_rate"),
        agency_daily_call=_chance(agency.get("daily_call"), f"{field}.agency.daily_call"),
        complaint_fatigue=_multiplier(table["complaint_fatigue"],
                                           f"{field}.complaint_fatigue"),
        channels={name: _channel(channels[name], f"{field}.channel.{name}")
                  for name in CHANNELS},
    )


def _multiplier(value: Any, field: str) -> float:
    """A non-negative multiplier of at most 10."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 10:
        raise ModelError(field, f"must be a number from 0 to 10 (got {value!r})")
    return float(value)


def parse_model_text(text: str, source: str) -> ResponseModel:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ModelError("model", f"{source} is not valid TOML: {error}") from None
    except RecursionError:
        raise ModelError("model", f"{source} is nested too deeply") from None
    return parse_model(document)


def load_model_file(path: Path) -> ResponseModel:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ModelError("model", f"cannot read {path}: {error.strerror}") from None
    except UnicodeDecodeError as error:
        raise ModelError("model", f"{path} is not UTF-8 text (byte {error.start})") from None
    return parse_model_text(text, str(path))


def shipped_model() -> ResponseModel:
    resource = resources.files("arrears.application") / "borrower_response.toml"
    return parse_model_text(resource.read_text(encoding="utf-8"), "borrower_response.toml")
