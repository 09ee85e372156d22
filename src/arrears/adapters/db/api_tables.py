"""HTTP API tables: API keys (only a hash of each key is kept), the access log of staff reads
of borrowers' personal data, and webhook subscriptions. They share `tables.metadata`, so
Alembic and the demo's drop-and-recreate see them with the loan book."""

from __future__ import annotations

import sqlalchemy as sa

from arrears.adapters.db import tables as t
from arrears.adapters.db.tables import Id, Instant, metadata

api_key = sa.Table(
    "api_key", metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    # The public half of a key (`arr_<key_ref>_<secret>`): finds the row without a scan.
    sa.Column("key_ref", sa.String(24), nullable=False, unique=True),
    sa.Column("name", sa.String(80), nullable=False),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("scopes", sa.String(400), nullable=False, server_default=""),  # space separated
    sa.Column("agency_ref", sa.String(40), nullable=True),
    sa.Column("collector_ref", sa.String(40), nullable=True),
    sa.Column("secret_hash", sa.String(64), nullable=False),  # SHA-256 hex of the secret half
    sa.Column("created_at", Instant, nullable=False),
    sa.Column("revoked_at", Instant, nullable=True),
)

# Who read whose personal data, through which route: identifiers only, never the data itself.
access_log = sa.Table(
    "access_log", metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("at", Instant, nullable=False),
    sa.Column("key_ref", sa.String(24), nullable=False),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("route", sa.String(80), nullable=False),
    sa.Column("loan_ref", sa.String(64), nullable=True),
    sa.Column("borrower_ref", sa.String(64), nullable=True, index=True),
)

# Webhook subscribers. No secret is kept: a subscription's signing secret is derived from the
# server's ARREARS_WEBHOOK_SECRET and its salt (`application.webhooks`).
webhook_subscription = sa.Table(
    "webhook_subscription", metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("subscription_ref", sa.String(24), nullable=False, unique=True),
    sa.Column("url", sa.String(2000), nullable=False),
    sa.Column("event_types", sa.String(400), nullable=False),  # space separated, or "*"
    sa.Column("salt", sa.String(64), nullable=False),
    sa.Column("created_at", Instant, nullable=False),
    sa.Column("removed_at", Instant, nullable=True),
)

# The webhook dispatcher reads the outbox's undispatched events, oldest first. Without an
# index each pass would scan every event the book ever raised; a partial one holds only the
# few waiting, however long the outbox grows.
outbox_pending = sa.Index("ix_outbox_pending", t.outbox.c.id,
                          sqlite_where=t.outbox.c.status == "pending",
                          postgresql_where=t.outbox.c.status == "pending")
