"""Codec: JSON in, model out, errors that name the field."""

from __future__ import annotations

import json
from typing import Any

import pytest

from arrears.compliance import codec
from arrears.compliance.codec import CodecError


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
    again = codec.parse_facts(json.loads(json.dumps(codec.to_json(facts))))
    assert again == facts
