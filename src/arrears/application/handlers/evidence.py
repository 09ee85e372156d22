"""The evidence log: appending what happened with a borrower to their hash chain in the unit of
work of the event itself, the daily signed checkpoint over every chain, the bundle a borrower
(or a regulator) receives, its verification, and purging payloads after the retention period.

Appends are one call from the handler that owns the event (`record`, or the helpers below for
contacts, planned actions and visits); they commit or roll back with it. Payloads carry the
lender's ids (loan id, borrower id, message id), never internal row ids.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from arrears.application.handlers.keys import sign
from arrears.application.ports import (
    Clock,
    OutgoingMessage,
    PlannedAction,
    PlanRow,
    UnitOfWork,
    VisitAuthorizationRow,
)
from arrears.application.trust import Checkpoint, EvidenceDraft, KeyVault
from arrears.compliance.model import Decision
from arrears.domain import evidence as chain
from arrears.domain.errors import DomainError
from arrears.domain.jws import canonical_json, public_jwk

RETENTION_YEARS = {"CN": 5, "US": 3}
"""Years the evidence of a borrower is kept after their last recorded event, by the
jurisdiction of their products (CN-10: NIFA members keep collection records 5 years; US-28:
Regulation F §1006.100, three years after the last collection activity). A borrower with
products in both keeps the longer."""


def record(uow: UnitOfWork, borrower_id: int, kind: str, at: datetime,
           payload: Mapping[str, Any], files: Mapping[str, bytes] | None = None) -> None:
    """Append one event to the borrower's chain; attached files are named in the payload by
    their SHA-256 (and kept beside it until purged)."""
    attached = dict(files or {})
    for name in attached:
        if not chain.FILE_NAME.fullmatch(name):
            raise DomainError("file", f"{name!r} is not a plain file name")
    body = dict(payload)
    if attached:
        body["files"] = {name: chain.sha256_hex(data) for name, data in attached.items()}
    uow.evidence.append([EvidenceDraft(borrower_id=borrower_id, kind=kind, at=at,
                                       payload=body, files=attached)])


def _decision(decision: Decision) -> dict[str, Any]:
    return {"allowed": decision.allowed, "pack": decision.pack,
            "pack_version": decision.pack_version,
            "blocked_by": sorted({v.rule_id for v in decision.violations}),
            "next_allowed_at": decision.next_allowed_at.isoformat()
            if decision.next_allowed_at else None}


def contact_logged(row: PlanRow, *, actor: str, channel: str, outcome: str, at: datetime,
                   notes: str, recording_ref: str, complaint: bool, decision: Decision
                   ) -> EvidenceDraft:
    """A logged contact attempt with its outcome, call recording reference, a complaint if the
    borrower made one, and the compliance decision that allowed it; appended by the contact
    session that logged it, with the session's other contacts."""
    return EvidenceDraft(borrower_id=row.borrower_id, kind="contact", at=at, files={}, payload={
        "loan_id": row.loan_ref, "actor": actor, "channel": channel, "outcome": outcome,
        "at": chain.instant_text(at), "notes": notes, "recording_ref": recording_ref,
        "complaint": complaint, "decision": _decision(decision)})


def actions_planned(uow: UnitOfWork, rows: Sequence[PlanRow],
                    actions: Sequence[PlannedAction], messages: Sequence[OutgoingMessage],
                    at: datetime) -> None:
    """What a strategy run decided for each loan: every rendered message (its text attached)
    or letter, and every blocked, rescheduled or escalated step with the rules behind it."""
    by_loan = {r.loan_id: r for r in rows}
    by_message = {m.message_id: m for m in messages}
    drafts = []
    for action in actions:
        row = by_loan[action.loan_id]
        payload: dict[str, Any] = {
            "loan_id": row.loan_ref, "step": action.step, "action": action.kind,
            "status": action.status, "planned_at": chain.instant_text(action.planned_at),
            "scheduled_at": chain.instant_text(action.scheduled_at)
            if action.scheduled_at else None,
            "blocked_by": list(action.rule_ids), "reason": action.reason}
        files: dict[str, bytes] = {}
        message = by_message.get(action.message_id or "")
        kind = "compliance_decision" if action.rule_ids else "action"
        if message is not None:
            kind = "letter" if message.channel == "letter" else "message"
            name = f"{message.message_id}.txt"
            files[name] = (f"{message.subject}\n\n{message.body}" if message.subject
                           else message.body).encode()
            payload.update(message_id=message.message_id, channel=message.channel,
                           template=message.template, language=message.language,
                           recipient=message.recipient, pack=message.pack,
                           files={name: chain.sha256_hex(files[name])})
        drafts.append(EvidenceDraft(borrower_id=row.borrower_id, kind=kind, at=at,
                                    payload=payload, files=files))
    uow.evidence.append(drafts)


