"""Tables for the lender's public signing keys and the evidence log (chains, attached files,
checkpoints). They share `tables.metadata`; signed credentials live in
`collections_tables.collector_credential`.

Hashes are lowercase hex SHA-256; key ids are RFC 7638 thumbprints (base64url).
"""

from __future__ import annotations

import sqlalchemy as sa

from arrears.adapters.db.tables import Id, Instant, metadata

# The public half of every signing key the lender used; the private half is in the key vault.
signing_key = sa.Table(
    "signing_key", metadata,
    sa.Column("kid", sa.String(64), primary_key=True),
    sa.Column("public_x", sa.String(64), nullable=False),  # base64url raw Ed25519 key
    sa.Column("created_at", Instant, nullable=False),
    sa.Column("retired_at", Instant, nullable=True),
)

# One row per borrower with evidence: the chain's last entry. Appends lock it, so two
# transactions appending to one chain queue instead of forking it.
evidence_chain = sa.Table(
    "evidence_chain", metadata,
    sa.Column("borrower_id", Id, sa.ForeignKey("borrower.id"), primary_key=True),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("head", sa.String(64), nullable=False),
)

# Append-only. `hashed` is the canonical JSON of the hashed fields, exactly as hashed;
# `payload` (canonical JSON) is dropped when the retention period ends, its digest stays.
evidence_entry = sa.Table(
    "evidence_entry", metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("borrower_id", Id, sa.ForeignKey("borrower.id"), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(30), nullable=False),
    sa.Column("at", Instant, nullable=False),
    sa.Column("hashed", sa.Text, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Column("payload", sa.Text, nullable=True),
    sa.Column("purged_at", Instant, nullable=True),
    sa.UniqueConstraint("borrower_id", "seq"),
)

evidence_file = sa.Table(
    "evidence_file", metadata,
    sa.Column("entry_id", Id, sa.ForeignKey("evidence_entry.id"), primary_key=True),
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("content", sa.LargeBinary, nullable=True),  # None once purged
)

# The signed Merkle root over every chain head, and the heads it covered (in leaf order), so
# an export can prove one chain's inclusion without showing anyone else's.
evidence_checkpoint = sa.Table(
    "evidence_checkpoint", metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("at", Instant, nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("root", sa.String(64), nullable=False),
    sa.Column("kid", sa.String(64), nullable=False),
    sa.Column("token", sa.Text, nullable=False),
)

evidence_checkpoint_leaf = sa.Table(
    "evidence_checkpoint_leaf", metadata,
    sa.Column("checkpoint_id", Id, sa.ForeignKey("evidence_checkpoint.id"), primary_key=True),
    sa.Column("leaf_index", sa.Integer, primary_key=True),
    sa.Column("borrower_id", Id, sa.ForeignKey("borrower.id"), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
)
