"""The seasoned demo book: boarded with its histories, it is the book a day-by-day run of the
services leaves (month by month for the ledger), and from its first day it has loans in
every bucket, write-offs and recoveries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import date, timedelta

import sqlalchemy as sa

from arrears import bootstrap
from arrears.adapters.db import tables as t
from arrears.adapters.db.history_store import SqlSeasoningUnitOfWorkFactory
from arrears.adapters.db.payment_import_store import SqlPaymentImportUnitOfWorkFactory
from arrears.application import demo, queries, seasoning
from arrears.application.handlers import servicing
from arrears.application.loan_import import LoanRow
from arrears.config import Settings
from arrears.domain.schedule import due_dates

from book_checks import assert_ledger_consistent
from shipped import default_products

START = date(2026, 1, 1)
WRITE_OFF_DPD = 60
FIRST = date(2025, 5, 28)


def _planned(index: int, product: str, terms: int, principal: int, *, delays: list[int],
             payoff_after: int | None = None, recovery_after: int | None = None,
             percent: int = 0) -> demo.PlannedLoan:
    """A loan disbursed on `FIRST` + `index` days whose borrower pays each installment
    `delays[n]` days after it falls due, then stops."""
    borrower = replace(demo.plan_book(1, 1, START, index)[0].row.borrower,
                       borrower_ref=f"DB-{index:06d}")
    disbursed = FIRST + timedelta(days=index)
    row = LoanRow(line=index, loan_ref=f"DL-{index:06d}", borrower=borrower,
                  product_code=product, currency="CNY", principal=principal,
                  disbursed_on=disbursed, terms=terms)
    dues = due_dates(disbursed, terms)
    return demo.PlannedLoan(
        row=row, behaviour=demo.Behaviour.ON_TIME,
        pay_days=tuple(sorted({due + timedelta(days=delay)
                               for due, delay in zip(dues, delays, strict=False)})),
        payoff_day=None if payoff_after is None else disbursed + timedelta(days=payoff_after),
        recovery_day=None if recovery_after is None else dues[len(delays)] + timedelta(
            days=recovery_after),
        recovery_percent=percent)


# One borrower for each way a history goes: held credit and an early last installment (which
# settles the loan), on the due date, chronically late, once very late, a default written
# off and then a recovery, a payoff, and two payments ahead of one due date.
BOOK = [
    _planned(1, demo.CASH_LOAN, 6, 1_200_000, delays=[-3, -2, -1, -3, -2, -1]),
    _planned(2, demo.PHONE_PLAN, 24, 459_900, delays=[0] * 24),
    _planned(3, demo.CASH_LOAN, 12, 800_000, delays=[10, 17, 25, 9, 12, 20, 14]),
    _planned(4, demo.CASH_LOAN, 9, 2_000_000, delays=[-1, 44, 0, 0, 0, -2, -3]),
    _planned(5, demo.CASH_LOAN, 18, 3_000_000, delays=[0], recovery_after=WRITE_OFF_DPD + 30,
             percent=50),
    _planned(6, demo.PHONE_PLAN, 24, 699_900, delays=[-2, 0], payoff_after=75),
    _planned(7, demo.CASH_LOAN, 12, 500_000, delays=[-3, -3, 29, -3, -1, -3, 0]),
]


def _books(services: bootstrap.Services, tmp_path) -> bootstrap.Services:  # noqa: ANN001
    """`services` with BOOK boarded seasoned at START, and a book on SQLite where the same
    loans were run day by day through the services up to it."""
    servicing.init_book(START, default_products(), uow_factory=services.uow_factory)
    seasoning.board([(p.row, p.payments()) for p in BOOK], START - timedelta(days=1),
                    WRITE_OFF_DPD, uow_factory=SqlSeasoningUnitOfWorkFactory(services.engine),
                    clock=services.clock)
    daily = bootstrap.build(Settings(database_url=f"sqlite:///{tmp_path / 'daily.db'}"),
                            clock=services.clock)
    daily.migrate()
    demo.simulate(BOOK, FIRST, (START - FIRST).days, default_products(),
                  uow_factory=daily.uow_factory,
                  paying=SqlPaymentImportUnitOfWorkFactory(daily.engine),
                  clock=daily.clock,
                  write_off_dpd=WRITE_OFF_DPD)
    return daily


def _by_month(connection: sa.Connection, table: sa.Table, *columns: str
              ) -> dict[tuple[object, ...], int]:
    """Sums of `table`'s amounts by loan id, month and `columns[:-1]` (`columns[-1]` is the
    amount)."""
    *keys, amount = columns
    sums: dict[tuple[object, ...], int] = defaultdict(int)
    for row in connection.execute(sa.select(table.c.loan_id, table.c.business_date,
                                            *(table.c[k] for k in keys), table.c[amount])):
        day: date = row[1]
        sums[(row[0], day.year, day.month, *row[2:-1])] += int(row[-1])
    return {key: value for key, value in sums.items() if value}


def _dump(built: bootstrap.Services) -> dict[str, object]:
    """The history as the book keeps it: loans and installments, payments, bucket changes
    and events row for row; the ledger and accruals month by month."""
    loan, i, p, c, o = t.loan, t.installment, t.payment, t.delinquency_change, t.outbox
    with built.engine.connect() as connection:
        return {
            "loans": connection.execute(sa.select(*(col for col in loan.c if col.name != "id"))
                                        .order_by(loan.c.loan_ref)).all(),
            "installments": connection.execute(sa.select(*(col for col in i.c
                                                           if col.name != "id"))
                                               .order_by(i.c.loan_id, i.c.number)).all(),
            "payments": connection.execute(sa.select(*(col for col in p.c
                                                       if col.name not in ("id", "recorded_at")))
                                           .order_by(p.c.idempotency_key)).all(),
            "changes": connection.execute(sa.select(c.c.loan_id, c.c.business_date,
                                                    c.c.from_bucket, c.c.to_bucket, c.c.dpd)
                                          .order_by(c.c.loan_id, c.c.id)).all(),
            "events": connection.execute(sa.select(o.c.message_id, o.c.topic, o.c.loan_id,
                                                   o.c.business_date, o.c.payload)
                                         .order_by(o.c.message_id)).all(),
            "ledger": _by_month(connection, t.posting, "account", "amount"),
            "accrual": {**_by_month(connection, t.accrual, "penalty"),
                        **{(*k, "compound"): v for k, v in
                           _by_month(connection, t.accrual, "compound").items()}},
        }


def test_a_seasoned_book_is_the_book_a_day_by_day_run_leaves(services, tmp_path):
    daily = _books(services, tmp_path)
    seasoned, by_day = _dump(services), _dump(daily)
    for part in seasoned:
        assert seasoned[part] == by_day[part], part
    assert {"loan.written_off", "payment.posted", "loan.bucket_changed"} <= {
        event.topic for event in seasoned["events"]}
    assert any(payment.recovery for payment in seasoned["payments"])
    assert_ledger_consistent(services)


def test_the_seasoned_book_starts_with_every_bucket_write_offs_and_recoveries(services):
    servicing.init_book(START, default_products(), uow_factory=services.uow_factory)
    planned = demo.plan_book(1000, 120, START, 7, season_months=demo.SEASON_MONTHS)
    seasoning.board([(p.row, p.payments()) for p in planned if p.row.disbursed_on < START],
                    START - timedelta(days=1), demo.WRITE_OFF_DPD,
                    uow_factory=SqlSeasoningUnitOfWorkFactory(services.engine),
                    clock=services.clock)
    document = queries.portfolio_document(None, uow_factory=services.uow_factory)
    assert document["as_of"] == "2025-12-31"
    assert all(document["buckets"][b]["loans"] > 0
               for b in ("C", "M1", "M2", "M3", "M4", "M5", "M6", "M7+")), document["buckets"]
    assert document["by_status"]["written_off"]["loans"] > 0
    assert document["by_status"]["settled"]["loans"] > 0
    with services.engine.connect() as connection:
        recovered = connection.scalar(sa.select(sa.func.count()).select_from(t.payment)
                                      .where(t.payment.c.recovery))
        moves = set(connection.execute(sa.select(t.delinquency_change.c.from_bucket,
                                                 t.delinquency_change.c.to_bucket)).all())
    assert recovered > 0
    assert {("C", "M1"), ("M1", "C"), ("M1", "M2"), ("M6", "M7+")} <= moves
