"""bulk payment files: one row per imported line, keyed for idempotence

Revision ID: b2d4f6a8c013
Revises: a1c9e0f4b712
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'b2d4f6a8c013'
down_revision = 'a1c9e0f4b712'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('payment_import',
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('row_key', sa.String(length=64), nullable=False),
    sa.Column('payment_id', ID, nullable=False),
    sa.Column('file_sha256', sa.String(length=64), nullable=False),
    sa.Column('line', sa.Integer(), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['payment_id'], ['payment.id'], name=op.f('fk_payment_import_payment_id_payment')),
    sa.PrimaryKeyConstraint('source', 'row_key', name=op.f('pk_payment_import')),
    sa.UniqueConstraint('payment_id', name=op.f('uq_payment_import_payment_id'))
    )


def downgrade() -> None:
    op.drop_table('payment_import')
