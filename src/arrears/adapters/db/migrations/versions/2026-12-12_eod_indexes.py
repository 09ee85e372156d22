"""indexes and storage for the end-of-day run on PostgreSQL

End-of-day rewrites every worked loan's row and the installment rows that accrued. Free room
left in each page lets PostgreSQL write the new row versions beside the old ones without
touching any index (a HOT update): the loans' four indexes and the installments' key are left
alone by a day of accrual. The room applies to pages written after this migration; an
existing book gets it for all its rows with `VACUUM FULL loan, installment` in a quiet hour.
A loan set aside by a failed end-of-day is found by its id.

Revision ID: d4f6b8c0e235
Revises: c3e5a7b9d124
Create Date: 2026-12-12
"""

from __future__ import annotations

from alembic import op

revision = 'd4f6b8c0e235'
down_revision = 'c3e5a7b9d124'
branch_labels = None
depends_on = None

FILL = {'loan': 85, 'installment': 90}


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for table, percent in FILL.items():
            op.execute(f'ALTER TABLE {table} SET (fillfactor = {percent})')
    op.create_index('ix_eod_failure_loan_id', 'eod_failure', ['loan_id', 'business_date'])


def downgrade() -> None:
    op.drop_index('ix_eod_failure_loan_id', table_name='eod_failure')
    if op.get_bind().dialect.name == 'postgresql':
        for table in FILL:
            op.execute(f'ALTER TABLE {table} RESET (fillfactor)')
