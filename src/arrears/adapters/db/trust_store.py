"""Signing keys, signed credentials and the evidence log on SQLAlchemy Core
(`CredentialStore`, `EvidenceStore`)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from arrears.adapters.db import collections_tables as ct
from arrears.adapters.db import tables as t
from arrears.adapters.db import trust_tables as tt
from arrears.adapters.db.book import (
    driver_form,
    execute_rows,
    insert_rows,
    new_ids,
)
from arrears.adapters.db.messages import aware, utc
from arrears.application.trust import (
    ChainHead,
    Checkpoint,
    CredentialRecord,
    EvidenceDraft,
    SigningKey,
)
from arrears.domain import evidence as chain


def _aware(value: datetime) -> datetime:
    found = aware(value)
    assert found is not None
    return found


class SqlCredentials:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def signing_keys(self) -> list[SigningKey]:
        k = tt.signing_key.c
        rows = self.connection.execute(sa.select(tt.signing_key).order_by(k.created_at, k.kid))
        return [SigningKey(kid=r.kid, public_x=r.public_x, created_at=_aware(r.created_at),
                           retired_at=aware(r.retired_at)) for r in rows]

    def add_signing_key(self, key: SigningKey) -> None:
        self.connection.execute(tt.signing_key.insert().values(
            kid=key.kid, public_x=key.public_x, created_at=utc(key.created_at)))

    def retire_signing_key(self, kid: str, at: datetime) -> bool:
        k = tt.signing_key.c
        done = self.connection.execute(tt.signing_key.update().where(
            k.kid == kid, k.retired_at.is_(None)).values(retired_at=utc(at)))
        return done.rowcount == 1

    def collector_name(self, collector_ref: str) -> str | None:
        c = ct.collector.c
        # FOR SHARE (PostgreSQL): a deactivation committing meanwhile waits for the credential
        # issued under this read, then revokes it with the rest.
        return self.connection.scalar(sa.select(c.name).where(
            c.collector_ref == collector_ref, c.active.is_(True)).with_for_update(read=True))

    def placement_ends(self, loan_id: int, agency_ref: str, on: date) -> date | None:
        p, a, pl = ct.placement.c, ct.agency.c, ct.placement_loan.c
        row = self.connection.execute(
            sa.select(p.ends_on, p.recalled_on)
            .select_from(ct.placement.join(ct.agency, a.id == p.agency_id)
                         .join(ct.placement_loan, pl.placement_id == p.id))
            .where(pl.loan_id == loan_id, a.agency_ref == agency_ref, p.placed_on <= on,
                   p.ends_on >= on, sa.or_(p.recalled_on.is_(None), p.recalled_on > on))
            .order_by(p.ends_on.desc())).first()
        if row is None:
            return None
        # In force through ends_on, or through the day before a recall.
        return row.ends_on if row.recalled_on is None else \
            min(row.ends_on, row.recalled_on - timedelta(days=1))

    def add_credential(self, record: CredentialRecord) -> None:
        def ref_id(table: sa.Table, column: str, value: str) -> int | None:
            if not value:
                return None
            return self.connection.scalar(sa.select(table.c.id).where(
                table.c[column] == value))

        self.connection.execute(ct.collector_credential.insert().values(
            credential_ref=record.credential_ref,
            collector_id=ref_id(ct.collector, "collector_ref", record.collector_ref),
            agency_id=ref_id(ct.agency, "agency_ref", record.agency_ref),
            loan_id=ref_id(t.loan, "loan_ref", record.loan_ref),
            scope=",".join(record.scope), valid_from=utc(record.valid_from),
            valid_until=utc(record.valid_until), visit_on=record.visit_on, kid=record.kid,
            token=record.token, issued_at=utc(record.issued_at)))

    def credential(self, credential_ref: str) -> CredentialRecord | None:
        cred = ct.collector_credential
        query = (
            sa.select(cred, ct.collector.c.collector_ref, ct.agency.c.agency_ref,
                      t.loan.c.loan_ref)
            .select_from(cred.outerjoin(ct.collector, ct.collector.c.id == cred.c.collector_id)
                         .outerjoin(ct.agency, ct.agency.c.id == cred.c.agency_id)
                         .outerjoin(t.loan, t.loan.c.id == cred.c.loan_id))
            .where(cred.c.credential_ref == credential_ref))
        row = self.connection.execute(query).first()
        if row is None:
            return None
        return CredentialRecord(
            credential_ref=row.credential_ref, collector_ref=row.collector_ref or "",
            agency_ref=row.agency_ref or "", loan_ref=row.loan_ref or "",
            scope=tuple(s for s in row.scope.split(",") if s),
            valid_from=_aware(row.valid_from), valid_until=_aware(row.valid_until),
            visit_on=row.visit_on, kid=row.kid, token=row.token,
            issued_at=_aware(row.issued_at or row.valid_from),
            revoked_at=aware(row.revoked_at))

    def revoke(self, credential_ref: str, at: datetime) -> bool:
        c = ct.collector_credential.c
        done = self.connection.execute(ct.collector_credential.update().where(
            c.credential_ref == credential_ref, c.revoked_at.is_(None)).values(
            revoked_at=utc(at)))
        return done.rowcount == 1

    def held_on_case(self, case_id: int, at: datetime, *, collector_ref: str = "",
                     agency_ref: str = "", every_collector: bool = False
                     ) -> list[tuple[str, int]]:
        c, loan, case = ct.collector_credential.c, t.loan.c, ct.collection_case.c
        holder = (c.agency_id == sa.select(ct.agency.c.id).where(
            ct.agency.c.agency_ref == agency_ref).scalar_subquery()) if agency_ref else (
            c.collector_id.is_not(None)) if every_collector else (
            c.collector_id == sa.select(ct.collector.c.id).where(
                ct.collector.c.collector_ref == collector_ref).scalar_subquery())
        rows = self.connection.execute(
            sa.select(c.credential_ref, loan.borrower_id)
            .select_from(ct.collector_credential
                         .join(t.loan, loan.id == c.loan_id)
                         .join(ct.collection_case, case.borrower_id == loan.borrower_id))
            .where(case.id == case_id, holder, c.revoked_at.is_(None),
                   c.valid_until > utc(at))
            .order_by(c.credential_ref))
        return [(ref, int(borrower_id)) for ref, borrower_id in rows]

    def held_by_collector(self, collector_ref: str, at: datetime
                          ) -> list[tuple[str, int | None]]:
        c, loan = ct.collector_credential.c, t.loan.c
        rows = self.connection.execute(
            sa.select(c.credential_ref, loan.borrower_id)
            .select_from(ct.collector_credential.outerjoin(t.loan, loan.id == c.loan_id))
            .where(c.collector_id == sa.select(ct.collector.c.id).where(
                ct.collector.c.collector_ref == collector_ref).scalar_subquery(),
                c.revoked_at.is_(None), c.valid_until > utc(at))
            .order_by(c.credential_ref))
        return [(ref, None if borrower_id is None else int(borrower_id))
                for ref, borrower_id in rows]

    def visit_notices(self, loan_id: int, visit_on: date, collector_refs: Sequence[str]
                      ) -> list[tuple[str, int]]:
        c, loan, collector = ct.collector_credential.c, t.loan.c, ct.collector.c
        rows = self.connection.execute(
            sa.select(c.credential_ref, loan.borrower_id)
            .select_from(ct.collector_credential.join(t.loan, loan.id == c.loan_id)
                         .join(ct.collector, collector.id == c.collector_id))
            .where(c.loan_id == loan_id, c.visit_on == visit_on, c.revoked_at.is_(None),
                   collector.collector_ref.in_(list(collector_refs)))
            .order_by(c.credential_ref))
        return [(ref, int(borrower_id)) for ref, borrower_id in rows]

    def revocations(self) -> list[tuple[str, datetime]]:
        c = ct.collector_credential.c
        rows = self.connection.execute(sa.select(c.credential_ref, c.revoked_at).where(
            c.revoked_at.is_not(None)).order_by(c.credential_ref))
        return [(ref, _aware(at)) for ref, at in rows]


# The statements of `SqlEvidence.append`, built once: a strategy run appends a chunk's
# entries a hundred loans at a time, and building them cost as much as running them.
NEW_CHAINS = {name: insert(tt.evidence_chain).on_conflict_do_nothing()
              for name, insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))}
_chain, _entry = tt.evidence_chain.c, tt.evidence_entry.c
# Each chain's head with its borrower's ref, which every entry names; the heads alone are
# locked (PostgreSQL: two writers to one chain would both take its next number).
HEADS_OF = (sa.select(_chain.borrower_id, _chain.seq, _chain.head, t.borrower.c.borrower_ref)
            .join_from(tt.evidence_chain, t.borrower, t.borrower.c.id == _chain.borrower_id)
            .where(_chain.borrower_id.in_(sa.bindparam("ids", expanding=True)))
            .order_by(_chain.borrower_id).with_for_update(of=tt.evidence_chain))
ENTRY_COLUMNS = ("id", "borrower_id", "seq", "kind", "at", "hashed", "hash", "payload")
FILE_COLUMNS = ("entry_id", "name", "sha256", "content")
UPDATE_HEAD = tt.evidence_chain.update().where(
    tt.evidence_chain.c.borrower_id == sa.bindparam("b_id")).values(
        seq=sa.bindparam("b_seq"), head=sa.bindparam("b_head"))


class SqlEvidence:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def _lock_heads(self, borrower_ids: Sequence[int]) -> dict[int, tuple[int, str, str]]:
        """Lock the chains' head rows (creating empty ones for new chains): each borrower's
        (last number, head hash, borrower ref)."""
        execute_rows(self.connection, NEW_CHAINS[self.connection.dialect.name],
                     ("borrower_id", "seq", "head"),
                     [(borrower_id, 0, chain.GENESIS) for borrower_id in borrower_ids])
        return {borrower_id: (seq, head, ref) for borrower_id, seq, head, ref
                in self.connection.execute(HEADS_OF, {"ids": borrower_ids})}

    def append(self, drafts: Sequence[EvidenceDraft]) -> list[chain.Entry]:
        if not drafts:
            return []
        connection = self.connection
        heads = self._lock_heads(sorted({d.borrower_id for d in drafts}))
        instant = driver_form(connection.dialect, _entry.at.type)
        linked: list[chain.Entry] = []
        rows: list[tuple[Any, ...]] = []
        for draft in drafts:
            seq, head, ref = heads[draft.borrower_id]
            made = chain.link(borrower=ref, prev_seq=seq, prev_hash=head, kind=draft.kind,
                              at=draft.at, payload=draft.payload)
            entry = made.entry
            heads[draft.borrower_id] = (entry.seq, entry.hash, ref)
            linked.append(entry)
            rows.append((draft.borrower_id, entry.seq, draft.kind, instant(utc(draft.at)),
                         made.hashed_json.decode(), entry.hash, made.payload_json.decode()))
        # An entry's files are keyed by its id, taken before either is written.
        ids = new_ids(connection, tt.evidence_entry, len(rows))
        insert_rows(connection, tt.evidence_entry, ENTRY_COLUMNS,
                    [(id_, *row) for id_, row in zip(ids, rows, strict=True)])
        insert_rows(connection, tt.evidence_file, FILE_COLUMNS, [
            (id_, name, chain.sha256_hex(data), data)
            for id_, draft in zip(ids, drafts, strict=True) for name, data in draft.files.items()])
        execute_rows(connection, UPDATE_HEAD, ("b_id", "b_seq", "b_head"),
                     [(borrower_id, seq, head) for borrower_id, (seq, head, _) in heads.items()])
        return linked

    def borrower_id(self, borrower_ref: str) -> int | None:
        return self.connection.scalar(sa.select(t.borrower.c.id).where(
            t.borrower.c.borrower_ref == borrower_ref))

    def entries(self, borrower_id: int) -> list[chain.Entry]:
        e = tt.evidence_entry.c
        rows = self.connection.execute(sa.select(e.hashed, e.hash, e.payload).where(
            e.borrower_id == borrower_id).order_by(e.seq))
        return [chain.Entry(**json.loads(r.hashed), hash=r.hash,
                            payload=None if r.payload is None else json.loads(r.payload))
                for r in rows]

    def files(self, borrower_id: int) -> dict[str, bytes]:
        e, f = tt.evidence_entry.c, tt.evidence_file.c
        rows = self.connection.execute(
            sa.select(e.seq, f.name, f.content)
            .select_from(tt.evidence_file.join(tt.evidence_entry, e.id == f.entry_id))
            .where(e.borrower_id == borrower_id, f.content.is_not(None)))
        return {f"files/{r.seq}/{r.name}": bytes(r.content) for r in rows}

    def heads(self) -> list[ChainHead]:
        c, b = tt.evidence_chain.c, t.borrower.c
        rows = self.connection.execute(
            sa.select(c.borrower_id, b.borrower_ref, c.seq, c.head)
            .select_from(tt.evidence_chain.join(t.borrower, b.id == c.borrower_id))
            .where(c.seq > 0))
        heads = [ChainHead(borrower_id=r.borrower_id, borrower_ref=r.borrower_ref, seq=r.seq,
                           head=r.head) for r in rows]
        return sorted(heads, key=lambda h: h.borrower_ref.encode())  # byte order, any collation

    def add_checkpoint(self, checkpoint: Checkpoint, leaves: Sequence[ChainHead]) -> int:
        checkpoint_id = int(self.connection.execute(tt.evidence_checkpoint.insert().values(
            day=checkpoint.day, at=utc(checkpoint.at), size=checkpoint.size,
            root=checkpoint.root, kid=checkpoint.kid, token=checkpoint.token
        )).inserted_primary_key[0])
        if leaves:
            self.connection.execute(tt.evidence_checkpoint_leaf.insert(), [
                {"checkpoint_id": checkpoint_id, "leaf_index": i, "borrower_id": h.borrower_id,
                 "seq": h.seq} for i, h in enumerate(leaves)])
        return checkpoint_id

    def latest_checkpoint(self) -> Checkpoint | None:
        c = tt.evidence_checkpoint.c
        row = self.connection.execute(sa.select(tt.evidence_checkpoint).order_by(
            c.id.desc()).limit(1)).first()
        if row is None:
            return None
        return Checkpoint(id=row.id, day=row.day, at=_aware(row.at), size=row.size,
                          root=row.root, kid=row.kid, token=row.token)

    def checkpoint_leaves(self, checkpoint_id: int) -> list[ChainHead]:
        leaf, e, b = tt.evidence_checkpoint_leaf.c, tt.evidence_entry.c, t.borrower.c
        rows = self.connection.execute(
            sa.select(leaf.borrower_id, b.borrower_ref, leaf.seq, e.hash)
            .select_from(tt.evidence_checkpoint_leaf
                         .join(t.borrower, b.id == leaf.borrower_id)
                         .join(tt.evidence_entry, sa.and_(e.borrower_id == leaf.borrower_id,
                                                          e.seq == leaf.seq)))
            .where(leaf.checkpoint_id == checkpoint_id).order_by(leaf.leaf_index))
        return [ChainHead(borrower_id=r.borrower_id, borrower_ref=r.borrower_ref, seq=r.seq,
                          head=r.hash) for r in rows]

    def chain_ages(self) -> list[tuple[int, datetime, tuple[str, ...]]]:
        e, loan = tt.evidence_entry.c, t.loan.c
        last = {r.borrower_id: r.last_at for r in self.connection.execute(
            sa.select(e.borrower_id, sa.func.max(e.at).label("last_at")).group_by(e.borrower_id)
            .having(sa.func.count(e.purged_at) < sa.func.count()))}
        products: defaultdict[int, set[str]] = defaultdict(set)
        for borrower_id, code in self.connection.execute(
                sa.select(loan.borrower_id, loan.product_code).where(
                    loan.borrower_id.in_(list(last))).distinct()):
            products[borrower_id].add(code)
        return [(b_id, _aware(at), tuple(sorted(products[b_id])))
                for b_id, at in sorted(last.items())]

    def purge(self, borrower_id: int, at: datetime) -> int:
        e, f = tt.evidence_entry.c, tt.evidence_file.c
        ids = sa.select(e.id).where(e.borrower_id == borrower_id).scalar_subquery()
        self.connection.execute(tt.evidence_file.update().where(f.entry_id.in_(ids)).values(
            content=None))
        done = self.connection.execute(tt.evidence_entry.update().where(
            e.borrower_id == borrower_id, e.purged_at.is_(None)).values(
            payload=None, purged_at=utc(at)))
        return int(done.rowcount)
