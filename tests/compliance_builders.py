"""Small builders for the pack tests: documents in the JSON shape, parsed by the codec."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from arrears.compliance import codec, engine, packs
from arrears.compliance.facts import Facts
from arrears.compliance.model import Action, Decision

CHICAGO = "America/Chicago"
SHANGHAI = "Asia/Shanghai"


def t(text: str, tz: str = CHICAGO) -> str:
    """An ISO instant for a wall time in `tz`."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(tz)).isoformat()


def at(text: str, tz: str = CHICAGO) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(tz))


def person(
    person_id: str = "p",
    role: str = "borrower",
    zones: tuple[str, ...] = (CHICAGO,),
    points: tuple[dict[str, Any], ...] = (),
    **extra: Any,
) -> dict[str, Any]:
    contact_points = list(points) or [
        {"id": "cell", "kind": "cell", "reassigned_check_at": t("2025-01-02T10:00")},
        {"id": "home", "kind": "home"},
        {"id": "work", "kind": "work"},
        {"id": "email", "kind": "email"},
    ]
    return {
        "person_id": person_id,
        "role": role,
        "zones": list(zones),
        "contact_points": contact_points,
        **extra,
    }


def attempt(
    when: str,
    *,
    outcome: str = "unanswered",
    actor: str = "agent",
    person_id: str = "p",
    debts: tuple[str, ...] = ("D1",),
    point: str = "cell",
    channel: str = "call",
    direction: str = "outbound",
    purpose: str = "collection",
    tz: str = CHICAGO,
) -> dict[str, Any]:
    return {
        "at": t(when, tz),
        "channel": channel,
        "actor_id": actor,
        "person_id": person_id,
        "debt_ids": list(debts),
        "outcome": outcome,
        "contact_point": point,
        "direction": direction,
        "purpose": purpose,
    }


def us_debt(debt_id: str = "D1", **extra: Any) -> dict[str, Any]:
    """A consumer debt already past its initial communication and validation notice."""
    return {
        "debt_id": debt_id,
        "initial_communication_at": t("2025-01-02T10:00"),
        "validation_sent_on": "2025-01-03",
        **extra,
    }


def facts(**document: Any) -> Facts:
    document.setdefault("people", [person()])
    document.setdefault("debts", [us_debt()])
    return codec.parse_facts(document)


def action(kind: str = "call", **document: Any) -> Action:
    body: dict[str, Any] = {
        "kind": kind,
        "actor": {"actor_id": "agent", "kind": "agency", "organisation": "ABC Recovery"},
        "recipient": {"person_id": "p", "role": "borrower", "contact_point": "cell"},
        "debt_ids": ["D1"],
    }
    body.update(document)
    return codec.parse_dataclass(body, Action, "action")


def decide(pack: str, act: Action, fx: Facts, when: datetime) -> Decision:
    return engine.decide(act, fx, packs.get(pack), when)


def blocked_by(decision: Decision) -> set[str]:
    return {v.rule_id for v in decision.violations}


def flagged_by(decision: Decision) -> set[str]:
    return {f.rule_id for f in decision.flags}