def visit_authorized(uow: UnitOfWork, borrower_id: int, loan_ref: str,
                     authorization: VisitAuthorizationRow) -> None:
    record(uow, borrower_id, "visit_authorization", authorization.issued_at, {
        "loan_id": loan_ref, "authorization": authorization.authorization_ref,
        "collectors": list(authorization.collectors), "written": authorization.written,
        "recording": authorization.recording,
        "valid_until": chain.instant_text(authorization.valid_until),
        "legal_reviewer": authorization.legal_reviewer})


def visit_recorded(uow: UnitOfWork, borrower_id: int, loan_ref: str, authorization_ref: str,
                   at: datetime, collectors: Sequence[str], decision: Decision) -> None:
    record(uow, borrower_id, "field_visit", at, {
        "loan_id": loan_ref, "authorization": authorization_ref,
        "collectors": list(collectors), "decision": _decision(decision)})


def visit_cancelled(uow: UnitOfWork, borrower_id: int, loan_ref: str, authorization_ref: str,
                    planned_at: datetime, at: datetime, reason: str) -> None:
    record(uow, borrower_id, "visit_cancelled", at, {
        "loan_id": loan_ref, "authorization": authorization_ref,
        "planned_at": chain.instant_text(planned_at), "reason": reason})


# --- checkpoints ---------------------------------------------------------------------------


def _checkpoint(uow: UnitOfWork, keys: KeyVault, clock: Clock, issuer: str) -> Checkpoint:
    heads = uow.evidence.heads()
    leaves = [chain.leaf_hash(h.borrower_ref, h.seq, h.head) for h in heads]
    now = clock.now()
    root = chain.merkle_root(leaves).hex()
    payload = {"iss": issuer, "typ": chain.CHECKPOINT_TYPE, "day": now.date().isoformat(),
               "iat": int(now.timestamp()), "size": len(leaves), "root": root}
    token, kid = sign(uow, keys, clock, payload, "JOSE")
    checkpoint = Checkpoint(id=0, day=now.date(), at=now, size=len(leaves), root=root,
                            kid=kid, token=token)
    checkpoint_id = uow.evidence.add_checkpoint(checkpoint, heads)
    return Checkpoint(id=checkpoint_id, day=checkpoint.day, at=now, size=len(leaves),
                      root=root, kid=kid, token=token)


def checkpoint(*, uow_factory: Callable[[], UnitOfWork], keys: KeyVault, clock: Clock,
               issuer: str) -> Checkpoint:
    """Sign the Merkle root over every chain's head (run daily, after EOD)."""
    with uow_factory() as uow:
        made = _checkpoint(uow, keys, clock, issuer)
        uow.commit()
    return made


# --- bundles -------------------------------------------------------------------------------


