"""The complaints register: one row per complaint with its clocks, and the collectors,
agencies and logged contacts it concerns. Shares `tables.metadata`.

Instants are `_at` (timezone-aware, UTC), business dates `_on`.
"""

from __future__ import annotations

import sqlalchemy as sa

from arrears.adapters.db.tables import Id, Instant, metadata

complaint = sa.Table(
    "complaint", metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("complaint_ref", sa.String(20), nullable=True, unique=True),  # set from the id
    sa.Column("borrower_id", Id, sa.ForeignKey("borrower.id"), nullable=False, index=True),
    sa.Column("loan_id", Id, sa.ForeignKey("loan.id"), nullable=False),
    sa.Column("source", sa.String(12), nullable=False),
    sa.Column("category", sa.String(16), nullable=False),
    sa.Column("team", sa.String(16), nullable=False),
    sa.Column("jurisdiction", sa.String(8), nullable=False),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("filed_at", Instant, nullable=False),
    sa.Column("filed_on", sa.Date, nullable=False),
    sa.Column("acknowledge_by", sa.Date, nullable=False),
    sa.Column("answer_by", sa.Date, nullable=False),
    sa.Column("extended_on", sa.Date, nullable=True),
    sa.Column("acknowledged_on", sa.Date, nullable=True),
    sa.Column("answered_on", sa.Date, nullable=True),
    sa.Column("answer", sa.Text, nullable=False, server_default=""),
    sa.Column("escalated_on", sa.Date, nullable=True),
)

# The collectors and agencies a complaint is about (kind: collector | agency, by their refs).
complaint_party = sa.Table(
    "complaint_party", metadata,
    sa.Column("complaint_id", Id, sa.ForeignKey("complaint.id"), primary_key=True),
    sa.Column("kind", sa.String(10), primary_key=True),
    sa.Column("ref", sa.String(60), primary_key=True),
)

complaint_contact = sa.Table(
    "complaint_contact", metadata,
    sa.Column("complaint_id", Id, sa.ForeignKey("complaint.id"), primary_key=True),
    sa.Column("contact_id", Id, sa.ForeignKey("contact_log.id"), primary_key=True),
)
