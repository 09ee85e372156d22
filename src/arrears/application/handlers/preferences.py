"""Borrowers' contact preferences: opt-outs of a channel, requests to stop (written or oral),
inconvenient times (US-9), and their revocation.

Each is recorded as received — when, and by what channel — and nothing is ever updated: a
revocation is a row of its own naming the one it withdraws, so the book can say what was in
force at any instant. `contact_decisions` turns the rows in force into compliance facts for
every path that decides a contact (US-12, US-19; `cn.house.opt_out`). Each statement, and each
revocation, is appended to the borrower's evidence chain in the same unit of work.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from arrears.application.contact_decisions import (
    CEASE,
    INCONVENIENT_TIME,
    OPT_OUT,
    REVOCATION,
    aware,
)
from arrears.application.contacts import CONTACT_POINTS, LOGGED_CHANNELS
from arrears.application.handlers import evidence
from arrears.application.ports import Clock, ContactPreferenceRow, UnitOfWork
from arrears.domain import evidence as chain
from arrears.domain.errors import DomainError

VIAS = ("phone", "sms", "email", "letter", "portal")
"""How a borrower's statement may reach the lender."""
WRITTEN_VIAS = frozenset({"sms", "email", "letter", "portal"})
"""Channels that leave a written record (US-12 needs the request to stop in writing)."""
POINTS = tuple(sorted(set(CONTACT_POINTS.values())))
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True, kw_only=True)
class Received:
    """When and how a borrower's statement reached the lender; `at` None means now."""

    at: datetime | None = None
    via: str = "phone"


def _borrower_id(uow: UnitOfWork, borrower_ref: str) -> int:
    if not borrower_ref.strip():
        raise DomainError("borrower_id", "must not be empty")
    found = uow.book.existing_borrowers([borrower_ref]).get(borrower_ref)
    if found is None:
        raise DomainError("borrower_id", f"no borrower {borrower_ref!r}")
    return found[0]


def _channels(channels: Sequence[str], field: str) -> tuple[str, ...]:
    unknown = [c for c in channels if c not in LOGGED_CHANNELS]
    if unknown:
        raise DomainError(field, f"unknown channel {unknown[0]!r} (expected some of "
                                 f"{', '.join(LOGGED_CHANNELS)})")
    if len(set(channels)) != len(channels):
        raise DomainError(field, "a channel is named twice")
    return tuple(channels)


def _received(received: Received, clock: Clock) -> tuple[datetime, datetime]:
    """(received at, recorded at); a statement cannot arrive after it is recorded."""
    now = clock.now()
    if received.via not in VIAS:
        raise DomainError("via", f"unknown channel {received.via!r} (expected one of "
                                 f"{', '.join(VIAS)})")
    at = now if received.at is None else aware(received.at, "received_at")
    if at > now:
        raise DomainError("received_at", f"{at.isoformat()} is after now ({now.isoformat()})")
    return at, now


def _evidence(uow: UnitOfWork, row: ContactPreferenceRow,
              revokes: ContactPreferenceRow | None = None) -> None:
    """The statement on the borrower's chain, as received. A revocation names what it
    withdraws by kind and receipt, not by the book's row id."""
    payload: dict[str, Any] = {
        "kind": row.kind, "received_at": chain.instant_text(row.received_at),
        "received_via": row.received_via, "recorded_at": chain.instant_text(row.recorded_at)}
    if row.channels:
        payload["channels"] = list(row.channels)
    if row.kind == CEASE:
        payload["in_writing"] = row.in_writing
    if row.contact_point:
        payload["contact_point"] = row.contact_point
    if row.window_start is not None and row.window_end is not None:
        payload["window"] = {"start": f"{row.window_start:%H:%M}",
                             "end": f"{row.window_end:%H:%M}",
                             "weekdays": [WEEKDAYS[d] for d in row.weekdays or range(7)]}
    if revokes is not None:
        payload["revokes"] = {"kind": revokes.kind,
                              "received_at": chain.instant_text(revokes.received_at)}
    evidence.record(uow, row.borrower_id, f"preference_{row.kind}", row.received_at, payload)


def _record(borrower_ref: str, row: Callable[[int], ContactPreferenceRow], *,
            uow_factory: Callable[[], UnitOfWork]) -> int:
    with uow_factory() as uow:
        recorded = row(_borrower_id(uow, borrower_ref))
        preference_id = uow.collections.add_contact_preference(recorded)
        _evidence(uow, recorded)
        uow.commit()
    return preference_id


def record_opt_out(borrower_ref: str, *, channel: str, received: Received,
                   contact_point: str = "", uow_factory: Callable[[], UnitOfWork],
                   clock: Clock) -> int:
    """The borrower asked not to be contacted through `channel` (on `contact_point` only, when
    given): from `received.at` no contact goes out that way (US-19; `cn.house.opt_out`)."""
    channels = _channels([channel], "channel")
    if contact_point and contact_point not in POINTS:
        raise DomainError("contact_point", f"unknown contact point {contact_point!r} "
                                           f"(expected one of {', '.join(POINTS)})")
    at, now = _received(received, clock)
    return _record(borrower_ref, lambda borrower_id: ContactPreferenceRow(
        id=0, borrower_id=borrower_id, kind=OPT_OUT, received_at=at,
        received_via=received.via, recorded_at=now, channels=channels,
        contact_point=contact_point), uow_factory=uow_factory)


