"""hardship plans: plan and plan_policy tables, what plans did to a loan, prepayments

Revision ID: d41f6b2e8a93
Revises: 6d2f8b0a7c31
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'd41f6b2e8a93'
down_revision = '6d2f8b0a7c31'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
COMPONENTS = ('fee', 'penalty', 'compound', 'interest', 'principal')


def upgrade() -> None:
    with op.batch_alter_table('loan', schema=None) as batch_op:
        for what in ('waived', 'capitalised'):
            for component in COMPONENTS:
                batch_op.add_column(sa.Column(f'{what}_{component}', sa.BigInteger(),
                                              server_default='0', nullable=False))
        batch_op.add_column(sa.Column('delinquent_since', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('offer_received', sa.BigInteger(), server_default='0',
                                      nullable=False))
        batch_op.add_column(sa.Column('pauses', sa.Text(), server_default='', nullable=False))
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prepayment', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
    op.create_table('plan',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('plan_ref', sa.String(length=60), nullable=False),
    sa.Column('loan_id', ID, nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('in_force', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('effective_on', sa.Date(), nullable=False),
    sa.Column('terms', sa.Text(), nullable=False),
    sa.Column('waived', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('preview', sa.Text(), nullable=False),
    sa.Column('proposed_by', sa.String(length=64), nullable=False),
    sa.Column('proposed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.String(length=400), server_default='', nullable=False),
    sa.Column('outcome_on', sa.Date(), nullable=True),
    sa.Column('last_payment_id', ID, server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['loan_id'], ['loan.id'], name=op.f('fk_plan_loan_id_loan')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan')),
    sa.UniqueConstraint('plan_ref', name=op.f('uq_plan_plan_ref'))
    )
    op.create_index(op.f('ix_plan_loan_id'), 'plan', ['loan_id'], unique=False)
    op.create_table('plan_policy',
    sa.Column('product_code', sa.String(length=40), nullable=False),
    sa.Column('definition', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['product_code'], ['product.code'],
                            name=op.f('fk_plan_policy_product_code_product')),
    sa.PrimaryKeyConstraint('product_code', name=op.f('pk_plan_policy'))
    )


def downgrade() -> None:
    op.drop_table('plan_policy')
    op.drop_index(op.f('ix_plan_loan_id'), table_name='plan')
    op.drop_table('plan')
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.drop_column('prepayment')
    with op.batch_alter_table('loan', schema=None) as batch_op:
        for column in ('pauses', 'offer_received', 'delinquent_since'):
            batch_op.drop_column(column)
        for what in ('capitalised', 'waived'):
            for component in reversed(COMPONENTS):
                batch_op.drop_column(f'{what}_{component}')
