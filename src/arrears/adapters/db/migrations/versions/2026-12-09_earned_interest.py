"""installments keep the interest earned before a plan moved them

Revision ID: a1c9e0f4b712
Revises: e5a92c7d1f08
Create Date: 2026-12-09
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'a1c9e0f4b712'
down_revision = 'e5a92c7d1f08'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('installment') as batch:
        batch.add_column(sa.Column('interest_earned', sa.BigInteger(), server_default='0',
                                   nullable=False))
        batch.add_column(sa.Column('fee_earned', sa.BigInteger(), server_default='0',
                                   nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('installment') as batch:
        batch.drop_column('fee_earned')
        batch.drop_column('interest_earned')
