"""Credit-reporting tables: the monthly snapshot per loan (rebuilt per month; the source of the
24-month history strings) and the notices sent before a first negative report. They share
`tables.metadata` with the loan book."""

from __future__ import annotations

import sqlalchemy as sa

from arrears.adapters.db.tables import Amount, Id, metadata

bureau_snapshot = sa.Table(
    "bureau_snapshot", metadata,
    sa.Column("loan_id", Id, sa.ForeignKey("loan.id"), primary_key=True),
    sa.Column("month", sa.Date, primary_key=True, index=True),  # the month's first day
    sa.Column("maturity_on", sa.Date, nullable=False),
    sa.Column("balance", Amount, nullable=False),
    sa.Column("principal_outstanding", Amount, nullable=False),
    sa.Column("past_due", Amount, nullable=False),
    sa.Column("past_due_30", Amount, nullable=False),
    sa.Column("overdue_terms", sa.Integer, nullable=False),
    # Overdue principal by installment age: 1–30, 31–60, 61–90, 91–180, over 180 days.
    sa.Column("overdue_1_30", Amount, nullable=False),
    sa.Column("overdue_31_60", Amount, nullable=False),
    sa.Column("overdue_61_90", Amount, nullable=False),
    sa.Column("overdue_91_180", Amount, nullable=False),
    sa.Column("overdue_over_180", Amount, nullable=False),
    sa.Column("dpd", sa.Integer, nullable=False),
    sa.Column("worst_dpd", sa.Integer, nullable=False),
    sa.Column("scheduled_payment", Amount, nullable=False),
    sa.Column("actual_payment", Amount, nullable=False),
    sa.Column("last_payment_on", sa.Date, nullable=True),
    sa.Column("first_delinquency_on", sa.Date, nullable=True),
    sa.Column("restructured", sa.Boolean, nullable=False),
    sa.Column("written_off_on", sa.Date, nullable=True),
    sa.Column("charge_off_amount", Amount, nullable=False),
    sa.Column("closed_on", sa.Date, nullable=True),
    sa.Column("events", sa.Text, nullable=False),  # JSON list of special transactions
    sa.Column("dispute", sa.String(10), nullable=False),
    sa.Column("condition_code", sa.String(2), nullable=False),
    sa.Column("objection_overdue", sa.Boolean, nullable=False),
    sa.Column("special_comment", sa.String(2), nullable=False),
    sa.Column("metro2_status", sa.String(2), nullable=False),
    sa.Column("payment_rating", sa.String(1), nullable=False),
    sa.Column("metro2_code", sa.String(1), nullable=False),
    sa.Column("metro2_history", sa.String(24), nullable=False),
    sa.Column("pboc_code", sa.String(1), nullable=False),
    sa.Column("pboc_history", sa.String(24), nullable=False),
    sa.Column("account_status", sa.String(1), nullable=False),
    sa.Column("loan_class", sa.String(1), nullable=False),
    sa.Column("negative", sa.Boolean, nullable=False),
    sa.Column("gate_open", sa.Boolean, nullable=False),
    sa.Column("held_rules", sa.String(400), nullable=False),  # space separated; '' = sent
)

bureau_notice = sa.Table(
    "bureau_notice", metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("loan_id", Id, sa.ForeignKey("loan.id"), nullable=False, index=True),
    sa.Column("kind", sa.String(12), nullable=False),
    sa.Column("channel", sa.String(12), nullable=False),
    sa.Column("sent_on", sa.Date, nullable=False),
    sa.Column("undeliverable_on", sa.Date, nullable=True),
    sa.UniqueConstraint("loan_id", "kind", "sent_on", name="uq_bureau_notice_sent"),
)
