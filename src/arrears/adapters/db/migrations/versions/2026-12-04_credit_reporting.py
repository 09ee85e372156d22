"""credit reporting: monthly snapshot per loan and pre-report notices

Revision ID: 3c8e5a1f9d42
Revises: 3a8e61f0c2d5
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '3c8e5a1f9d42'
down_revision = '3a8e61f0c2d5'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
AMOUNT = sa.BigInteger()


def upgrade() -> None:
    op.create_table(
        'bureau_snapshot',
        sa.Column('loan_id', ID, nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('maturity_on', sa.Date(), nullable=False),
        *(sa.Column(name, AMOUNT, nullable=False) for name in (
            'balance', 'principal_outstanding', 'past_due', 'past_due_30')),
        sa.Column('overdue_terms', sa.Integer(), nullable=False),
        *(sa.Column(name, AMOUNT, nullable=False) for name in (
            'overdue_1_30', 'overdue_31_60', 'overdue_61_90', 'overdue_91_180',
            'overdue_over_180')),
        sa.Column('dpd', sa.Integer(), nullable=False),
        sa.Column('worst_dpd', sa.Integer(), nullable=False),
        sa.Column('scheduled_payment', AMOUNT, nullable=False),
        sa.Column('actual_payment', AMOUNT, nullable=False),
        sa.Column('last_payment_on', sa.Date(), nullable=True),
        sa.Column('first_delinquency_on', sa.Date(), nullable=True),
        sa.Column('restructured', sa.Boolean(), nullable=False),
        sa.Column('written_off_on', sa.Date(), nullable=True),
        sa.Column('charge_off_amount', AMOUNT, nullable=False),
        sa.Column('closed_on', sa.Date(), nullable=True),
        sa.Column('events', sa.Text(), nullable=False),
        sa.Column('dispute', sa.String(length=10), nullable=False),
        sa.Column('condition_code', sa.String(length=2), nullable=False),
        sa.Column('objection_overdue', sa.Boolean(), nullable=False),
        sa.Column('special_comment', sa.String(length=2), nullable=False),
        sa.Column('metro2_status', sa.String(length=2), nullable=False),
        sa.Column('payment_rating', sa.String(length=1), nullable=False),
        sa.Column('metro2_code', sa.String(length=1), nullable=False),
        sa.Column('metro2_history', sa.String(length=24), nullable=False),
        sa.Column('pboc_code', sa.String(length=1), nullable=False),
        sa.Column('pboc_history', sa.String(length=24), nullable=False),
        sa.Column('account_status', sa.String(length=1), nullable=False),
        sa.Column('loan_class', sa.String(length=1), nullable=False),
        sa.Column('negative', sa.Boolean(), nullable=False),
        sa.Column('gate_open', sa.Boolean(), nullable=False),
        sa.Column('held_rules', sa.String(length=400), nullable=False),
        sa.ForeignKeyConstraint(['loan_id'], ['loan.id'],
                                name=op.f('fk_bureau_snapshot_loan_id_loan')),
        sa.PrimaryKeyConstraint('loan_id', 'month', name=op.f('pk_bureau_snapshot')),
    )
    with op.batch_alter_table('bureau_snapshot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bureau_snapshot_month'), ['month'], unique=False)
    op.create_table(
        'bureau_notice',
        sa.Column('id', ID, autoincrement=True, nullable=False),
        sa.Column('loan_id', ID, nullable=False),
        sa.Column('kind', sa.String(length=12), nullable=False),
        sa.Column('channel', sa.String(length=12), nullable=False),
        sa.Column('sent_on', sa.Date(), nullable=False),
        sa.Column('undeliverable_on', sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(['loan_id'], ['loan.id'],
                                name=op.f('fk_bureau_notice_loan_id_loan')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_bureau_notice')),
        sa.UniqueConstraint('loan_id', 'kind', 'sent_on', name='uq_bureau_notice_sent'),
    )
    with op.batch_alter_table('bureau_notice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bureau_notice_loan_id'), ['loan_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('bureau_notice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bureau_notice_loan_id'))
    op.drop_table('bureau_notice')
    with op.batch_alter_table('bureau_snapshot', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bureau_snapshot_month'))
    op.drop_table('bureau_snapshot')
