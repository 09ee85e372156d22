"""JSON ⇄ compliance model, with errors that name the field (`facts.attempts[3].at: …`).

Documents use the dataclass field names. Instants are ISO 8601 with an offset
("2025-06-02T10:00:00-05:00"), dates "2025-06-02", wall times "08:00", money
{"amount": "12.50", "currency": "USD"} (decimal strings, never floats), enums by value,
collections as lists. Unknown fields are refused, so a typo is an error rather than a silently
ignored fact. See examples/compliance/README.md.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from operator import attrgetter, methodcaller
from typing import Any, TypeVar

from arrears.compliance.facts import Facts
from arrears.compliance.model import Action, Decision, Flag, Violation, WordMatch
from arrears.domain.dates import check_date, check_instant
from arrears.domain.errors import DomainError
from arrears.domain.money import Money, parse_decimal

T = TypeVar("T")


class CodecError(DomainError):
    """A compliance document does not parse; `field` is the JSON path."""


Parser = Callable[[Any, str], Any]
"""Parses one JSON value at a path into a model value, or raises `CodecError`."""
_PARSERS: dict[Any, Parser] = {}
_FIELDS: dict[type, tuple[dataclasses.Field[Any], ...]] = {}
_PLANS: dict[type, dict[str, tuple[Any, bool]]] = {}


def _public_fields(cls: type) -> tuple[dataclasses.Field[Any], ...]:
    found = _FIELDS.get(cls)
    if found is None:
        found = _FIELDS[cls] = tuple(f for f in dataclasses.fields(cls)
                                     if f.init and not f.name.startswith("_"))
    return found


def _plan(cls: type) -> dict[str, tuple[Any, bool]]:
    """Each public field of a dataclass: its type and whether it must be given."""
    plan = _PLANS.get(cls)
    if plan is None:
        hints = typing.get_type_hints(cls)
        plan = _PLANS[cls] = {
            f.name: (hints[f.name], f.default is dataclasses.MISSING
                     and f.default_factory is dataclasses.MISSING)
            for f in _public_fields(cls)}
    return plan


def _describe(tp: Any) -> str:
    if isinstance(tp, type) and issubclass(tp, Enum):
        return "one of " + ", ".join(repr(m.value) for m in tp)
    return getattr(tp, "__name__", str(tp))


def _parse(value: Any, tp: Any, path: str) -> Any:
    parser = _PARSERS.get(tp)
    if parser is None:
        parser = _PARSERS[tp] = _parser_for(tp)
    return parser(value, path)


def _parser_for(tp: Any) -> Parser:
    """The parser of `tp`, built once per type: which branch applies depends on the type
    alone, and finding it for every value cost more than the parsing (a dialer's decision
    request parses some seventy values)."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        option = next(a for a in typing.get_args(tp) if a is not type(None))

        def optional(value: Any, path: str) -> Any:
            return None if value is None else _parse(value, option, path)

        return optional
    if origin in (tuple, frozenset):
        item_type = typing.get_args(tp)[0]
        collect: Callable[[Any], Any] = tuple if origin is tuple else frozenset

        def collection(value: Any, path: str) -> Any:
            if not isinstance(value, list):
                raise CodecError(path, "must be a list")
            return collect(_parse(item, item_type, f"{path}[{i}]")
                           for i, item in enumerate(value))

        return collection
    scalar = _SCALARS.get(tp)
    if scalar is not None:
        return scalar
    if isinstance(tp, type) and issubclass(tp, Enum):
        enum: type[Enum] = tp

        def member(value: Any, path: str) -> Any:
            try:
                return enum(value)
            except ValueError:
                raise CodecError(path, f"{value!r} is not {_describe(enum)}") from None

        return member
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        cls: type = tp
        return lambda value, path: parse_dataclass(value, cls, path)
    raise TypeError(f"codec cannot parse {tp!r}")  # pragma: no cover - a model bug


def _bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise CodecError(path, "must be true or false")
    return value


