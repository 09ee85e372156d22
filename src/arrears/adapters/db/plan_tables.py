"""Tables for hardship plans: each plan from proposal to its outcome, and the lender's plan
policy per product. They share `tables.metadata`.

A plan's parameters are its JSON document (`application.plan_file.plan_document`), so a kind
with new parameters needs no new column; `in_force` marks the plans the loan's state holds
(approved and neither undone nor reverted on a break), which every loan read loads.
"""

from __future__ import annotations

import sqlalchemy as sa

from arrears.adapters.db.tables import Amount, Id, Instant, metadata

plan = sa.Table(
    "plan", metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("plan_ref", sa.String(60), nullable=False, unique=True),
    sa.Column("loan_id", Id, sa.ForeignKey("loan.id"), nullable=False, index=True),
    sa.Column("kind", sa.String(20), nullable=False),
    # proposed | approved | rejected | undone | kept | broken
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("in_force", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("effective_on", sa.Date, nullable=False),
    sa.Column("terms", sa.Text, nullable=False),
    sa.Column("waived", Amount, nullable=False, server_default="0"),
    # The preview as last shown (at proposal, then at approval): the old schedule stays
    # readable after the loan moved on.
    sa.Column("preview", sa.Text, nullable=False),
    sa.Column("proposed_by", sa.String(64), nullable=False),
    sa.Column("proposed_at", Instant, nullable=False),
    sa.Column("decided_by", sa.String(64), nullable=True),
    sa.Column("decided_at", Instant, nullable=True),
    sa.Column("reason", sa.String(400), nullable=False, server_default=""),
    sa.Column("outcome_on", sa.Date, nullable=True),
    # The loan's last payment row when the plan was applied: undo is refused once another
    # payment (or reversal) came after it, since the plan is then no longer the latest event.
    sa.Column("last_payment_id", Id, nullable=False, server_default="0"),
)

plan_policy = sa.Table(
    "plan_policy", metadata,
    sa.Column("product_code", sa.String(40), sa.ForeignKey("product.code"), primary_key=True),
    sa.Column("definition", sa.Text, nullable=False),  # the policy JSON object
)
