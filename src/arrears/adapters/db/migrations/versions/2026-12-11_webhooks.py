"""webhook subscriptions and deliveries: subscribers (no secrets kept) and a partial index
of the outbox's undispatched events (deliveries travel in `message`)

Revision ID: c3e5a7b9d124
Revises: b2d4f6a8c013
Create Date: 2026-12-11
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'c3e5a7b9d124'
down_revision = 'b2d4f6a8c013'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'webhook_subscription',
        sa.Column('id', ID, autoincrement=True, nullable=False),
        sa.Column('subscription_ref', sa.String(length=24), nullable=False),
        sa.Column('url', sa.String(length=2000), nullable=False),
        sa.Column('event_types', sa.String(length=400), nullable=False),
        sa.Column('salt', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_subscription')),
        sa.UniqueConstraint('subscription_ref', name=op.f('uq_webhook_subscription_subscription_ref')),
    )
    # No subscriber existed before this revision, so no event raised until now is wanted:
    # marked dispatched, they stay out of the partial index and the dispatcher's first pass.
    op.execute("UPDATE outbox SET status = 'dispatched' WHERE status = 'pending'")
    op.create_index('ix_outbox_pending', 'outbox', ['id'], unique=False,
                    sqlite_where=sa.text("status = 'pending'"),
                    postgresql_where=sa.text("status = 'pending'"))


def downgrade() -> None:
    op.drop_index('ix_outbox_pending', table_name='outbox')
    op.drop_table('webhook_subscription')
