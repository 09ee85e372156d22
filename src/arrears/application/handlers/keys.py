"""The lender's signing keys: the newest key not retired signs (the first use makes one),
rotation adds a key, retirement withdraws one (what it signed no longer verifies), and the
published JWK Set lists the keys in use. Private keys stay in the key vault; the database
holds the public halves, so any machine with it can verify."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from arrears.application.ports import Clock, UnitOfWork
from arrears.application.trust import KeyVault, SigningKey
from arrears.domain import jws
from arrears.domain.credential import Signature
from arrears.domain.errors import DomainError


def _new_key(uow: UnitOfWork, keys: KeyVault, clock: Clock) -> SigningKey:
    """A new key, later than every key before it: the store orders keys by `created_at` (then
    by key id, a random thumbprint), so a tie or a clock behind the last key's would let an
    older key go on signing after a rotation."""
    kid, public_x = keys.generate()
    known = uow.credentials.signing_keys()
    created_at = clock.now()
    if known and known[-1].created_at >= created_at:
        created_at = known[-1].created_at + timedelta(microseconds=1)
    key = SigningKey(kid=kid, public_x=public_x, created_at=created_at)
    uow.credentials.add_signing_key(key)
    return key


def active_key(uow: UnitOfWork, keys: KeyVault, clock: Clock) -> SigningKey:
    """The newest key not retired; the first use makes one."""
    live = [k for k in uow.credentials.signing_keys() if k.retired_at is None]
    return live[-1] if live else _new_key(uow, keys, clock)


def rotate_key(*, uow_factory: Callable[[], UnitOfWork], keys: KeyVault,
               clock: Clock) -> SigningKey:
    """A new signing key; older keys still verify what they signed until retired."""
    with uow_factory() as uow:
        key = _new_key(uow, keys, clock)
        uow.commit()
    return key


def retire_key(kid: str, *, uow_factory: Callable[[], UnitOfWork], clock: Clock) -> None:
    """Withdraw a key (lost or compromised): what it signed no longer verifies."""
    with uow_factory() as uow:
        known = {k.kid: k for k in uow.credentials.signing_keys()}
        if kid not in known:
            raise DomainError("KID", f"no signing key {kid!r}")
        if not uow.credentials.retire_signing_key(kid, clock.now()):
            raise DomainError("KID", f"{kid} is already retired")
        uow.commit()


def jwks(*, uow_factory: Callable[[], UnitOfWork]) -> dict[str, Any]:
    """The published keys (RFC 7517 JWK Set): every key not retired."""
    with uow_factory() as uow:
        live = [k for k in uow.credentials.signing_keys() if k.retired_at is None]
    return {"keys": [jws.public_jwk(k.public_x) for k in live]}


def sign(uow: UnitOfWork, keys: KeyVault, clock: Clock, payload: dict[str, Any],
         typ: str) -> tuple[str, str]:
    """(compact JWS of `payload` under the active key, its key id)."""
    key = active_key(uow, keys, clock)
    signed = jws.signing_input({"alg": jws.ALGORITHM, "kid": key.kid, "typ": typ}, payload)
    return jws.assemble(signed, keys.sign(key.kid, signed)), key.kid


def signature_of(token: str, *, uow: UnitOfWork, keys: KeyVault
                 ) -> tuple[Signature, jws.ParsedToken | None]:
    """Check a token's signature against every key the lender ever used. The keys are read
    first, so a book that cannot answer (not initialised, unreachable) is reported as such
    rather than as a verdict on the token."""
    known = uow.credentials.signing_keys()
    try:
        parsed = jws.parse(token)
    except jws.MalformedToken:
        return Signature.MALFORMED, None
    key = next((k for k in known if k.kid == parsed.kid), None)
    if key is None:
        return Signature.UNKNOWN_KEY, parsed
    if not keys.verify(key.public_x, parsed.signed, parsed.signature):
        return Signature.INVALID, parsed
    return (Signature.RETIRED_KEY if key.retired_at is not None else Signature.VALID), parsed
