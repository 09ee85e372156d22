"""Collections tables: the notification outbox, planned actions, call tasks, cases, collectors,
agencies, placements, promises to pay and contact logs. They share `tables.metadata`, so
Alembic and the demo's drop-and-recreate see them with the loan book.

Instants are `_at` (timezone-aware), business dates `_on`, money BIGINT minor units.
"""

from __future__ import annotations

import sqlalchemy as sa

from arrears.adapters.db.tables import Amount, Id, Instant, metadata


def _id() -> sa.Column[int]:
    return sa.Column("id", Id, primary_key=True, autoincrement=True)


# One row per outgoing notification. `message_id` is stable and travels to the receiving side
# (SMTP Message-ID, gateway idempotency key, call-task key, letter file name), so a delivery
# repeated after a crash is recognisable there. Status: pending → sending (leased by a worker)
# → delivered | dead | blocked (the send-time compliance check refused it for good). The
# rendered body and the compliance document live beside it in `message_content`: a worker
# rewrites this row when it leases a message and again when it settles it, and a narrow row
# keeps those writes to a few bytes instead of some 2.5 KB a message (2026-12-15).
message = sa.Table(
    "message", metadata,
    _id(),
    sa.Column("message_id", sa.String(80), nullable=False, unique=True),
    sa.Column("channel", sa.String(12), nullable=False),
    sa.Column("loan_id", Id, sa.ForeignKey("loan.id"), nullable=True, index=True),
    sa.Column("borrower_id", Id, sa.ForeignKey("borrower.id"), nullable=True, index=True),
    sa.Column("business_date", sa.Date, nullable=False),
    sa.Column("template", sa.String(60), nullable=False),
    sa.Column("language", sa.String(10), nullable=False),
    sa.Column("recipient", sa.String(200), nullable=False),
    sa.Column("subject", sa.String(300), nullable=False, server_default=""),
    sa.Column("pack", sa.String(8), nullable=False),
    sa.Column("status", sa.String(10), nullable=False, server_default="pending"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", Instant, nullable=False),
    sa.Column("lease_until", Instant, nullable=True),
    sa.Column("claimed_by", sa.String(60), nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("created_at", Instant, nullable=False),
    sa.Column("delivered_at", Instant, nullable=True),
    sa.Index("ix_message_due", "status", "next_attempt_at"),
)

# What a message says, written once when it is enqueued and only read after: the rendered
# body, and the compliance action and facts it was planned with (codec JSON), with which the
# worker decides again at the instant it sends. Keyed by the message's own id.
message_content = sa.Table(
    "message_content", metadata,
    sa.Column("id", Id, sa.ForeignKey("message.id"), primary_key=True, autoincrement=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("compliance", sa.Text, nullable=False),
)

# Every delivery attempt and every send-time decision, append-only (the worker's evidence).
# Not indexed by message: nothing looks attempts up by message, and message ids are hashes,
# so each attempt's index entry dirtied a page of its own (2026-12-16).
message_attempt = sa.Table(
    "message_attempt", metadata,
    _id(),
    sa.Column("message_id", sa.String(80), nullable=False),
    sa.Column("at", Instant, nullable=False),
    sa.Column("worker", sa.String(60), nullable=False),
    sa.Column("outcome", sa.String(12), nullable=False),  # delivered|failed|deferred|blocked|dead
    sa.Column("detail", sa.Text, nullable=False, server_default=""),
)

# Call tasks for collectors and dialers (the call channel's sink). Unique by message id, so a
# repeated delivery adds nothing.
call_task = sa.Table(
    "call_task", metadata,
    _id(),
    sa.Column("message_id", sa.String(80), nullable=False, unique=True),
    sa.Column("loan_ref", sa.String(64), nullable=False),
    sa.Column("phone", sa.String(40), nullable=False),
    sa.Column("script", sa.Text, nullable=False),
    sa.Column("queue", sa.String(40), nullable=False, server_default=""),
    sa.Column("status", sa.String(10), nullable=False, server_default="open"),
    sa.Column("created_at", Instant, nullable=False),
)

# What a strategy decided for one loan and step, and what became of it.
collection_action = sa.Table(
    "collection_action", metadata,
    _id(),
    sa.Column("action_key", sa.String(160), nullable=False, unique=True),
    sa.Column("loan_id", Id, sa.ForeignKey("loan.id"), nullable=False, index=True),
    sa.Column("business_date", sa.Date, nullable=False, index=True),
    sa.Column("strategy", sa.String(60), nullable=False),
    sa.Column("arm", sa.String(12), nullable=False),
    sa.Column("step", sa.String(60), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    # planned | scheduled (message enqueued) | rescheduled | cancelled | done
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("planned_at", Instant, nullable=False),
    sa.Column("scheduled_at", Instant, nullable=True),
    sa.Column("rule_ids", sa.String(400), nullable=False, server_default=""),
    sa.Column("reason", sa.Text, nullable=False, server_default=""),
    sa.Column("message_id", sa.String(80), nullable=True),
)

collector = sa.Table(
    "collector", metadata,
    _id(),
    sa.Column("collector_ref", sa.String(40), nullable=False, unique=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("languages", sa.String(60), nullable=False),  # comma separated
    sa.Column("buckets", sa.String(60), nullable=False),  # comma separated
    sa.Column("capacity", sa.Integer, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
)

agency = sa.Table(
    "agency", metadata,
    _id(),
    sa.Column("agency_ref", sa.String(40), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("licence_no", sa.String(80), nullable=False),
    sa.Column("licence_valid_from", sa.Date, nullable=False),
    sa.Column("licence_valid_until", sa.Date, nullable=False),
    sa.Column("whitelisted", sa.Boolean, nullable=False),
    sa.Column("capacity", sa.Integer, nullable=False),
    sa.Column("commission_rate", sa.String(12), nullable=False),  # decimal string
    sa.Column("fixed_fee", Amount, nullable=False, server_default="0"),  # per case, minor units
)

collection_case = sa.Table(
    "collection_case", metadata,
    _id(),
    sa.Column("borrower_id", Id, sa.ForeignKey("borrower.id"), nullable=False, index=True),
    sa.Column("status", sa.String(10), nullable=False),  # open | closed
    sa.Column("bucket", sa.String(3), nullable=False),
    sa.Column("queue", sa.String(60), nullable=False),
    sa.Column("collector_id", Id, sa.ForeignKey("collector.id"), nullable=True, index=True),
    sa.Column("opened_on", sa.Date, nullable=False),
    sa.Column("updated_on", sa.Date, nullable=False),
    sa.Column("closed_on", sa.Date, nullable=True),
    sa.Column("balance", Amount, nullable=False, server_default="0"),
)

placement = sa.Table(
    "placement", metadata,
    _id(),
    sa.Column("case_id", Id, sa.ForeignKey("collection_case.id"), nullable=False, index=True),
    sa.Column("agency_id", Id, sa.ForeignKey("agency.id"), nullable=False, index=True),
    sa.Column("scope", sa.String(40), nullable=False),  # e.g. "remote" or "remote+visit"
    sa.Column("placed_on", sa.Date, nullable=False),
    sa.Column("ends_on", sa.Date, nullable=False),
    sa.Column("recalled_on", sa.Date, nullable=True),
    sa.Column("balance_at_placement", Amount, nullable=False),
    sa.Column("recovered", Amount, nullable=False, server_default="0"),
)

promise = sa.Table(
    "promise", metadata,
    _id(),
    sa.Column("case_id", Id, sa.ForeignKey("collection_case.id"), nullable=False, index=True),
    sa.Column("loan_id", Id, sa.ForeignKey("loan.id"), nullable=False),
    sa.Column("amount", Amount, nullable=False),
    sa.Column("due_on", sa.Date, nullable=False),
    sa.Column("status", sa.String(8), nullable=False),  # open | kept | broken
    sa.Column("made_at", Instant, nullable=False),
    sa.Column("paid_before", Amount, nullable=False),  # payments on the loan when promised
    # Added by 2026-12-01_collections_work: who took the promise, the business date it was
    # made on (payments dated from then count), and when EOD settled it with how much paid.
    sa.Column("collector_ref", sa.String(60), nullable=False, server_default=""),
    sa.Column("promised_on", sa.Date, nullable=True),
    sa.Column("settled_on", sa.Date, nullable=True),
    sa.Column("paid", Amount, nullable=False, server_default="0"),
    sa.Index("ix_promise_open_due", "status", "due_on"),
    sa.Index("ix_promise_loan", "loan_id", "id"),  # 2026-12-14_promise_lookup
)

contact_log = sa.Table(
    "contact_log", metadata,
    _id(),
    sa.Column("case_id", Id, sa.ForeignKey("collection_case.id"), nullable=False, index=True),
    sa.Column("actor", sa.String(60), nullable=False),
    sa.Column("channel", sa.String(12), nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("at", Instant, nullable=False),
    sa.Column("notes", sa.Text, nullable=False, server_default=""),
    sa.Column("recording_ref", sa.String(200), nullable=False, server_default=""),
    sa.Column("complaint", sa.Boolean, nullable=False, server_default=sa.false()),
)

# The loans a placement covers, with each one's balance when it joined the placement. Payments
# on these loans dated while the placement is in force are the agency's recoveries.
placement_loan = sa.Table(
    "placement_loan", metadata,
    sa.Column("placement_id", Id, sa.ForeignKey("placement.id"), primary_key=True),
    sa.Column("loan_id", Id, sa.ForeignKey("loan.id"), primary_key=True),
    sa.Column("balance", Amount, nullable=False),
)

# A signed credential: "this collector (or agency, under a placement) collects this debt for
# this lender by these means until this instant" (CN-6, CN-9), as the JWS that was handed out.
# A collector's general badge names no loan; a placement credential names no collector.
# Added by 2026-12-02_borrower_protection: agency, loan, scope, visit date, key id, token.
collector_credential = sa.Table(
    "collector_credential", metadata,
    _id(),
    sa.Column("credential_ref", sa.String(60), nullable=False, unique=True),
    sa.Column("collector_id", Id, sa.ForeignKey("collector.id"), nullable=True, index=True),
    sa.Column("valid_from", Instant, nullable=False),
    sa.Column("valid_until", Instant, nullable=False),  # exclusive
    sa.Column("revoked_at", Instant, nullable=True),
    sa.Column("agency_id", Id, sa.ForeignKey("agency.id"), nullable=True),
    sa.Column("loan_id", Id, sa.ForeignKey("loan.id"), nullable=True, index=True),
    sa.Column("scope", sa.String(20), nullable=False, server_default=""),  # comma separated
    sa.Column("visit_on", sa.Date, nullable=True),
    sa.Column("kid", sa.String(64), nullable=False, server_default=""),
    sa.Column("token", sa.Text, nullable=False, server_default=""),
    sa.Column("issued_at", Instant, nullable=True),
)

# A written field-visit authorization from the creditor for one loan, naming the collectors
# who may attend, whether the visit is recorded, and the legal review (CN-9).
visit_authorization = sa.Table(
    "visit_authorization", metadata,
    _id(),
    sa.Column("authorization_ref", sa.String(60), nullable=False, unique=True),
    sa.Column("case_id", Id, sa.ForeignKey("collection_case.id"), nullable=False, index=True),
    sa.Column("loan_id", Id, sa.ForeignKey("loan.id"), nullable=False, index=True),
    sa.Column("collectors", sa.String(200), nullable=False),  # comma separated refs
    sa.Column("written", sa.Boolean, nullable=False),
    sa.Column("recording", sa.Boolean, nullable=False),
    sa.Column("issued_at", Instant, nullable=False),
    sa.Column("valid_until", Instant, nullable=False),  # exclusive
    sa.Column("legal_reviewer", sa.String(100), nullable=False, server_default=""),
    sa.Column("legal_review_at", Instant, nullable=True),
)

# A field visit the engine allowed: the request became a visit under an authorization.
field_visit = sa.Table(
    "field_visit", metadata,
    _id(),
    sa.Column("visit_key", sa.String(160), nullable=False, unique=True),
    sa.Column("authorization_id", Id, sa.ForeignKey("visit_authorization.id"), nullable=False,
              index=True),
    sa.Column("case_id", Id, sa.ForeignKey("collection_case.id"), nullable=False, index=True),
    sa.Column("loan_id", Id, sa.ForeignKey("loan.id"), nullable=False),
    sa.Column("planned_at", Instant, nullable=False),
    sa.Column("collectors", sa.String(200), nullable=False),
    sa.Column("recording", sa.Boolean, nullable=False),
    sa.Column("status", sa.String(12), nullable=False),  # scheduled | cancelled
    sa.Column("created_at", Instant, nullable=False),
)

# Email addresses a borrower gave for notices (the loan book keeps phones only).
borrower_email = sa.Table(
    "borrower_email", metadata,
    sa.Column("borrower_id", Id, sa.ForeignKey("borrower.id"), primary_key=True),
    sa.Column("address", sa.String(200), nullable=False),
)

# What a borrower said about being contacted, as received (US-9, US-12, US-19, cn.house.opt_out):
# an opt-out of a channel, a request to stop (written or oral, naming channels), or a window
# they said is inconvenient (borrower-local wall times). Rows are never updated: a revocation is
# a row of its own naming the row it withdraws, so the book keeps what was in force when.
contact_preference = sa.Table(
    "contact_preference", metadata,
    _id(),
    sa.Column("borrower_id", Id, sa.ForeignKey("borrower.id"), nullable=False, index=True),
    sa.Column("kind", sa.String(20), nullable=False),  # opt_out|cease|inconvenient_time|revocation
    sa.Column("channels", sa.String(100), nullable=False, server_default=""),  # comma separated
    sa.Column("in_writing", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("contact_point", sa.String(20), nullable=False, server_default=""),
    sa.Column("window_start", sa.Time, nullable=True),
    sa.Column("window_end", sa.Time, nullable=True),
    sa.Column("weekdays", sa.String(20), nullable=False, server_default=""),  # Monday = 0
    sa.Column("revokes_id", Id, sa.ForeignKey("contact_preference.id"), nullable=True,
              unique=True),
    sa.Column("received_at", Instant, nullable=False),
    sa.Column("received_via", sa.String(10), nullable=False),
    sa.Column("recorded_at", Instant, nullable=False),
)
