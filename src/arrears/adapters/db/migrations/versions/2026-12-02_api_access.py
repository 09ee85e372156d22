"""api access: API keys (hashes only) and the access log of staff reads of personal data

Revision ID: 4f6a0d2e9b17
Revises: 9e4b2c71d8a3
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '4f6a0d2e9b17'
down_revision = '9e4b2c71d8a3'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'api_key',
        sa.Column('id', ID, autoincrement=True, nullable=False),
        sa.Column('key_ref', sa.String(length=24), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('role', sa.String(length=20), nullable=False),
        sa.Column('scopes', sa.String(length=400), server_default='', nullable=False),
        sa.Column('agency_ref', sa.String(length=40), nullable=True),
        sa.Column('collector_ref', sa.String(length=40), nullable=True),
        sa.Column('secret_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_api_key')),
        sa.UniqueConstraint('key_ref', name=op.f('uq_api_key_key_ref')),
    )
    op.create_table(
        'access_log',
        sa.Column('id', ID, autoincrement=True, nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('key_ref', sa.String(length=24), nullable=False),
        sa.Column('role', sa.String(length=20), nullable=False),
        sa.Column('route', sa.String(length=80), nullable=False),
        sa.Column('loan_ref', sa.String(length=64), nullable=True),
        sa.Column('borrower_ref', sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_access_log')),
    )
    with op.batch_alter_table('access_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_log_borrower_ref'), ['borrower_ref'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('access_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_log_borrower_ref'))
    op.drop_table('access_log')
    op.drop_table('api_key')
