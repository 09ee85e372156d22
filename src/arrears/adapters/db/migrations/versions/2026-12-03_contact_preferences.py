"""contact preferences: borrowers' opt-outs, requests to stop and inconvenient times

Revision ID: 3a8e61f0c2d5
Revises: b7d35e0c41a9
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '3a8e61f0c2d5'
down_revision = 'b7d35e0c41a9'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('contact_preference',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('borrower_id', ID, nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('channels', sa.String(length=100), server_default='', nullable=False),
    sa.Column('in_writing', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('contact_point', sa.String(length=20), server_default='', nullable=False),
    sa.Column('window_start', sa.Time(), nullable=True),
    sa.Column('window_end', sa.Time(), nullable=True),
    sa.Column('weekdays', sa.String(length=20), server_default='', nullable=False),
    sa.Column('revokes_id', ID, nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_via', sa.String(length=10), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['borrower_id'], ['borrower.id'], name=op.f('fk_contact_preference_borrower_id_borrower')),
    sa.ForeignKeyConstraint(['revokes_id'], ['contact_preference.id'], name=op.f('fk_contact_preference_revokes_id_contact_preference')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_preference')),
    sa.UniqueConstraint('revokes_id', name=op.f('uq_contact_preference_revokes_id'))
    )
    with op.batch_alter_table('contact_preference', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_preference_borrower_id'), ['borrower_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('contact_preference', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_preference_borrower_id'))
    op.drop_table('contact_preference')
