"""Web sign-in tables: staff users (an Argon2 hash of each password, never the password) and
borrowers' one-time sign-in codes (a hash of each code). They share `tables.metadata`, so
Alembic and the demo's drop-and-recreate see them with the loan book."""

from __future__ import annotations

import sqlalchemy as sa

from arrears.adapters.db.tables import Id, Instant, metadata

web_user = sa.Table(
    "web_user", metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(20), nullable=False, unique=True),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("agency_ref", sa.String(40), nullable=True),
    sa.Column("collector_ref", sa.String(40), nullable=True),
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.Column("created_at", Instant, nullable=False),
    sa.Column("disabled_at", Instant, nullable=True),
)

login_code = sa.Table(
    "login_code", metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("borrower_id", Id, sa.ForeignKey("borrower.id"), nullable=False, index=True),
    sa.Column("code_hash", sa.String(64), nullable=False),  # SHA-256 hex of the six digits
    sa.Column("created_at", Instant, nullable=False),
    sa.Column("expires_at", Instant, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("used_at", Instant, nullable=True),
)
