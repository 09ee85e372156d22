"""web: staff users (Argon2 password hashes) and borrowers' one-time sign-in codes (hashes)

Revision ID: 8b3e1f7c5a20
Revises: d41f6b2e8a93
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '8b3e1f7c5a20'
down_revision = 'd41f6b2e8a93'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'web_user',
        sa.Column('id', ID, autoincrement=True, nullable=False),
        sa.Column('name', sa.String(length=20), nullable=False),
        sa.Column('role', sa.String(length=20), nullable=False),
        sa.Column('agency_ref', sa.String(length=40), nullable=True),
        sa.Column('collector_ref', sa.String(length=40), nullable=True),
        sa.Column('password_hash', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_web_user')),
        sa.UniqueConstraint('name', name=op.f('uq_web_user_name')),
    )
    op.create_table(
        'login_code',
        sa.Column('id', ID, autoincrement=True, nullable=False),
        sa.Column('borrower_id', ID, nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['borrower_id'], ['borrower.id'],
                                name=op.f('fk_login_code_borrower_id_borrower')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_login_code')),
    )
    with op.batch_alter_table('login_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_code_borrower_id'), ['borrower_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('login_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_code_borrower_id'))
    op.drop_table('login_code')
    op.drop_table('web_user')
