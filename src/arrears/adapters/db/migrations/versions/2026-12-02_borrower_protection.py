"""borrower protection: signed collector credentials, signing keys, the evidence log

Revision ID: b7d35e0c41a9
Revises: 4f6a0d2e9b17
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'b7d35e0c41a9'
down_revision = '4f6a0d2e9b17'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('collector_credential', schema=None) as batch_op:
        batch_op.alter_column('collector_id', existing_type=ID, nullable=True)
        batch_op.add_column(sa.Column('agency_id', ID, nullable=True))
        batch_op.add_column(sa.Column('loan_id', ID, nullable=True))
        batch_op.add_column(sa.Column('scope', sa.String(length=20), server_default='', nullable=False))
        batch_op.add_column(sa.Column('visit_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('kid', sa.String(length=64), server_default='', nullable=False))
        batch_op.add_column(sa.Column('token', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('issued_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_collector_credential_agency_id_agency'), 'agency', ['agency_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_collector_credential_loan_id_loan'), 'loan', ['loan_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_collector_credential_loan_id'), ['loan_id'], unique=False)

    op.create_table('signing_key',
    sa.Column('kid', sa.String(length=64), nullable=False),
    sa.Column('public_x', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('kid', name=op.f('pk_signing_key'))
    )
    op.create_table('evidence_chain',
    sa.Column('borrower_id', ID, nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('head', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['borrower_id'], ['borrower.id'], name=op.f('fk_evidence_chain_borrower_id_borrower')),
    sa.PrimaryKeyConstraint('borrower_id', name=op.f('pk_evidence_chain'))
    )
    op.create_table('evidence_entry',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('borrower_id', ID, nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('hashed', sa.Text(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('payload', sa.Text(), nullable=True),
    sa.Column('purged_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['borrower_id'], ['borrower.id'], name=op.f('fk_evidence_entry_borrower_id_borrower')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence_entry')),
    sa.UniqueConstraint('borrower_id', 'seq', name=op.f('uq_evidence_entry_borrower_id'))
    )
    op.create_table('evidence_file',
    sa.Column('entry_id', ID, nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['entry_id'], ['evidence_entry.id'], name=op.f('fk_evidence_file_entry_id_evidence_entry')),
    sa.PrimaryKeyConstraint('entry_id', 'name', name=op.f('pk_evidence_file'))
    )
    op.create_table('evidence_checkpoint',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('root', sa.String(length=64), nullable=False),
    sa.Column('kid', sa.String(length=64), nullable=False),
    sa.Column('token', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence_checkpoint'))
    )
    op.create_table('evidence_checkpoint_leaf',
    sa.Column('checkpoint_id', ID, nullable=False),
    sa.Column('leaf_index', sa.Integer(), nullable=False),
    sa.Column('borrower_id', ID, nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['checkpoint_id'], ['evidence_checkpoint.id'], name=op.f('fk_evidence_checkpoint_leaf_checkpoint_id_evidence_checkpoint')),
    sa.ForeignKeyConstraint(['borrower_id'], ['borrower.id'], name=op.f('fk_evidence_checkpoint_leaf_borrower_id_borrower')),
    sa.PrimaryKeyConstraint('checkpoint_id', 'leaf_index', name=op.f('pk_evidence_checkpoint_leaf'))
    )


def downgrade() -> None:
    op.drop_table('evidence_checkpoint_leaf')
    op.drop_table('evidence_checkpoint')
    op.drop_table('evidence_file')
    op.drop_table('evidence_entry')
    op.drop_table('evidence_chain')
    op.drop_table('signing_key')
    with op.batch_alter_table('collector_credential', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_collector_credential_loan_id'))
        batch_op.drop_constraint(batch_op.f('fk_collector_credential_loan_id_loan'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_collector_credential_agency_id_agency'), type_='foreignkey')
        batch_op.drop_column('issued_at')
        batch_op.drop_column('token')
        batch_op.drop_column('kid')
        batch_op.drop_column('visit_on')
        batch_op.drop_column('scope')
        batch_op.drop_column('loan_id')
        batch_op.drop_column('agency_id')
        batch_op.alter_column('collector_id', existing_type=ID, nullable=False)
