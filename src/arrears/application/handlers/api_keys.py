"""API keys: created with a role (and the agency or collector it acts for), shown once,
revoked for good. Only a hash of the secret is stored (see `application.access`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from arrears.application.access import (
    MAX_NAME,
    MAX_REF,
    ROLE_SCOPES,
    ApiKeyRow,
    ApiUnitOfWork,
    Role,
    hash_secret,
    new_key,
    parse_role,
    parse_scopes,
)
from arrears.application.ports import Clock
from arrears.domain.errors import DomainError


@dataclass(frozen=True, slots=True, kw_only=True)
class CreatedKey:
    key_ref: str
    key: str
    """The whole key: shown to its owner once, never stored."""


def create_key(name: str, role: str, *, agency: str | None = None,
               collector: str | None = None, scopes: Sequence[str] = (),
               uow_factory: Callable[[], ApiUnitOfWork], clock: Clock) -> CreatedKey:
    """A new key. An agency key names its agency and a collector key its collector (both must
    be on file); a system key lists its scopes; other roles take their role's scopes."""
    if not name.strip() or len(name) > MAX_NAME:
        raise DomainError("name", f"must be 1 to {MAX_NAME} characters")
    chosen = parse_role(role)
    if chosen is Role.BORROWER:
        raise DomainError("role", "borrowers sign in through the borrower login, not API keys")
    wanted = parse_scopes(scopes)
    if chosen is Role.SYSTEM and not wanted:
        raise DomainError("scope", "a system key needs at least one --scope")
    if chosen is not Role.SYSTEM and wanted:
        raise DomainError("scope", f"only system keys take scopes; {chosen} keys have their "
                                   "role's scopes")
    if (agency is not None) != (chosen is Role.AGENCY):
        raise DomainError("agency", "an agency key, and only an agency key, names its agency")
    if (collector is not None) != (chosen is Role.COLLECTOR):
        raise DomainError("collector",
                          "a collector key, and only a collector key, names its collector")
    for field, ref in (("agency", agency), ("collector", collector)):
        if ref is not None and (not ref.strip() or len(ref) > MAX_REF):
            raise DomainError(field, f"must be 1 to {MAX_REF} characters")
    key_ref, secret, key = new_key()
    with uow_factory() as uow:
        if agency is not None and agency not in {a.agency_ref
                                                 for a in uow.collections.agencies()}:
            raise DomainError("agency", f"no agency {agency!r}")
        # FOR SHARE: a deactivation committing meanwhile waits, then revokes this key too.
        if collector is not None and collector not in {
                c.collector_ref for c in uow.collections.collectors(lock=True)}:
            raise DomainError("collector", f"no active collector {collector!r}")
        uow.api.add_key(ApiKeyRow(
            key_ref=key_ref, name=name, role=chosen,
            scopes=wanted if chosen is Role.SYSTEM else ROLE_SCOPES[chosen],
            agency_ref=agency, collector_ref=collector, secret_hash=hash_secret(secret),
            created_at=clock.now()))
        uow.commit()
    return CreatedKey(key_ref=key_ref, key=key)


def revoke_key(key_ref: str, *, uow_factory: Callable[[], ApiUnitOfWork],
               clock: Clock) -> datetime:
    """Revoke a live key; returns when."""
    at = clock.now()
    with uow_factory() as uow:
        if not uow.api.revoke_key(key_ref, at):
            raise DomainError("id", f"no live API key {key_ref!r}")
        uow.commit()
    return at


def list_keys(*, uow_factory: Callable[[], ApiUnitOfWork]) -> list[dict[str, Any]]:
    """Every key without its hash: id, name, role, scopes, what it acts for, dates."""
    with uow_factory() as uow:
        rows = uow.api.keys()
    return [{"id": r.key_ref, "name": r.name, "role": r.role.value,
             "scopes": sorted(s.value for s in r.scopes), "agency": r.agency_ref,
             "collector": r.collector_ref, "created_at": r.created_at.isoformat(),
             "revoked_at": r.revoked_at.isoformat() if r.revoked_at else None}
            for r in rows]