def _int(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise CodecError(path, "must be an integer")
    return value


def _str(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise CodecError(path, "must be a string")
    return value


def _decimal(value: Any, path: str) -> Decimal:
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise CodecError(path, "must be a decimal string")
    try:
        return parse_decimal(value, path)
    except DomainError as error:
        raise CodecError(path, error.reason) from None


def _date(value: Any, path: str) -> date:
    if not isinstance(value, str):
        raise CodecError(path, "not an ISO date")
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise CodecError(path, f"{value!r} is not an ISO date") from None
    try:
        return check_date(day, path)
    except DomainError as error:
        raise CodecError(path, error.reason) from None


def _time(value: Any, path: str) -> time:
    if not isinstance(value, str):
        raise CodecError(path, "not a wall time (HH:MM)")
    try:
        parsed = time.fromisoformat(value)
    except ValueError:
        raise CodecError(path, f"{value!r} is not a wall time (HH:MM)") from None
    if parsed.tzinfo is not None:
        raise CodecError(path, "a wall time has no offset")
    return parsed


def _money(value: Any, path: str) -> Money:
    if not isinstance(value, dict) or set(value) != {"amount", "currency"}:
        raise CodecError(path, 'must be {"amount": "…", "currency": "…"}')
    amount = _decimal(value["amount"], f"{path}.amount")
    currency = _str(value["currency"], f"{path}.currency")
    try:
        return Money(amount, currency)
    except DomainError as error:
        raise CodecError(f"{path}.{error.field}", error.reason) from None


def parse_instant(value: Any, path: str) -> datetime:
    if not isinstance(value, str):
        raise CodecError(path, "not an ISO instant")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise CodecError(path, f"{value!r} is not an ISO instant") from None
    if parsed.tzinfo is None:
        raise CodecError(path, f"{value!r} has no UTC offset (instants must be timezone-aware)")
    try:
        return check_instant(parsed, path)
    except DomainError as error:
        raise CodecError(path, error.reason) from None


_SCALARS: dict[Any, Parser] = {bool: _bool, int: _int, str: _str, Decimal: _decimal,
                               datetime: parse_instant, date: _date, time: _time,
                               Money: _money}


def parse_dataclass(value: Any, cls: type[T], path: str) -> T:
    if not isinstance(value, dict):
        raise CodecError(path, "must be an object")
    plan = _plan(cls)
    for key in value:
        if key not in plan:
            raise CodecError(f"{path}.{key}", "unknown field")
    kwargs: dict[str, Any] = {}
    for name, (hint, required) in plan.items():
        if name in value:
            kwargs[name] = _parse(value[name], hint, f"{path}.{name}")
        elif required:
            raise CodecError(f"{path}.{name}", "missing")
    try:
        return cls(**kwargs)
    except DomainError as error:
        raise CodecError(f"{path}.{error.field}", error.reason) from None


def parse_action_document(document: Any) -> tuple[Action, datetime, str | None]:
    """An action document: the action's fields plus `at` and an optional `pack` code."""
    if not isinstance(document, dict):
        raise CodecError("action", "must be an object")
    body = dict(document)
    if "at" not in body:
        raise CodecError("action.at", "missing")
    at = parse_instant(body.pop("at"), "action.at")
    pack = body.pop("pack", None)
    if pack is not None and not isinstance(pack, str):
        raise CodecError("action.pack", "must be a string")
    action = parse_dataclass(body, Action, "action")
    if not action.debt_ids:
        raise CodecError("action.debt_ids", "at least one debt id is needed")
    return action, at, pack


def parse_facts(document: Any) -> Facts:
    facts = parse_dataclass(document, Facts, "facts")
    for i, attempt in enumerate(facts.attempts):
        if attempt.at.tzinfo is None:  # pragma: no cover - parse_instant refuses these
            raise CodecError(f"facts.attempts[{i}].at", "not an ISO instant")
    from arrears.compliance.predicates import zone

    for i, person in enumerate(facts.people):
        for j, name in enumerate(person.zones):
            try:
                zone(name)
            except DomainError:
                raise CodecError(
                    f"facts.people[{i}].zones[{j}]", f"{name!r} is not an IANA time zone"
                ) from None
        for j, point in enumerate(person.contact_points):
            path = f"facts.people[{i}].contact_points[{j}]"
            named = [(f"{path}.zone", point.zone)] if point.zone else []
            named += [(f"{path}.zones[{k}]", name) for k, name in enumerate(point.zones)]
            for where, name in named:
                try:
                    zone(name)
                except DomainError:
                    raise CodecError(where, f"{name!r} is not an IANA time zone") from None
    return facts


def to_json(value: Any) -> Any:
    """The JSON form of a model value (dataclasses, enums, instants, money, tuples)."""
    return _ENCODERS[type(value)](value)


def to_compact_json(value: Any) -> Any:
    """`to_json` without the dataclass fields that hold their default, at any depth.
    `parse_dataclass` gives an omitted field its default, so the document parses to the same
    value: a message's facts are mostly empty lists, nulls and falses, and compact they take
    about a third of the text the book stores with every message."""
    return _COMPACT_ENCODERS[type(value)](value)


class _PerClass(dict[type, Callable[[Any], Any]]):
    """The encoder of each class, chosen by `choose` the first time the class is met."""

    def __init__(self, choose: Callable[[type], Callable[[Any], Any]]) -> None:
        super().__init__()
        self.choose = choose

    def __missing__(self, kind: type) -> Callable[[Any], Any]:
        encode = self[kind] = self.choose(kind)
        return encode


_REQUIRED = object()  # a field with no default: always written


def _compact_encoder(kind: type) -> Callable[[Any], Any]:
    """As `_encoder`, but a model dataclass leaves out the fields at their default. A
    `default_factory` is called once, when the class is first met (the compliance model's
    all make empty tuples). The defaults are pinned by `tests/golden/compliance/
    test_compact_defaults.py`: a changed one would change the queued messages' documents."""
    if issubclass(kind, tuple | list):
        return lambda value: [to_compact_json(item) for item in value]
    if not dataclasses.is_dataclass(kind) or issubclass(kind, Money):
        return _encoder(kind)  # written its own way, with no fields to leave out
    # Compared as encoded: the JSON a default reads back from, not the value (0 == False).
    fields = tuple((f.name, _encoded_default(f)) for f in _public_fields(kind))

    def encode(value: Any) -> dict[str, Any]:
        document = {}
        for name, default in fields:
            encoded = to_compact_json(getattr(value, name))
            if encoded != default or type(encoded) is not type(default):
                document[name] = encoded
        return document

    return encode


def _encoded_default(field: dataclasses.Field[Any]) -> Any:
    if field.default is not dataclasses.MISSING:
        return to_compact_json(field.default)
    if field.default_factory is not dataclasses.MISSING:
        return to_compact_json(field.default_factory())
    return _REQUIRED


def _encoder(kind: type) -> Callable[[Any], Any]:
    """How `to_json` encodes the values of class `kind`, chosen once per class: the facts a
    strategy run encodes for each message are thousands of values of a dozen classes."""
    if issubclass(kind, Enum):
        return attrgetter("value")
    if kind is type(None) or issubclass(kind, bool | int | str):
        return _itself
    if issubclass(kind, date):  # a datetime too
        return methodcaller("isoformat")
    if issubclass(kind, time):
        return _wall_time
    if issubclass(kind, Decimal):
        return str
    if issubclass(kind, Money):
        return _money_json
    if issubclass(kind, tuple | list):
        return _items
    if issubclass(kind, frozenset | set):
        return _sorted_items
    if dataclasses.is_dataclass(kind):
        names = tuple(f.name for f in _public_fields(kind))
        return lambda value: {name: to_json(getattr(value, name)) for name in names}
    return _unencodable


_ENCODERS = _PerClass(_encoder)
_COMPACT_ENCODERS = _PerClass(_compact_encoder)


def _itself(value: Any) -> Any:
    return value


def _wall_time(value: time) -> str:
    return value.strftime("%H:%M") if not value.second else value.isoformat()


def _money_json(value: Money) -> dict[str, str]:
    return {"amount": str(value.amount), "currency": value.currency}


def _items(value: tuple[Any, ...] | list[Any]) -> list[Any]:
    return [to_json(item) for item in value]


def _sorted_items(value: frozenset[Any] | set[Any]) -> list[Any]:
    return sorted(to_json(item) for item in value)


def _unencodable(value: Any) -> Any:
    raise TypeError(f"cannot encode {type(value).__name__}")


def _match_json(match: WordMatch) -> dict[str, Any]:
    return {
        "category": match.category,
        "phrase": match.phrase,
        "matched": match.matched,
        "start": match.start,
        "end": match.end,
    }


def _finding_json(item: Violation | Flag) -> dict[str, Any]:
    out: dict[str, Any] = {
        "rule_id": item.rule_id,
        "ref": item.ref,
        "citation": item.citation,
        "reason": {"en": item.reason_en, "zh": item.reason_zh},
        "detail": {"en": item.detail_en, "zh": item.detail_zh},
        "matches": [_match_json(m) for m in item.matches],
    }
    if isinstance(item, Violation):
        out["error"] = item.error
    return out


def decision_to_json(decision: Decision) -> dict[str, Any]:
    return {
        "allowed": decision.allowed,
        "at": decision.at.isoformat(),
        "pack": decision.pack,
        "pack_version": decision.pack_version,
        "next_allowed_at": (
            decision.next_allowed_at.isoformat() if decision.next_allowed_at else None
        ),
        "violations": [_finding_json(v) for v in decision.violations],
        "flags": [_finding_json(f) for f in decision.flags],
        "evaluated": list(decision.evaluated),
    }