def export(borrower_ref: str, *, uow_factory: Callable[[], UnitOfWork], keys: KeyVault,
           clock: Clock, issuer: str) -> dict[str, bytes]:
    """The borrower's evidence bundle, member name → bytes: entries, attached files, the
    latest checkpoint (a new one when the chain has grown since), the proof that the chain's
    head is in it, the lender's published keys, and a manifest of hashes."""
    with uow_factory() as uow:
        borrower_id = uow.evidence.borrower_id(borrower_ref)
        if borrower_id is None:
            raise DomainError("BORROWER_ID", f"no borrower {borrower_ref!r}")
        entries = uow.evidence.entries(borrower_id)
        if not entries:
            raise DomainError("BORROWER_ID", f"no evidence on file for {borrower_ref}")
        latest = uow.evidence.latest_checkpoint()
        leaves = uow.evidence.checkpoint_leaves(latest.id) if latest is not None else []
        mine = next((i for i, h in enumerate(leaves) if h.borrower_id == borrower_id), None)
        # A new checkpoint when the chain grew since, or was purged since: a bundle's purged
        # payloads are dated by its checkpoint (`chain.purge_problem`).
        if latest is None or mine is None or leaves[mine].seq != entries[-1].seq or \
                chain.purge_problem(entries, int(latest.at.timestamp())) is not None:
            latest = _checkpoint(uow, keys, clock, issuer)
            leaves = uow.evidence.checkpoint_leaves(latest.id)
            mine = next(i for i, h in enumerate(leaves) if h.borrower_id == borrower_id)
        files = uow.evidence.files(borrower_id)
        published = [k for k in uow.credentials.signing_keys() if k.retired_at is None]
        uow.commit()
    hashes = [chain.leaf_hash(h.borrower_ref, h.seq, h.head) for h in leaves]
    head = leaves[mine]
    members: dict[str, bytes] = {
        chain.ENTRIES: b"".join(e.line() + b"\n" for e in entries),
        chain.CHECKPOINT: latest.token.encode("ascii"),
        chain.INCLUSION: canonical_json({
            "leaf": {"borrower": head.borrower_ref, "seq": head.seq, "head": head.head},
            "index": mine, "size": len(hashes),
            "path": [p.hex() for p in chain.inclusion_path(hashes, mine)]}),
        chain.JWKS: canonical_json({"keys": [public_jwk(k.public_x) for k in published]}),
        **files,
    }
    members[chain.MANIFEST] = json.dumps({
        "format": chain.FORMAT, "borrower": borrower_ref, "entries": len(entries),
        "checkpoint": {"day": latest.day.isoformat(), "kid": latest.kid, "root": latest.root},
        "files": {name: chain.sha256_hex(data) for name, data in sorted(members.items())},
    }, indent=2, ensure_ascii=False).encode()
    return members


def trusted_verifier(published: Mapping[str, Any], keys: KeyVault) -> chain.Verifier:
    """Check signatures against a JWK Set (the lender's published keys)."""
    found = {k.get("kid"): k.get("x") for k in published.get("keys", [])
             if isinstance(k, dict) and k.get("kty") == "OKP" and k.get("crv") == "Ed25519"}

    def verify(kid: str, data: bytes, signature: bytes) -> bool | None:
        x = found.get(kid)
        if not isinstance(x, str):
            return None
        return keys.verify(x, data, signature)

    return verify


def published_keys(*, uow_factory: Callable[[], UnitOfWork]) -> dict[str, Any]:
    """The JWK Set of the lender's live signing keys, as the database holds them."""
    with uow_factory() as uow:
        live = [k for k in uow.credentials.signing_keys() if k.retired_at is None]
    return {"keys": [public_jwk(k.public_x) for k in live]}


def verify(members: Mapping[str, bytes], *, keys: KeyVault,
           published: Mapping[str, Any] | None = None,
           uow_factory: Callable[[], UnitOfWork] | None = None) -> chain.BundleReport:
    """Verify a bundle against the lender's published keys: a JWKS given, or the keys in the
    database (never the copy inside the bundle, which whoever altered it could replace)."""
    if published is None:
        if uow_factory is None:
            raise DomainError("jwks", "give the lender's published keys or a database")
        published = published_keys(uow_factory=uow_factory)
    return chain.verify_bundle(members, trusted_verifier(published, keys))


# --- retention -----------------------------------------------------------------------------


def purge(as_of: date, *, uow_factory: Callable[[], UnitOfWork], clock: Clock,
          zone: str = "UTC") -> int:
    """Purge the payloads and files of every chain whose retention ended by `as_of` (counted
    from its last event); the entries' hashes stay, so the chains still verify. Returns the
    number of entries purged. `as_of` may not be after today (in `zone`): a date to come
    would drop what retention still requires."""
    now = clock.now()
    today = now.astimezone(ZoneInfo(zone)).date()
    if as_of > today:
        raise DomainError("--as-of", f"{as_of} is after today ({today}); retention is counted "
                                     "to a day that has come")
    purged = 0
    with uow_factory() as uow:
        products = uow.book.products()
        longest = max(RETENTION_YEARS.values())
        for borrower_id, last_at, codes in uow.evidence.chain_ages():
            # A product this book no longer defines (or a new jurisdiction) keeps the longest.
            years = max((RETENTION_YEARS.get(products[c].jurisdiction.upper(), longest)
                         if c in products else longest for c in codes), default=longest)
            if as_of >= chain.years_after(last_at.astimezone(UTC).date(), years):
                purged += uow.evidence.purge(borrower_id, now)
        uow.commit()
    return purged