def record_cease(borrower_ref: str, *, in_writing: bool, channels: Sequence[str] = (),
                 received: Received, uow_factory: Callable[[], UnitOfWork],
                 clock: Clock) -> int:
    """The borrower asked the lender to stop. In writing it ends communication about the
    debt, but for the notices owed (US-12); said orally it is a request not to use the
    channels it names — an oral "stop calling" is `channels=("call",)` (US-19)."""
    named = _channels(channels, "channels")
    if in_writing and received.via not in WRITTEN_VIAS:
        raise DomainError("via", f"a request received by {received.via} is not in writing "
                                 "(say it was oral)")
    if not in_writing and not named:
        raise DomainError("channels", "an oral request names the channels it covers (only a "
                                      "written one ends all communication, US-12)")
    at, now = _received(received, clock)
    return _record(borrower_ref, lambda borrower_id: ContactPreferenceRow(
        id=0, borrower_id=borrower_id, kind=CEASE, received_at=at, received_via=received.via,
        recorded_at=now, channels=named, in_writing=in_writing), uow_factory=uow_factory)


def record_inconvenient_time(borrower_ref: str, *, start: time, end: time,
                             weekdays: Sequence[int] = (), contact_point: str = "",
                             received: Received, uow_factory: Callable[[], UnitOfWork],
                             clock: Clock) -> int:
    """The borrower said [start, end) of their local day (on `weekdays`, Monday = 0; every
    day when none) is inconvenient, on `contact_point` or on all of them (US-9)."""
    if start.tzinfo is not None or end.tzinfo is not None:
        raise DomainError("start", "a wall time has no offset")
    if not start < end:
        raise DomainError("end", f"must be after start ({start:%H:%M}); split a window that "
                                 "crosses midnight in two")
    if any(not 0 <= day <= 6 for day in weekdays) or len(set(weekdays)) != len(weekdays):
        raise DomainError("weekdays", "expected distinct days, Monday = 0 … Sunday = 6")
    if contact_point and contact_point not in POINTS:
        raise DomainError("contact_point", f"unknown contact point {contact_point!r} "
                                           f"(expected one of {', '.join(POINTS)})")
    at, now = _received(received, clock)
    return _record(borrower_ref, lambda borrower_id: ContactPreferenceRow(
        id=0, borrower_id=borrower_id, kind=INCONVENIENT_TIME, received_at=at,
        received_via=received.via, recorded_at=now, contact_point=contact_point,
        window_start=start, window_end=end, weekdays=tuple(sorted(weekdays))),
        uow_factory=uow_factory)


def revoke(borrower_ref: str, preference_id: int, *, received: Received,
           uow_factory: Callable[[], UnitOfWork], clock: Clock) -> int:
    """The borrower withdrew preference `preference_id` (opted back in): from `received.at`
    it no longer binds. The preference stays on file, as does the revocation."""
    at, now = _received(received, clock)
    with uow_factory() as uow:
        borrower_id = _borrower_id(uow, borrower_ref)
        rows = uow.collections.contact_preferences([borrower_id]).get(borrower_id, [])
        target = next((r for r in rows if r.id == preference_id and r.kind != REVOCATION),
                      None)
        if target is None:
            raise DomainError("preference_id", f"{borrower_ref} has no preference "
                                               f"{preference_id}")
        if any(r.revokes_id == preference_id for r in rows):
            raise DomainError("preference_id", f"preference {preference_id} is already "
                                               "revoked")
        if at < target.received_at:
            raise DomainError("received_at", "is before the preference it revokes was "
                                             f"received ({target.received_at.isoformat()})")
        revocation = ContactPreferenceRow(
            id=0, borrower_id=borrower_id, kind=REVOCATION, received_at=at,
            received_via=received.via, recorded_at=now, revokes_id=preference_id)
        revocation_id = uow.collections.add_contact_preference(revocation)
        _evidence(uow, revocation, revokes=target)
        uow.commit()
    return revocation_id


def preferences(borrower_ref: str, *, uow_factory: Callable[[], UnitOfWork]
                ) -> list[dict[str, Any]]:
    """Every preference on file for the borrower, oldest first, each with its revocation."""
    with uow_factory() as uow:
        borrower_id = _borrower_id(uow, borrower_ref)
        rows = uow.collections.contact_preferences([borrower_id]).get(borrower_id, [])
    revoked = {r.revokes_id: r for r in rows if r.kind == REVOCATION}
    listed = []
    for row in rows:
        if row.kind == REVOCATION:
            continue
        document: dict[str, Any] = {
            "id": row.id, "kind": row.kind, "channels": list(row.channels),
            "received_at": row.received_at.isoformat(), "received_via": row.received_via,
            "recorded_at": row.recorded_at.isoformat()}
        if row.kind == CEASE:
            document["in_writing"] = row.in_writing
        if row.contact_point:
            document["contact_point"] = row.contact_point
        if row.window_start is not None and row.window_end is not None:
            document["window"] = {"start": f"{row.window_start:%H:%M}",
                                  "end": f"{row.window_end:%H:%M}",
                                  "weekdays": [WEEKDAYS[d] for d in row.weekdays or range(7)]}
        revocation = revoked.get(row.id)
        document["revoked"] = None if revocation is None else {
            "id": revocation.id, "received_at": revocation.received_at.isoformat(),
            "received_via": revocation.received_via}
        listed.append(document)
    return listed
