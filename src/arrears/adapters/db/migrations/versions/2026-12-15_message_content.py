"""a message's body and compliance document move to `message_content`, beside the message

The outbox worker rewrites a message's row twice: when it leases it (status, lease, attempts)
and when it settles it (status, outcome). The row also held the rendered body and the
compliance document it was planned with, some 2.5 KB of a message's 2.7 KB, so each of those
writes copied them again: on SQLite a page a message into the write-ahead log twice over, on
PostgreSQL a new row version of that size. They are written once, when the message is
enqueued, and only read after; they move to a table of their own keyed by the message's id,
and the worker's writes touch the narrow row alone.

Upgrading copies every message's body and document once and drops their columns in place
(SQLite 3.35 or later). Messages keep their ids, statuses, attempts and leases, so a worker
carries on where it stopped. A downgrade moves them back.

Revision ID: a8c0e2f4b568
Revises: f7b9d1e3a457
Create Date: 2026-12-15
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'a8c0e2f4b568'
down_revision = 'f7b9d1e3a457'
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('message_content',
    sa.Column('id', Id, autoincrement=False, nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('compliance', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['id'], ['message.id'], name=op.f('fk_message_content_id_message')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_content'))
    )
    op.execute('INSERT INTO message_content (id, body, compliance) '
               'SELECT id, body, compliance FROM message ORDER BY id')
    # In place, not by a batch's copy of the table: dropping the old table would orphan
    # the content rows' key (SQLite 3.35 and later drop a column in place).
    op.drop_column('message', 'body')
    op.drop_column('message', 'compliance')


def downgrade() -> None:
    op.add_column('message', sa.Column('body', sa.Text(), nullable=True))
    op.add_column('message', sa.Column('compliance', sa.Text(), nullable=True))
    op.execute('UPDATE message SET '
               'body = (SELECT body FROM message_content WHERE message_content.id = message.id), '
               'compliance = (SELECT compliance FROM message_content '
               'WHERE message_content.id = message.id)')
    op.drop_table('message_content')
    with op.batch_alter_table('message') as batch:
        batch.alter_column('body', existing_type=sa.Text(), nullable=False)
        batch.alter_column('compliance', existing_type=sa.Text(), nullable=False)
