"""disputes register: disputes and objections with their answers

Revision ID: e5a92c7d1f08
Revises: 8b3e1f7c5a20
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'e5a92c7d1f08'
down_revision = '8b3e1f7c5a20'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('dispute',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('dispute_ref', sa.String(length=20), nullable=True),
    sa.Column('loan_id', ID, nullable=False),
    sa.Column('borrower_id', ID, nullable=False),
    sa.Column('jurisdiction', sa.String(length=8), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('about', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('note', sa.Text(), server_default='', nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answered_on', sa.Date(), nullable=True),
    sa.Column('answer_note', sa.Text(), server_default='', nullable=False),
    sa.ForeignKeyConstraint(['borrower_id'], ['borrower.id'], name=op.f('fk_dispute_borrower_id_borrower')),
    sa.ForeignKeyConstraint(['loan_id'], ['loan.id'], name=op.f('fk_dispute_loan_id_loan')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dispute')),
    sa.UniqueConstraint('dispute_ref', name=op.f('uq_dispute_dispute_ref'))
    )
    op.create_index(op.f('ix_dispute_loan_id'), 'dispute', ['loan_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_dispute_loan_id'), table_name='dispute')
    op.drop_table('dispute')
