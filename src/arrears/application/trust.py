"""Ports for signed collector credentials and the evidence log: the key vault that holds the
lender's private signing keys, and the stores (inside a unit of work) for public keys,
credentials, evidence chains and checkpoints. Adapters: `arrears.adapters.signing` and
`arrears.adapters.db.trust_store`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from arrears.domain.evidence import Entry


class KeyVault(Protocol):
    """Private Ed25519 keys, kept outside the database and the repository."""

    def generate(self) -> tuple[str, str]:
        """Make and keep a new key pair; returns (key id, public key as base64url)."""
        ...

    def sign(self, kid: str, data: bytes) -> bytes:
        """Sign with the private key `kid`; DomainError('signing_key', …) if it is not here."""
        ...

    def verify(self, public_x: str, data: bytes, signature: bytes) -> bool: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class SigningKey:
    kid: str
    public_x: str
    created_at: datetime
    retired_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CredentialRecord:
    """A signed credential as filed: the token and what it was issued for."""

    credential_ref: str
    collector_ref: str
    """'' for an agency placement credential."""
    agency_ref: str
    loan_ref: str
    """'' for a collector's general badge."""
    scope: tuple[str, ...]
    valid_from: datetime
    valid_until: datetime
    visit_on: date | None
    kid: str
    token: str
    issued_at: datetime
    revoked_at: datetime | None = None


class CredentialStore(Protocol):
    """Public signing keys and signed credentials, inside one unit of work. Never commits."""

    def signing_keys(self) -> list[SigningKey]:
        """Every key ever used, oldest first (retired ones too)."""
        ...

    def add_signing_key(self, key: SigningKey) -> None: ...
    def retire_signing_key(self, kid: str, at: datetime) -> bool: ...
    def collector_name(self, collector_ref: str) -> str | None:
        """The name of an active collector on file."""
        ...

    def placement_ends(self, loan_id: int, agency_ref: str, on: date) -> date | None:
        """The end (exclusive) of the agency's placement covering the loan on `on`."""
        ...

    def add_credential(self, record: CredentialRecord) -> None: ...
    def credential(self, credential_ref: str) -> CredentialRecord | None: ...
    def revoke(self, credential_ref: str, at: datetime) -> bool:
        """False when it was already revoked."""
        ...

    def held_on_case(self, case_id: int, at: datetime, *, collector_ref: str = "",
                     agency_ref: str = "", every_collector: bool = False
                     ) -> list[tuple[str, int]]:
        """(credential id, borrower id) of each credential the collector (or the agency, or
        with `every_collector` any of the lender's collectors) holds on a loan of the case's
        borrower, not revoked and not expired at `at`."""
        ...
    def held_by_collector(self, collector_ref: str, at: datetime
                          ) -> list[tuple[str, int | None]]:
        """(credential id, borrower id of its loan, None for a badge) of each credential the
        collector holds, not revoked and not expired at `at`, by credential id."""
        ...
    def visit_notices(self, loan_id: int, visit_on: date, collector_refs: Sequence[str]
                      ) -> list[tuple[str, int]]:
        """(credential id, borrower id) of each visit credential for the loan on `visit_on`
        held by one of the collectors, not revoked, by credential id."""
        ...
    def revocations(self) -> list[tuple[str, datetime]]:
        """(credential id, revoked at) for every revoked credential, by credential id."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class EvidenceDraft:
    """An event to append to a borrower's chain (refs, never internal ids, in the payload)."""

    borrower_id: int
    kind: str
    at: datetime
    payload: Mapping[str, Any]
    files: Mapping[str, bytes]


@dataclass(frozen=True, slots=True, kw_only=True)
class Checkpoint:
    id: int
    day: date
    at: datetime
    size: int
    root: str
    kid: str
    token: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ChainHead:
    borrower_id: int
    borrower_ref: str
    seq: int
    head: str


class EvidenceStore(Protocol):
    """The evidence chains inside one unit of work. Never commits."""

    def append(self, drafts: Sequence[EvidenceDraft]) -> list[Entry]:
        """Link each draft onto its borrower's chain, in order (the chain heads are locked
        until the transaction ends, so concurrent appends queue)."""
        ...

    def borrower_id(self, borrower_ref: str) -> int | None: ...
    def entries(self, borrower_id: int) -> list[Entry]: ...
    def files(self, borrower_id: int) -> dict[str, bytes]:
        """Attached files still kept, as `files/<seq>/<name>`."""
        ...

    def heads(self) -> list[ChainHead]:
        """Every chain's last entry, in byte order of borrower id."""
        ...

    def add_checkpoint(self, checkpoint: Checkpoint, leaves: Sequence[ChainHead]) -> int: ...
    def latest_checkpoint(self) -> Checkpoint | None: ...
    def checkpoint_leaves(self, checkpoint_id: int) -> list[ChainHead]:
        """The chain heads a checkpoint signed, in leaf order."""
        ...

    def chain_ages(self) -> list[tuple[int, datetime, tuple[str, ...]]]:
        """(borrower id, last entry's instant, product codes of the borrower's loans) for
        every chain with entries not yet purged."""
        ...

    def purge(self, borrower_id: int, at: datetime) -> int:
        """Drop the payloads and files of the borrower's entries, keeping their hashes;
        returns entries purged."""
        ...
