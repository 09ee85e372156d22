"""The schema as SQLAlchemy Core tables. Alembic migrations are the only way it is created.

Money is BIGINT minor units (accrued penalty and compound: sub-minor units, 1/10,000 of a
minor unit); dates are `_on`, instants `_at` (timezone-aware). Names follow the naming
convention below so constraints have stable names on SQLite and PostgreSQL.
"""

from __future__ import annotations

import sqlalchemy as sa

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets BIGINT identities.
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Amount = sa.BigInteger
Instant = sa.DateTime(timezone=True)


def _id() -> sa.Column[int]:
    return sa.Column("id", Id, primary_key=True, autoincrement=True)


borrower = sa.Table(
    "borrower", metadata,
    _id(),
    sa.Column("borrower_ref", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("national_id", sa.String(40), nullable=False),
    sa.Column("address", sa.String(400), nullable=False, server_default=""),
    sa.Column("region", sa.String(40), nullable=False, server_default=""),
    sa.Column("time_zone", sa.String(64), nullable=False),
    sa.Column("language", sa.String(10), nullable=False, server_default="zh-CN"),
    sa.Column("behaviour", sa.String(20), nullable=True),
)

borrower_phone = sa.Table(
    "borrower_phone", metadata,
    _id(),
    sa.Column("borrower_id", Id, sa.ForeignKey("borrower.id"), nullable=False, index=True),
    sa.Column("number", sa.String(20), nullable=False),
    sa.Column("time_zone", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(10), nullable=False, server_default="mobile"),
)

# People the borrower named (emergency contacts, relatives). They are never collection targets:
# the compliance engine allows at most location-information contacts with them (CN-4, US-14).
contact_person = sa.Table(
    "contact_person", metadata,
    _id(),
    sa.Column("borrower_id", Id, sa.ForeignKey("borrower.id"), nullable=False, index=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("relation", sa.String(40), nullable=False),
    sa.Column("phone", sa.String(20), nullable=False),
)

product = sa.Table(
    "product", metadata,
    sa.Column("code", sa.String(40), primary_key=True),
    sa.Column("definition", sa.Text, nullable=False),  # the LOAN.json `product` object
)

loan = sa.Table(
    "loan", metadata,
    _id(),
    sa.Column("loan_ref", sa.String(64), nullable=False, unique=True),
    sa.Column("borrower_id", Id, sa.ForeignKey("borrower.id"), nullable=False, index=True),
    sa.Column("product_code", sa.String(40), sa.ForeignKey("product.code"), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("principal", Amount, nullable=False),
    sa.Column("disbursed_on", sa.Date, nullable=False),
    sa.Column("terms", sa.Integer, nullable=False),
    # The stored state is the loan at the end of `state_on`. End-of-day only touches loans with
    # something due or overdue, so for the others the state is unchanged up to the closed date
    # (`application.handlers.eod`); a loan left behind by a failure has a later `eod_failure`.
    sa.Column("state_on", sa.Date, nullable=False),
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("dpd", sa.Integer, nullable=False, server_default="0"),
    sa.Column("bucket", sa.String(3), nullable=False, server_default="C"),
    sa.Column("earliest_unpaid_due_on", sa.Date, nullable=True, index=True),
    sa.Column("prepaid_principal", Amount, nullable=False, server_default="0"),
    sa.Column("unapplied", Amount, nullable=False, server_default="0"),
    sa.Column("written_off_on", sa.Date, nullable=True),
    # What hardship plans did to the state (`LoanState`): amounts forgiven and moved into
    # principal per component, the first delinquency a plan froze, money towards a
    # settlement offer, and paused days as "start/end" ISO pairs joined by ";".
    *(sa.Column(f"{what}_{component}", Amount, nullable=False, server_default="0")
      for what in ("waived", "capitalised")
      for component in ("fee", "penalty", "compound", "interest", "principal")),
    sa.Column("delinquent_since", sa.Date, nullable=True),
    sa.Column("offer_received", Amount, nullable=False, server_default="0"),
    sa.Column("pauses", sa.Text, nullable=False, server_default=""),
    sa.CheckConstraint("principal > 0", name="principal_positive"),
    # Room for end-of-day's new row versions in their own page (no index writes; see the
    # 2026-12-12 migration).
    postgresql_with={"fillfactor": 85},
)

installment = sa.Table(
    "installment", metadata,
    sa.Column("loan_id", Id, sa.ForeignKey("loan.id"), primary_key=True),
    sa.Column("number", sa.Integer, primary_key=True),
    sa.Column("due_on", sa.Date, nullable=False),
    sa.Column("principal", Amount, nullable=False),
    sa.Column("interest", Amount, nullable=False),
    sa.Column("fee", Amount, nullable=False),
    sa.Column("paid_principal", Amount, nullable=False),
    sa.Column("paid_interest", Amount, nullable=False),
    sa.Column("paid_fee", Amount, nullable=False),
    sa.Column("penalty_accrued", Amount, nullable=False),  # sub-minor units
    sa.Column("penalty_paid", Amount, nullable=False),
    sa.Column("compound_accrued", Amount, nullable=False),  # sub-minor units
    sa.Column("compound_paid", Amount, nullable=False),
    # Earned before a plan moved the installment (domain InstallmentState).
    sa.Column("interest_earned", Amount, nullable=False, server_default="0"),
    sa.Column("fee_earned", Amount, nullable=False, server_default="0"),
    postgresql_with={"fillfactor": 90},
)

payment = sa.Table(
    "payment", metadata,
    _id(),
    sa.Column("loan_id", Id, sa.ForeignKey("loan.id"), nullable=False, index=True),
    sa.Column("idempotency_key", sa.String(128), nullable=False, unique=True),
    sa.Column("paid_on", sa.Date, nullable=False),
    sa.Column("amount", Amount, nullable=False),
    sa.Column("to_fee", Amount, nullable=False),
    sa.Column("to_penalty", Amount, nullable=False),
    sa.Column("to_compound", Amount, nullable=False),
    sa.Column("to_interest", Amount, nullable=False),
    sa.Column("to_principal", Amount, nullable=False),
    sa.Column("to_credit", Amount, nullable=False),
    sa.Column("recovery", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("prepayment", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("reverses_id", Id, sa.ForeignKey("payment.id"), nullable=True, unique=True),
    sa.Column("recorded_at", Instant, nullable=False),
)

# Rows of payment files (`arrears import payments`) that were posted, by where they came from
# (generic, wechat, alipay) and their key there: the file and line each payment came from.
payment_import = sa.Table(
    "payment_import", metadata,
    sa.Column("source", sa.String(10), primary_key=True),
    sa.Column("row_key", sa.String(64), primary_key=True),
    sa.Column("payment_id", Id, sa.ForeignKey("payment.id"), nullable=False, unique=True),
    sa.Column("file_sha256", sa.String(64), nullable=False),
    sa.Column("line", sa.Integer, nullable=False),
    sa.Column("imported_at", Instant, nullable=False),
)

# Double-entry ledger: signed amounts (debit positive, credit negative); the postings of one
# entry sum to zero. The ledger's rows name their loan without a foreign key: end-of-day
# appends hundreds of thousands a day, and each key check cost a query (see the 2026-12-13
# migration for what guarantees the loan instead).
_CASH = sa.text("account = 'cash'")
posting = sa.Table(
    "posting", metadata,
    _id(),
    sa.Column("entry", sa.String(80), nullable=False),
    sa.Column("loan_id", Id, nullable=False, index=True),
    sa.Column("business_date", sa.Date, nullable=False),
    sa.Column("account", sa.String(24), nullable=False),
    sa.Column("amount", Amount, nullable=False),
    # The cash received over a date range; end-of-day never posts cash nor maintains it.
    sa.Index("ix_posting_cash", "business_date", postgresql_where=_CASH, sqlite_where=_CASH),
)

accrual = sa.Table(
    "accrual", metadata,
    sa.Column("loan_id", Id, primary_key=True),
    sa.Column("business_date", sa.Date, primary_key=True),
    sa.Column("penalty", Amount, nullable=False),  # the day's increment, sub-minor units
    sa.Column("compound", Amount, nullable=False),
)

delinquency_change = sa.Table(
    "delinquency_change", metadata,
    _id(),
    sa.Column("loan_id", Id, sa.ForeignKey("loan.id"), nullable=False, index=True),
    sa.Column("business_date", sa.Date, nullable=False, index=True),
    sa.Column("from_bucket", sa.String(3), nullable=False),
    sa.Column("to_bucket", sa.String(3), nullable=False),
    sa.Column("dpd", sa.Integer, nullable=False),
)

business_day = sa.Table(
    "business_day", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("closed_through", sa.Date, nullable=False),  # the last date EOD completed
    sa.CheckConstraint("id = 1", name="single_row"),
)

eod_run = sa.Table(
    "eod_run", metadata,
    sa.Column("business_date", sa.Date, primary_key=True),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("engine", sa.String(12), nullable=False),
    sa.Column("started_at", Instant, nullable=False),
    sa.Column("finished_at", Instant, nullable=True),
    sa.Column("loans_processed", sa.Integer, nullable=False, server_default="0"),
    sa.Column("loans_failed", sa.Integer, nullable=False, server_default="0"),
    sa.Column("resume_after_loan_id", Id, nullable=False, server_default="0"),
)

eod_failure = sa.Table(
    "eod_failure", metadata,
    sa.Column("business_date", sa.Date, primary_key=True),
    sa.Column("loan_id", Id, sa.ForeignKey("loan.id"), primary_key=True),
    sa.Column("error", sa.Text, nullable=False),
    sa.Index("ix_eod_failure_loan_id", "loan_id", "business_date"),
)

outbox = sa.Table(
    "outbox", metadata,
    _id(),
    sa.Column("message_id", sa.String(80), nullable=False, unique=True),
    sa.Column("topic", sa.String(60), nullable=False),
    sa.Column("loan_id", Id, sa.ForeignKey("loan.id"), nullable=True, index=True),
    sa.Column("business_date", sa.Date, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("status", sa.String(12), nullable=False, server_default="pending"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", Instant, nullable=False),
    sa.Column("delivered_at", Instant, nullable=True),
)
