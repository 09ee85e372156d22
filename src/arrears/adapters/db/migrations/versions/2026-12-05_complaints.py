"""complaints register: complaints with their clocks, the parties and contacts they concern

Revision ID: 6d2f8b0a7c31
Revises: 3c8e5a1f9d42
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '6d2f8b0a7c31'
down_revision = '3c8e5a1f9d42'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('complaint',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('complaint_ref', sa.String(length=20), nullable=True),
    sa.Column('borrower_id', ID, nullable=False),
    sa.Column('loan_id', ID, nullable=False),
    sa.Column('source', sa.String(length=12), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('team', sa.String(length=16), nullable=False),
    sa.Column('jurisdiction', sa.String(length=8), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('filed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('filed_on', sa.Date(), nullable=False),
    sa.Column('acknowledge_by', sa.Date(), nullable=False),
    sa.Column('answer_by', sa.Date(), nullable=False),
    sa.Column('extended_on', sa.Date(), nullable=True),
    sa.Column('acknowledged_on', sa.Date(), nullable=True),
    sa.Column('answered_on', sa.Date(), nullable=True),
    sa.Column('answer', sa.Text(), server_default='', nullable=False),
    sa.Column('escalated_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['borrower_id'], ['borrower.id'], name=op.f('fk_complaint_borrower_id_borrower')),
    sa.ForeignKeyConstraint(['loan_id'], ['loan.id'], name=op.f('fk_complaint_loan_id_loan')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaint')),
    sa.UniqueConstraint('complaint_ref', name=op.f('uq_complaint_complaint_ref'))
    )
    op.create_index(op.f('ix_complaint_borrower_id'), 'complaint', ['borrower_id'], unique=False)
    op.create_table('complaint_party',
    sa.Column('complaint_id', ID, nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('ref', sa.String(length=60), nullable=False),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaint.id'], name=op.f('fk_complaint_party_complaint_id_complaint')),
    sa.PrimaryKeyConstraint('complaint_id', 'kind', 'ref', name=op.f('pk_complaint_party'))
    )
    op.create_table('complaint_contact',
    sa.Column('complaint_id', ID, nullable=False),
    sa.Column('contact_id', ID, nullable=False),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaint.id'], name=op.f('fk_complaint_contact_complaint_id_complaint')),
    sa.ForeignKeyConstraint(['contact_id'], ['contact_log.id'], name=op.f('fk_complaint_contact_contact_id_contact_log')),
    sa.PrimaryKeyConstraint('complaint_id', 'contact_id', name=op.f('pk_complaint_contact'))
    )


def downgrade() -> None:
    op.drop_table('complaint_contact')
    op.drop_table('complaint_party')
    op.drop_index(op.f('ix_complaint_borrower_id'), table_name='complaint')
    op.drop_table('complaint')
