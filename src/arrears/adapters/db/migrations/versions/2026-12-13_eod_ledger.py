"""the ledger's rows carry no foreign key, and the index on entries gives way to one on cash

End-of-day appends about three postings and one accrual row per worked loan (some 300,000 rows
a day on a book of a million loans). On PostgreSQL each row's foreign key to its loan was
checked by a trigger of its own, one query per row: a fifth of the run's database CPU (5.9 s
of 1,000,000 loans' day, 4.65 s without them). The index on `posting.entry`, which nothing
looks entries up by, cost a tenth of the rest (4.2 s without it). Both go.

What the foreign keys guaranteed, that no ledger row names a loan the book does not hold, now
rests on how the rows are written, as the append-only ledger allows:

- loans are never deleted, so a row that named a loan when written names it for good;
- every writer appends ledger rows only for loans it wrote or locked in the same transaction,
  after checking them: boarding, for the loans it has just inserted; `apply` (payments, plans,
  the scalar end-of-day) and the same-day write of payment files, after their conditional
  UPDATE found every loan (`StaleWrite` otherwise); the vectorised end-of-day on PostgreSQL,
  from a join with the batch's loans as read under lock, after checking that every loan
  written is one of them, and on SQLite after its conditional UPDATE found every loan; the
  demo history, for the loans it boarded;
- tests hold them to it on both backends (`tests/integration/test_ledger_without_keys.py`):
  a write-back naming a loan the book does not hold, or on PostgreSQL one its batch did not
  lock, is refused before it appends a row; and every ledger scenario ends with the check
  that no posting or accrual row lacks its loan (`tests/integration/book_checks.py`).

The report of cash received (`cash_received`: the cash postings of a date range) gets an index
of its own, on the date of the cash postings only. End-of-day never posts cash, so it never
maintains it.

Upgrading a large book: on PostgreSQL the new index is built by reading the whole ledger, and
payments and end-of-day wait for it; on SQLite both ledger tables are copied (room for twice
the ledger on disk). Run `arrears init` in a quiet hour, as for the 2026-12-12 migration.
A downgrade restores the keys and fails, naming the key, if a ledger row names no loan.

Revision ID: e6a8c0d2f346
Revises: d4f6b8c0e235
Create Date: 2026-12-13
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'e6a8c0d2f346'
down_revision = 'd4f6b8c0e235'
branch_labels = None
depends_on = None

CASH = sa.text("account = 'cash'")


def upgrade() -> None:
    with op.batch_alter_table('posting') as batch:
        batch.drop_constraint('fk_posting_loan_id_loan', type_='foreignkey')
        batch.drop_index('ix_posting_entry')
        batch.create_index('ix_posting_cash', ['business_date'], postgresql_where=CASH,
                           sqlite_where=CASH)
    with op.batch_alter_table('accrual') as batch:
        batch.drop_constraint('fk_accrual_loan_id_loan', type_='foreignkey')


def downgrade() -> None:
    with op.batch_alter_table('accrual') as batch:
        batch.create_foreign_key('fk_accrual_loan_id_loan', 'loan', ['loan_id'], ['id'])
    with op.batch_alter_table('posting') as batch:
        batch.drop_index('ix_posting_cash')
        batch.create_index('ix_posting_entry', ['entry'])
        batch.create_foreign_key('fk_posting_loan_id_loan', 'loan', ['loan_id'], ['id'])
