"""Codec: JSON in, model out, errors that name the field."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from enum import Enum
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.compliance import codec
from arrears.compliance.codec import CodecError
from arrears.compliance.facts import (
    Attempt,
    Credential,
    Facts,
    InconvenientTime,
    OptOut,
    Outcome,
)
from arrears.compliance.model import ActionKind, Purpose, Recipient, Role
from arrears.domain.money import Money


def _attempt(**extra: object) -> dict[str, object]:
    return {"at": "2025-06-02T10:00:00-05:00", "channel": "call", "actor_id": "a",
            "person_id": "p", "debt_ids": ["D1"], "outcome": "answered", **extra}


@pytest.mark.parametrize(
    ("document", "field", "reason"),
    [
        ({"attempts": [_attempt()] * 3 + [_attempt(at="yesterday")]},
         "facts.attempts[3].at", "not an ISO instant"),
        ({"attempts": [_attempt(at="2025-06-02T10:00:00")]}, "facts.attempts[0].at", "offset"),
        ({"attempts": [_attempt(outcome="maybe")]}, "facts.attempts[0].outcome", "one of"),
        ({"people": [{"person_id": "p", "role": "borrower", "zones": ["Mars/Base"]}]},
         "facts.people[0].zones[0]", "IANA"),
        ({"debts": [{"debt_id": "D1", "balance": {"amount": 1.5, "currency": "USD"}}]},
         "facts.debts[0].balance.amount", "decimal"),
        ({"debts": [{"debt_id": "D1", "dpd": "3"}]}, "facts.debts[0].dpd", "integer"),
        ({"people": [{"person_id": "p", "role": "borrower", "contact_points": [
            {"id": "c", "kind": "cell", "zone": "America/Chicago",
             "zones": ["America/Denver", "Mars/Base"]}]}]},
         "facts.people[0].contact_points[0].zones[1]", "IANA"),
        ({"cease_notices": [{"person_id": "p", "received_at": "2025-06-02T10:00:00Z",
                             "channels": ["pigeon"]}]},
         "facts.cease_notices[0].channels[0]", "one of"),
        ({"debts": [{"debt_id": "D1", "validation_period_end_on": "soon"}]},
         "facts.debts[0].validation_period_end_on", "ISO date"),
        ({"surprise": 1}, "facts.surprise", "unknown field"),
        ({"debts": [{}]}, "facts.debts[0].debt_id", "missing"),
    ],
)
def test_errors_name_the_field(document: dict[str, object], field: str, reason: str) -> None:
    with pytest.raises(CodecError) as caught:
        codec.parse_facts(document)
    assert caught.value.field == field
    assert reason in caught.value.reason


def test_action_document_needs_at_and_debts() -> None:
    body = {"kind": "call", "actor": {"actor_id": "a", "kind": "agency"},
            "recipient": {"person_id": "p", "role": "borrower"}, "debt_ids": ["D1"]}
    with pytest.raises(CodecError, match="action.at"):
        codec.parse_action_document(body)
    with pytest.raises(CodecError, match="action.debt_ids"):
        codec.parse_action_document({**body, "at": "2025-06-02T10:00:00Z", "debt_ids": []})
    with pytest.raises(CodecError, match="action.kind"):
        codec.parse_action_document({**body, "at": "2025-06-02T10:00:00Z", "kind": "fax"})
    action, at, pack = codec.parse_action_document({**body, "at": "2025-06-02T10:00:00Z",
                                                    "pack": "us"})
    assert pack == "us" and at.tzinfo is not None and action.debt_ids == ("D1",)


def test_facts_round_trip_through_json() -> None:
    document: dict[str, Any] = {
        "debts": [{"debt_id": "D1", "balance": {"amount": "12.50", "currency": "USD"}}],
        "attempts": [_attempt()],
        "inconvenient_times": [{"person_id": "p", "start": "09:00", "end": "12:00"}],
    }
    document["debts"][0].update(creditor="Bank A", validation_period_end_on="2025-07-01")
    document["attempts"] = [_attempt(organisation="ABC Recovery")]
    document["cease_notices"] = [{"person_id": "p", "received_at": "2025-06-02T10:00:00Z",
                                  "in_writing": False, "channels": ["call", "sms"]}]
    document["people"] = [{"person_id": "p", "role": "borrower", "contact_points": [
        {"id": "c", "kind": "cell", "zones": ["America/New_York", "America/Denver"]}]}]
    document["consents"] = [{"person_id": "p", "scope": "calls", "actor_id": "a",
                             "organisation": "ABC Recovery",
                             "given_at": "2025-06-02T10:00:00Z",
                             "valid_from": "2025-06-02T10:00:00Z",
                             "valid_until": "2025-06-03T10:00:00Z"}]
    facts = codec.parse_facts(document)
    for encode in (codec.to_json, codec.to_compact_json):
        again = codec.parse_facts(json.loads(json.dumps(encode(facts))))
        assert again == facts
    assert set(codec.to_compact_json(facts)) == set(document)  # the others hold defaults


def _encoded_by_isinstance(value: Any) -> Any:
    """`to_json` as it read before it chose an encoder once per class: the checks in order,
    on every value."""
    if isinstance(value, Enum):
        return value.value
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M") if not value.second else value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Money):
        return {"amount": str(value.amount), "currency": value.currency}
    if isinstance(value, tuple | list):
        return [_encoded_by_isinstance(item) for item in value]
    if isinstance(value, frozenset | set):
        return sorted(_encoded_by_isinstance(item) for item in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encoded_by_isinstance(getattr(value, f.name))
                for f in dataclasses.fields(value) if f.init and not f.name.startswith("_")}
    raise TypeError(f"cannot encode {type(value).__name__}")


# Any Money hypothesis builds by type is one of a currency the book knows; any date or instant
# is one the codec takes (an offset, years 1900–2199), a wall time is to the second; only this
# module builds values by type.
_FIRST, _LAST = date(1901, 1, 1), date(2198, 12, 31)
# Fixed offsets: an instant a zone's clocks go back over is written with one offset, and read
# back at that offset compares unequal to the zone's own (Python's rule for such instants).
_OFFSETS = st.integers(-14 * 60, 14 * 60).map(lambda minutes: timezone(timedelta(
    minutes=minutes)))
st.register_type_strategy(datetime, st.datetimes(  # bounds are local times, offset drawn after
    datetime.combine(_FIRST, time()), datetime.combine(_LAST, time()), timezones=_OFFSETS))
st.register_type_strategy(date, st.dates(_FIRST, _LAST))
st.register_type_strategy(time, st.times().map(lambda wall: wall.replace(microsecond=0)))
st.register_type_strategy(Money, st.builds(Money.from_minor, st.integers(-10**12, 10**12),
                                           st.sampled_from(["USD", "CNY", "JPY"])))
_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.text(max_size=5),
    st.datetimes(timezones=st.timezones()), st.dates(), st.times(),
    st.decimals(allow_nan=False, allow_infinity=False), st.from_type(Money),
    *(st.sampled_from(kind) for kind in (ActionKind, Purpose, Outcome, Role)))
# Model classes whose fields hypothesis can fill without breaking their checks, nesting
# enums, instants, tuples and optional values.
_records = st.one_of(st.from_type(Attempt), st.from_type(Recipient), st.from_type(OptOut),
                     st.from_type(Credential), st.from_type(InconvenientTime))
_values = st.recursive(
    st.one_of(_scalars, _records),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.tuples(inner, inner),
                            st.frozensets(st.text(max_size=3), max_size=3)),
    max_leaves=8)


@settings(max_examples=300, deadline=None)
@given(_values)
def test_to_json_encodes_each_class_as_the_isinstance_checks_did(value: Any) -> None:
    assert codec.to_json(value) == _encoded_by_isinstance(value)


def _compact_by_hand(value: Any) -> Any:
    """`to_compact_json` read off its definition: the full encoding of every value, less each
    dataclass field whose encoding is its default's."""
    if isinstance(value, tuple | list):
        return [_compact_by_hand(item) for item in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        document = {}
        for f in dataclasses.fields(value):
            if not f.init or f.name.startswith("_"):
                continue
            encoded = _compact_by_hand(getattr(value, f.name))
            if f.default is not dataclasses.MISSING:
                default = _compact_by_hand(f.default)
            elif f.default_factory is not dataclasses.MISSING:
                default = _compact_by_hand(f.default_factory())
            else:
                document[f.name] = encoded
                continue
            if json.dumps(encoded, sort_keys=True) != json.dumps(default, sort_keys=True):
                document[f.name] = encoded
        return document
    return _encoded_by_isinstance(value)


@settings(max_examples=300, deadline=None)
@given(_values)
def test_to_compact_json_leaves_out_exactly_the_fields_at_their_default(value: Any) -> None:
    assert codec.to_compact_json(value) == _compact_by_hand(value)


@settings(max_examples=300, deadline=None)
@given(_records)
def test_a_compact_record_parses_back_to_the_same_value(record: Any) -> None:
    compact = json.loads(json.dumps(codec.to_compact_json(record)))
    full = json.loads(json.dumps(codec.to_json(record)))
    assert (codec.parse_dataclass(compact, type(record), "record")
            == codec.parse_dataclass(full, type(record), "record") == record)


def test_to_json_still_refuses_what_it_cannot_encode() -> None:
    for value in (1.5, object(), Facts):
        with pytest.raises(TypeError, match="cannot encode"):
            codec.to_json(value)
