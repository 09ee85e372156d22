"""collections work: promise settlement columns, placement loans, collector credentials,
visit authorizations and field visits

Revision ID: 9e4b2c71d8a3
Revises: 7c1f3a9d2b60
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '9e4b2c71d8a3'
down_revision = '7c1f3a9d2b60'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('promise', schema=None) as batch_op:
        batch_op.add_column(sa.Column('collector_ref', sa.String(length=60), server_default='',
                                      nullable=False))
        batch_op.add_column(sa.Column('promised_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('settled_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('paid', sa.BigInteger(), server_default='0',
                                      nullable=False))
        batch_op.create_index('ix_promise_open_due', ['status', 'due_on'], unique=False)

    op.create_table('placement_loan',
    sa.Column('placement_id', ID, nullable=False),
    sa.Column('loan_id', ID, nullable=False),
    sa.Column('balance', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['placement_id'], ['placement.id'], name=op.f('fk_placement_loan_placement_id_placement')),
    sa.ForeignKeyConstraint(['loan_id'], ['loan.id'], name=op.f('fk_placement_loan_loan_id_loan')),
    sa.PrimaryKeyConstraint('placement_id', 'loan_id', name=op.f('pk_placement_loan'))
    )
    op.create_table('collector_credential',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('credential_ref', sa.String(length=60), nullable=False),
    sa.Column('collector_id', ID, nullable=False),
    sa.Column('valid_from', sa.DateTime(timezone=True), nullable=False),
    sa.Column('valid_until', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['collector_id'], ['collector.id'], name=op.f('fk_collector_credential_collector_id_collector')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_collector_credential')),
    sa.UniqueConstraint('credential_ref', name=op.f('uq_collector_credential_credential_ref'))
    )
    with op.batch_alter_table('collector_credential', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_collector_credential_collector_id'), ['collector_id'], unique=False)

    op.create_table('visit_authorization',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('authorization_ref', sa.String(length=60), nullable=False),
    sa.Column('case_id', ID, nullable=False),
    sa.Column('loan_id', ID, nullable=False),
    sa.Column('collectors', sa.String(length=200), nullable=False),
    sa.Column('written', sa.Boolean(), nullable=False),
    sa.Column('recording', sa.Boolean(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('valid_until', sa.DateTime(timezone=True), nullable=False),
    sa.Column('legal_reviewer', sa.String(length=100), server_default='', nullable=False),
    sa.Column('legal_review_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['collection_case.id'], name=op.f('fk_visit_authorization_case_id_collection_case')),
    sa.ForeignKeyConstraint(['loan_id'], ['loan.id'], name=op.f('fk_visit_authorization_loan_id_loan')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_authorization')),
    sa.UniqueConstraint('authorization_ref', name=op.f('uq_visit_authorization_authorization_ref'))
    )
    with op.batch_alter_table('visit_authorization', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_authorization_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_authorization_loan_id'), ['loan_id'], unique=False)

    op.create_table('field_visit',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('visit_key', sa.String(length=160), nullable=False),
    sa.Column('authorization_id', ID, nullable=False),
    sa.Column('case_id', ID, nullable=False),
    sa.Column('loan_id', ID, nullable=False),
    sa.Column('planned_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('collectors', sa.String(length=200), nullable=False),
    sa.Column('recording', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['authorization_id'], ['visit_authorization.id'], name=op.f('fk_field_visit_authorization_id_visit_authorization')),
    sa.ForeignKeyConstraint(['case_id'], ['collection_case.id'], name=op.f('fk_field_visit_case_id_collection_case')),
    sa.ForeignKeyConstraint(['loan_id'], ['loan.id'], name=op.f('fk_field_visit_loan_id_loan')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_field_visit')),
    sa.UniqueConstraint('visit_key', name=op.f('uq_field_visit_visit_key'))
    )
    with op.batch_alter_table('field_visit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_field_visit_authorization_id'), ['authorization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_field_visit_case_id'), ['case_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('field_visit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_field_visit_case_id'))
        batch_op.drop_index(batch_op.f('ix_field_visit_authorization_id'))
    op.drop_table('field_visit')
    with op.batch_alter_table('visit_authorization', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_authorization_loan_id'))
        batch_op.drop_index(batch_op.f('ix_visit_authorization_case_id'))
    op.drop_table('visit_authorization')
    with op.batch_alter_table('collector_credential', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_collector_credential_collector_id'))
    op.drop_table('collector_credential')
    op.drop_table('placement_loan')
    with op.batch_alter_table('promise', schema=None) as batch_op:
        batch_op.drop_index('ix_promise_open_due')
        batch_op.drop_column('paid')
        batch_op.drop_column('settled_on')
        batch_op.drop_column('promised_on')
        batch_op.drop_column('collector_ref')
