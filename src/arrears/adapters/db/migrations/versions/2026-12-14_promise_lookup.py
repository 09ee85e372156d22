"""a loan's promises to pay are found by an index, newest first

The case page lists a loan's latest promises (`promises_of`), and recording one looks for the
same promise made that day (`promise_made`); both read the promises of one loan. Without an
index on the loan, each read scanned the whole promise table, which grows with every
promise ever taken. The index on (loan_id, id) finds a loan's promises and hands them back
newest first, so the page's limit stops the read after the rows it shows.

Revision ID: f7b9d1e3a457
Revises: e6a8c0d2f346
Create Date: 2026-12-14
"""

from __future__ import annotations

from alembic import op

revision = 'f7b9d1e3a457'
down_revision = 'e6a8c0d2f346'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_promise_loan', 'promise', ['loan_id', 'id'])


def downgrade() -> None:
    op.drop_index('ix_promise_loan', table_name='promise')
