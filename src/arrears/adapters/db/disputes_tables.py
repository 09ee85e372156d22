"""The disputes register: one row per dispute or objection, with its answer. Shares
`tables.metadata`.

Instants are `_at` (timezone-aware, UTC), business dates `_on`.
"""

from __future__ import annotations

import sqlalchemy as sa

from arrears.adapters.db.tables import Id, Instant, metadata

dispute = sa.Table(
    "dispute", metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("dispute_ref", sa.String(20), nullable=True, unique=True),  # set from the id
    sa.Column("loan_id", Id, sa.ForeignKey("loan.id"), nullable=False, index=True),
    sa.Column("borrower_id", Id, sa.ForeignKey("borrower.id"), nullable=False),
    sa.Column("jurisdiction", sa.String(8), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("about", sa.String(16), nullable=False),
    sa.Column("channel", sa.String(10), nullable=False),
    sa.Column("received_at", Instant, nullable=False),
    sa.Column("received_on", sa.Date, nullable=False),
    sa.Column("note", sa.Text, nullable=False, server_default=""),
    sa.Column("outcome", sa.String(16), nullable=True),
    sa.Column("answered_at", Instant, nullable=True),
    sa.Column("answered_on", sa.Date, nullable=True),
    sa.Column("answer_note", sa.Text, nullable=False, server_default=""),
)
