"""The loan book on SQLAlchemy Core: explicit row ⇄ domain translation, bulk reads and writes.

Only rows that changed are written; a state carries every installment, so an update compares
the new installment rows with the stored ones and writes the difference.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime
from functools import cache
from itertools import chain
from operator import itemgetter
from typing import Any, cast

import sqlalchemy as sa

from arrears.adapters.db import collections_tables as ct
from arrears.adapters.db import plan_tables as pt
from arrears.adapters.db import tables as t
from arrears.adapters.db.shared_rows import insert_shared
from arrears.application.loan_file import parse_product, parse_stored_plan
from arrears.application.ports import (
    BookedLoan,
    Borrower,
    ContactPerson,
    EodRun,
    Event,
    LoanListRow,
    LoanUpdate,
    Phone,
    StaleWrite,
    StoredPayment,
)
from arrears.domain.delinquency import ACTIVE_STATUSES, Bucket, LoanStatus
from arrears.domain.loan import InstallmentState, Loan, LoanState, PaymentApplied
from arrears.domain.plans import ByComponent, Plan, check_sequence
from arrears.domain.product import Component, Product

# From this many new loans per distinct schedule on, the database copies the schedules
# (`_add_installments`); with fewer, copying saves nothing and costs two temporary tables.
LOANS_PER_SHARED_SCHEDULE = 2
INSTALLMENT_AMOUNTS = tuple(
    f.name for f in fields(InstallmentState) if f.name not in ("number", "due_date")
)
# The fields in the order INSTALLMENTS_OF selects them after the loan id.
INSTALLMENT_FIELDS = ("number", "due_date", *INSTALLMENT_AMOUNTS)

# The statements on the payment and EOD paths are built once: SQLAlchemy then only looks up
# their compiled form, which is most of the difference between 300 and 1,000+ payments/s.
CLOSED_THROUGH = sa.select(t.business_day.c.closed_through)
# A loan row says whether the loan holds a plan, so that loans without one (most) cost no
# query for their plans.
HOLDS_PLAN = sa.exists().where((pt.plan.c.loan_id == t.loan.c.id) & pt.plan.c.in_force)
LOAN_ROW = sa.select(t.loan, HOLDS_PLAN.label("holds_plan"))
LOAN_BY_REF = LOAN_ROW.where(t.loan.c.loan_ref == sa.bindparam("ref"))
LOANS_BY_REF = LOAN_ROW.where(t.loan.c.loan_ref.in_(sa.bindparam("refs", expanding=True)))
LOANS_BY_ID = (LOAN_ROW.where(t.loan.c.id.in_(sa.bindparam("ids", expanding=True)))
               .order_by(t.loan.c.id))
# Locks taken by a statement of their own, before the read: on PostgreSQL a statement that
# waited for a lock sees the row its holder wrote but answers its subqueries (`HOLDS_PLAN`)
# from before the wait, and would miss a plan approved meanwhile.
LOCK_LOANS = (sa.select(t.loan.c.id).where(t.loan.c.id.in_(sa.bindparam("ids", expanding=True)))
              .order_by(t.loan.c.id).with_for_update())
LOCK_LOAN_BY_REF = (sa.select(t.loan.c.id).where(t.loan.c.loan_ref == sa.bindparam("ref"))
                    .with_for_update())
# Columns in `InstallmentState` order: rows unpack straight into it (by attribute, a loan's
# twenty-odd rows cost more to read than the query).
INSTALLMENTS_OF = (
    sa.select(t.installment.c.loan_id, t.installment.c.number, t.installment.c.due_on,
              *(t.installment.c[name] for name in INSTALLMENT_AMOUNTS))
    .where(t.installment.c.loan_id.in_(sa.bindparam("ids", expanding=True)))
    .order_by(t.installment.c.loan_id, t.installment.c.number))
PAYMENT_BY_KEY = sa.select(t.payment).where(t.payment.c.idempotency_key == sa.bindparam("key"))
REVERSALS_OF = sa.select(t.payment.c.id).where(t.payment.c.reverses_id == sa.bindparam("id"))
INSERT_PAYMENT = t.payment.insert()
INSERT_POSTING = t.posting.insert()
OUTBOX_COLUMNS = ("message_id", "topic", "loan_id", "business_date", "payload", "created_at")
INSERT_ACCRUAL = t.accrual.insert()
INSERT_DELINQUENCY_CHANGE = t.delinquency_change.insert()
# What plans did to a loan, one column per component (`LoanState.waived`, `.capitalised`).
PLAN_AMOUNT_COLUMNS = tuple((what, component, f"{what}_{component.value}")
                            for what in ("waived", "capitalised") for component in Component)
LOAN_STATE_COLUMNS = ("state_on", "status", "dpd", "bucket", "earliest_unpaid_due_on",
                      "prepaid_principal", "unapplied", "written_off_on", "delinquent_since",
                      "offer_received", "pauses", *(name for _, _, name in PLAN_AMOUNT_COLUMNS))
# Conditional on the date the state was read at: a writer working from a stale read changes
# no row, and `apply` refuses the whole update (see `StaleWrite`).
UPDATE_LOAN = t.loan.update().where(
    (t.loan.c.id == sa.bindparam("b_id")) & (t.loan.c.state_on == sa.bindparam("b_state_on"))
).values(**{name: sa.bindparam(name) for name in LOAN_STATE_COLUMNS})
PLANS_IN_FORCE = (
    sa.select(pt.plan.c.loan_id, pt.plan.c.terms)
    .where(pt.plan.c.loan_id.in_(sa.bindparam("ids", expanding=True)) & pt.plan.c.in_force)
    .order_by(pt.plan.c.loan_id, pt.plan.c.effective_on, pt.plan.c.id))
INSERT_INSTALLMENT = t.installment.insert()
DELETE_INSTALLMENT = t.installment.delete().where(
    (t.installment.c.loan_id == sa.bindparam("b_loan_id"))
    & (t.installment.c.number == sa.bindparam("b_number")))
UPDATE_INSTALLMENT = t.installment.update().where(
    (t.installment.c.loan_id == sa.bindparam("b_loan_id"))
    & (t.installment.c.number == sa.bindparam("b_number"))
).values(due_on=sa.bindparam("due_on"),
          **{name: sa.bindparam(name) for name in INSTALLMENT_AMOUNTS})


def stored_installment(values: Sequence[Any]) -> InstallmentState:
    """The installment of a stored row's values, in `INSTALLMENT_FIELDS` order. Its fields
    are set as the frozen dataclass's own keyword `__init__` sets them (one by one, through
    `object.__setattr__`; it checks nothing), without the keyword call, which was half the
    cost of reading a loan of twenty-odd installments."""
    installment = _new_installment(InstallmentState)
    for name, value in zip(INSTALLMENT_FIELDS, values, strict=True):
        _set_field(installment, name, value)
    return installment


_new_installment = object.__new__
_set_field = object.__setattr__
# An event's payload as the outbox stores it: `json.dumps(payload, ensure_ascii=False,
# sort_keys=True)`, by one encoder built once (`json.dumps` builds one a call when given
# options, a third of its cost on a payment file's hundred thousand events).
payload_text = json.JSONEncoder(ensure_ascii=False, sort_keys=True).encode


def plan_state_values(state: LoanState) -> dict[str, Any]:
    """The loan columns holding what plans did to `state`."""
    values: dict[str, Any] = {
        "delinquent_since": state.delinquent_since, "offer_received": state.offer_received,
        "pauses": ";".join(f"{start.isoformat()}/{end.isoformat()}"
                           for start, end in state.pauses)}
    for what, pairs in _AMOUNT_FIELDS.items():
        amounts = getattr(state, what)
        for field, name in pairs:
            values[name] = getattr(amounts, field)
    return values


# (ByComponent field, loan column) per kind of plan amount, worked out once: every loan read
# builds two ByComponents.
_AMOUNT_FIELDS = {what: tuple((component.value, name)
                              for kind, component, name in PLAN_AMOUNT_COLUMNS if kind == what)
                  for what in ("waived", "capitalised")}


def _amounts_of(row: InstallmentState) -> dict[str, int]:
    return {name: getattr(row, name) for name in INSTALLMENT_AMOUNTS}


def _amounts(row: Any, what: str) -> ByComponent:
    return ByComponent(**{field: getattr(row, name) for field, name in _AMOUNT_FIELDS[what]})


def _pauses(text: str) -> tuple[tuple[date, date], ...]:
    pairs = (item.split("/") for item in text.split(";") if item)
    return tuple((date.fromisoformat(start), date.fromisoformat(end)) for start, end in pairs)


def left_behind(loan: sa.FromClause = t.loan) -> sa.ColumnElement[bool]:
    """The loan (a row of `loan`) failed in an end-of-day after the date its state is stored
    at."""
    return sa.select(t.eod_failure.c.loan_id).where(
        (t.eod_failure.c.loan_id == loan.c.id)
        & (t.eod_failure.c.business_date > loan.c.state_on)).exists()


class SqlLoanBook:
    """`LoanBook` over one open connection (the unit of work owns the transaction)."""

    def __init__(self, connection: sa.Connection, products: dict[str, Product]) -> None:
        self.connection = connection
        self._products = products  # shared cache: product definitions never change

    # --- business date ---------------------------------------------------------------

    def closed_through(self) -> date | None:
        value = self.connection.scalar(CLOSED_THROUGH)
        return value if isinstance(value, date) else None

    def close_through(self, day: date) -> None:
        updated = self.connection.execute(
            t.business_day.update().where(t.business_day.c.id == 1).values(closed_through=day))
        if updated.rowcount == 0:
            self.connection.execute(t.business_day.insert().values(id=1, closed_through=day))

    # --- products and borrowers --------------------------------------------------------

    def product_definitions(self) -> dict[str, dict[str, Any]]:
        rows = self.connection.execute(sa.select(t.product.c.code, t.product.c.definition))
        return {code: json.loads(text) for code, text in rows}

    def products(self) -> dict[str, Product]:
        """Every product in the store. Definitions never change once added, so the shared
        cache only parses codes it has not seen; it is filled from what the store holds,
        never from an insert that might still roll back."""
        known = list(self.connection.scalars(sa.select(t.product.c.code)))
        if any(code not in self._products for code in known):
            for code, definition in self.product_definitions().items():
                self._products.setdefault(code, parse_product(definition))
        return {code: self._products[code] for code in known}

    def add_product(self, code: str, definition: dict[str, Any]) -> None:
        self.connection.execute(t.product.insert().values(
            code=code, definition=json.dumps(definition, ensure_ascii=False, sort_keys=True)))

    def existing_borrowers(self, refs: Iterable[str]) -> dict[str, tuple[int, Borrower]]:
        rows: list[Any] = []
        for chunk in _chunks(list(set(refs))):
            rows.extend(self.connection.execute(
                sa.select(t.borrower).where(t.borrower.c.borrower_ref.in_(chunk))))
        phones: dict[int, list[Phone]] = defaultdict(list)
        contacts: dict[int, list[ContactPerson]] = defaultdict(list)
        emails: dict[int, str] = {}
        for chunk in _chunks([row.id for row in rows]):
            for phone in self.connection.execute(
                    sa.select(t.borrower_phone).where(t.borrower_phone.c.borrower_id.in_(chunk))
                    .order_by(t.borrower_phone.c.id)):
                phones[phone.borrower_id].append(Phone(number=phone.number,
                                                       time_zone=phone.time_zone,
                                                       kind=phone.kind))
            for contact in self.connection.execute(
                    sa.select(t.contact_person).where(t.contact_person.c.borrower_id.in_(chunk))
                    .order_by(t.contact_person.c.id)):
                contacts[contact.borrower_id].append(ContactPerson(
                    name=contact.name, relation=contact.relation, phone=contact.phone))
            emails.update(self.connection.execute(
                sa.select(ct.borrower_email.c.borrower_id, ct.borrower_email.c.address)
                .where(ct.borrower_email.c.borrower_id.in_(chunk))).all())
        return {row.borrower_ref: (row.id, Borrower(
            borrower_ref=row.borrower_ref, name=row.name, national_id=row.national_id,
            address=row.address, region=row.region, time_zone=row.time_zone,
            language=row.language, phones=tuple(phones[row.id]),
            contacts=tuple(contacts[row.id]), behaviour=row.behaviour,
            email=emails.get(row.id, ""))) for row in rows}

    def existing_loans(self, refs: Iterable[str]) -> set[str]:
        found: set[str] = set()
        for chunk in _chunks(list(set(refs))):
            found.update(self.connection.scalars(
                sa.select(t.loan.c.loan_ref).where(t.loan.c.loan_ref.in_(chunk))))
        return found

    def add_borrowers(self, borrowers: Sequence[Borrower]) -> dict[str, int]:
        """Bulk inserts per table (see `insert_rows`), not a round of statements per
        borrower."""
        if not borrowers:
            return {}
        ids = _insert_returning_ids(
            self.connection, t.borrower, ("borrower_ref", "name", "national_id", "address",
                                          "region", "time_zone", "language", "behaviour"),
            [(b.borrower_ref, b.name, b.national_id, b.address, b.region, b.time_zone,
              b.language, b.behaviour) for b in borrowers])
        phones, contacts, emails = [], [], []
        for borrower in borrowers:
            borrower_id = ids[borrower.borrower_ref]
            phones.extend((borrower_id, p.number, p.time_zone, p.kind) for p in borrower.phones)
            contacts.extend((borrower_id, c.name, c.relation, c.phone) for c in borrower.contacts)
            if borrower.email:
                emails.append((borrower_id, borrower.email))
        insert_rows(self.connection, t.borrower_phone,
                    ("borrower_id", "number", "time_zone", "kind"), phones)
        insert_rows(self.connection, t.contact_person,
                    ("borrower_id", "name", "relation", "phone"), contacts)
        insert_rows(self.connection, ct.borrower_email, ("borrower_id", "address"), emails)
        return ids

    # --- loans -----------------------------------------------------------------------

    def add_loans(self, updates: Sequence[LoanUpdate]) -> list[int]:
        """Insert new loans straight at their boarding state (`update.state`), with its
        installments and the opening ledger entry: what inserting the schedule
        (`update.booked.state`) and then `apply` would leave, in one write per row. A boarding
        accrues nothing, so the update's accrual is not written. Bulk inserts per table for the
        whole batch (see `insert_rows`)."""
        if not updates:
            return []
        as_date = driver_dates(self.connection.dialect)
        # Loans boarded on the same terms share one state object: its rows are built once.
        schedules: dict[int, tuple[Any, list[tuple[Any, ...]]]] = {}
        for update in updates:
            if id(update.state) not in schedules:
                earliest = min((row.due_date for row in update.state.installments
                                if not row.is_paid), default=None)
                schedules[id(update.state)] = (
                    earliest and as_date(earliest),
                    [(row.number, as_date(row.due_date),
                      *(getattr(row, name) for name in INSTALLMENT_AMOUNTS))
                     for row in update.state.installments])
        # A loan boarded overdue starts its delinquency before the book knew it (and a state
        # may carry what plans did): the same columns `apply` writes.
        plan_columns = tuple(plan_state_values(updates[0].state))
        by_ref = _insert_returning_ids(
            self.connection, t.loan,
            ("loan_ref", "borrower_id", "product_code", "currency", "principal", "disbursed_on",
             "terms", "state_on", "status", "dpd", "bucket", "earliest_unpaid_due_on",
             "prepaid_principal", "unapplied", "written_off_on", *plan_columns),
            [(u.loan.loan_id, u.booked.borrower_id, u.booked.product_code, u.loan.currency,
              u.loan.principal, as_date(u.loan.disbursed_on), u.loan.terms,
              as_date(u.state.as_of), u.status.value, u.dpd, u.bucket.value,
              schedules[id(u.state)][0], u.state.prepaid_principal, u.state.unapplied,
              u.loan.written_off_on and as_date(u.loan.written_off_on),
              *(value if not isinstance(value, date) else as_date(value)
                for value in plan_state_values(u.state).values())) for u in updates])
        ids = [by_ref[update.loan.loan_id] for update in updates]
        self._add_installments(updates, ids, schedules)
        postings, changes = [], []
        for update, loan_id in zip(updates, ids, strict=True):
            day = as_date(update.business_date)
            postings.extend((update.entry, loan_id, day, account.value, amount)
                            for account, amount in update.postings)
            if update.bucket != update.booked.bucket:
                changes.append({"loan_id": loan_id, "business_date": update.business_date,
                                "from_bucket": update.booked.bucket.value,
                                "to_bucket": update.bucket.value, "dpd": update.dpd})
        insert_rows(self.connection, t.posting,
                    ("entry", "loan_id", "business_date", "account", "amount"), postings)
        if changes:
            self.connection.execute(t.delinquency_change.insert(), changes)
        return ids

    def _add_installments(self, updates: Sequence[LoanUpdate], ids: list[int],
                          schedules: dict[int, tuple[Any, list[tuple[Any, ...]]]]) -> None:
        """The new loans' installment rows (`schedules`: per shared state, its rows without
        the loan id). When loans share schedules, as a large file on few terms does, the
        database copies each schedule to its loans (`insert_shared`)."""
        columns = ("number", "due_on", *INSTALLMENT_AMOUNTS)
        if len(updates) >= LOANS_PER_SHARED_SCHEDULE * len(schedules):
            position = {key: index for index, key in enumerate(schedules)}
            insert_shared(self.connection, t.installment, "loan_id", columns,
                          [rows for _, rows in schedules.values()],
                          [(loan_id, position[id(update.state)])
                           for update, loan_id in zip(updates, ids, strict=True)], insert_rows)
            return
        insert_rows(self.connection, t.installment, ("loan_id", *columns),
                    [(loan_id, *row) for update, loan_id in zip(updates, ids, strict=True)
                     for row in schedules[id(update.state)][1]])

    def _load(self, loan_rows: Sequence[Any]) -> list[BookedLoan]:
        if not loan_rows:
            return []
        by_loan: dict[int, list[InstallmentState]] = defaultdict(list)
        ids = [row.id for row in loan_rows]
        due_date = stored_dates(self.connection.dialect)
        for chunk in _chunks(ids):
            for loan_id, number, due_on, *amounts in driver_rows(
                    self.connection, INSTALLMENTS_OF, {"ids": chunk}):
                by_loan[loan_id].append(stored_installment((number, due_date(due_on),
                                                            *amounts)))
        products = self._products
        if any(row.product_code not in products for row in loan_rows):
            products = self.products()
        plans: dict[int, list[Plan]] = defaultdict(list)
        currencies = {row.id: row.currency for row in loan_rows}
        for chunk in _chunks([row.id for row in loan_rows if row.holds_plan]):
            for loan_id, terms in self.connection.execute(PLANS_IN_FORCE, {"ids": chunk}):
                plans[loan_id].append(parse_stored_plan(json.loads(terms), currencies[loan_id]))
        return [
            BookedLoan(
                id=row.id, borrower_id=row.borrower_id, product_code=row.product_code,
                loan=Loan(loan_id=row.loan_ref, currency=row.currency,
                          principal=row.principal, disbursed_on=row.disbursed_on,
                          terms=row.terms, product=products[row.product_code],
                          written_off_on=row.written_off_on,
                          plans=check_sequence(tuple(plans[row.id]))),
                state=LoanState(as_of=row.state_on, installments=tuple(by_loan[row.id]),
                                prepaid_principal=row.prepaid_principal,
                                unapplied=row.unapplied, waived=_amounts(row, "waived"),
                                capitalised=_amounts(row, "capitalised"),
                                pauses=_pauses(row.pauses),
                                delinquent_since=row.delinquent_since,
                                offer_received=row.offer_received),
                status=LoanStatus(row.status), dpd=row.dpd, bucket=Bucket(row.bucket),
            )
            for row in loan_rows
        ]

    def get(self, loan_ref: str, *, for_update: bool = False) -> BookedLoan | None:
        if for_update:  # a statement of its own: see LOCK_LOANS
            self.connection.execute(LOCK_LOAN_BY_REF, {"ref": loan_ref})
        found = self._load(self.connection.execute(LOAN_BY_REF, {"ref": loan_ref}).all())
        return found[0] if found else None

    def get_by_refs(self, loan_refs: Iterable[str]) -> dict[str, BookedLoan]:
        """The loans among `loan_refs` the book holds, by ref (no locks)."""
        found: dict[str, BookedLoan] = {}
        for chunk in _chunks(sorted(set(loan_refs))):
            for booked in self._load(self.connection.execute(LOANS_BY_REF,
                                                             {"refs": chunk}).all()):
                found[booked.loan.loan_id] = booked
        return found

    def get_many(self, ids: Sequence[int], *, for_update: bool = False) -> list[BookedLoan]:
        """The loans with these ids; `for_update` locks their rows (PostgreSQL) so a
        concurrent payment waits instead of being overwritten by this transaction."""
        loaded: list[BookedLoan] = []
        for chunk in _chunks(list(ids)):
            if for_update:
                self.connection.execute(LOCK_LOANS, {"ids": chunk})
            loaded.extend(self._load(self.connection.execute(LOANS_BY_ID, {"ids": chunk}).all()))
        return loaded

    def apply(self, updates: Sequence[LoanUpdate]) -> None:
        """Write each loan's new state, its ledger entry and its accrual, changed rows only;
        `StaleWrite` if a loan is no longer at the date its state was read at. Installments
        are matched by number: a re-age adds rows and drops closed ones that took nothing."""
        loan_rows, installment_rows, postings, accruals, changes = [], [], [], [], []
        new_rows: list[dict[str, Any]] = []
        dropped: list[dict[str, Any]] = []
        for update in updates:
            booked, state = update.booked, update.state
            unpaid = [row.due_date for row in state.installments if not row.is_paid]
            loan_rows.append({
                "b_id": booked.id, "b_state_on": booked.state.as_of, "state_on": state.as_of,
                "status": update.status.value, "dpd": update.dpd, "bucket": update.bucket.value,
                "earliest_unpaid_due_on": min(unpaid) if unpaid else None,
                "prepaid_principal": state.prepaid_principal, "unapplied": state.unapplied,
                "written_off_on": update.loan.written_off_on, **plan_state_values(state),
            })
            stored = {row.number: row for row in booked.state.installments}
            for new in state.installments:
                old = stored.pop(new.number, None)
                if old is new:  # the domain keeps the rows it did not change
                    continue
                if old is None:
                    new_rows.append({"loan_id": booked.id, "number": new.number,
                                     "due_on": new.due_date, **_amounts_of(new)})
                elif old != new:
                    # A prepayment under `prepay` can bring the last interest due forward,
                    # and a plan moves due dates.
                    installment_rows.append({"b_loan_id": booked.id, "b_number": new.number,
                                             "due_on": new.due_date, **_amounts_of(new)})
            dropped.extend({"b_loan_id": booked.id, "b_number": number} for number in stored)
            postings.extend(
                {"entry": update.entry, "loan_id": booked.id,
                 "business_date": update.business_date, "account": account.value,
                 "amount": amount}
                for account, amount in update.postings)
            if update.accrued_penalty or update.accrued_compound:
                accruals.append({"loan_id": booked.id, "business_date": update.business_date,
                                 "penalty": update.accrued_penalty,
                                 "compound": update.accrued_compound})
            if update.bucket != booked.bucket:
                changes.append({"loan_id": booked.id, "business_date": update.business_date,
                                "from_bucket": booked.bucket.value,
                                "to_bucket": update.bucket.value, "dpd": update.dpd})
        if loan_rows:
            written = execute_many(self.connection, UPDATE_LOAN, loan_rows)
            if written != len(loan_rows):
                raise StaleWrite(len(loan_rows), written)
        for statement, rows in ((UPDATE_INSTALLMENT, installment_rows),
                                (DELETE_INSTALLMENT, dropped), (INSERT_INSTALLMENT, new_rows),
                                (INSERT_POSTING, postings), (INSERT_ACCRUAL, accruals),
                                (INSERT_DELINQUENCY_CHANGE, changes)):
            if rows:
                execute_many(self.connection, statement, rows)

    # --- payments --------------------------------------------------------------------

    def _payment(self, row: Any, reversed_ids: set[int]) -> StoredPayment:
        return StoredPayment(id=row.id, loan_id=row.loan_id, key=row.idempotency_key,
                             on=row.paid_on, amount=row.amount, reverses_id=row.reverses_id,
                             reversed=row.id in reversed_ids, prepayment=row.prepayment)

    def payment_by_key(self, key: str) -> StoredPayment | None:
        row = self.connection.execute(PAYMENT_BY_KEY, {"key": key}).first()
        if row is None:
            return None
        reversed_by = self.connection.scalar(REVERSALS_OF, {"id": row.id})
        return self._payment(row, {row.id} if reversed_by is not None else set())

    def payments_of(self, loan_id: int) -> list[StoredPayment]:
        rows = self.connection.execute(
            sa.select(t.payment).where(t.payment.c.loan_id == loan_id)
            .order_by(t.payment.c.paid_on, t.payment.c.id)).all()
        reversed_ids = {row.reverses_id for row in rows if row.reverses_id is not None}
        return [self._payment(row, reversed_ids) for row in rows]

    def add_payment(self, loan_id: int, applied: PaymentApplied, recorded_at: datetime,
                    reverses_id: int | None = None, recovery: bool = False,
                    prepayment: bool = False) -> int:
        return int(self.connection.execute(INSERT_PAYMENT, {
            "loan_id": loan_id, "idempotency_key": applied.key, "paid_on": applied.on,
            "amount": applied.amount, "to_fee": applied.to_fee, "to_penalty": applied.to_penalty,
            "to_compound": applied.to_compound, "to_interest": applied.to_interest,
            "to_principal": applied.to_principal, "to_credit": applied.to_credit,
            "recovery": recovery, "prepayment": prepayment, "reverses_id": reverses_id,
            "recorded_at": recorded_at,
        }).inserted_primary_key[0])

    def emit(self, events: Sequence[Event]) -> None:
        insert_rows(self.connection, t.outbox, OUTBOX_COLUMNS,
                    outbox_rows(self.connection.dialect, events))

    # --- end of day --------------------------------------------------------------------

    def eod_run(self, day: date) -> EodRun | None:
        row = self.connection.execute(
            sa.select(t.eod_run).where(t.eod_run.c.business_date == day)).first()
        if row is None:
            return None
        return EodRun(business_date=row.business_date, status=row.status,
                      loans_processed=row.loans_processed, loans_failed=row.loans_failed)

    def start_eod(self, day: date, engine: str, at: datetime) -> None:
        self.connection.execute(t.eod_run.insert().values(
            business_date=day, status="running", engine=engine, started_at=at))

    def progress_eod(self, day: date, processed: int, failed: int) -> None:
        self.connection.execute(
            t.eod_run.update().where(t.eod_run.c.business_date == day).values(
                loans_processed=t.eod_run.c.loans_processed + processed,
                loans_failed=t.eod_run.c.loans_failed + failed))

    def finish_eod(self, day: date, at: datetime) -> None:
        self.connection.execute(
            t.eod_run.update().where(t.eod_run.c.business_date == day).values(
                status="completed", finished_at=at))

    def loans_needing_eod(self, day: date, after_id: int, limit: int) -> list[int]:
        """Active loans with an installment due or overdue by `day`, or left behind by an
        earlier failure, not yet closed for `day` nor set aside on it. A loan with nothing due
        is not touched: its stored state stays valid as it is (see `loan.state_on`)."""
        loan, failure = t.loan.c, t.eod_failure.c
        open_loan = loan.status.in_(ACTIVE_STATUSES) & (loan.state_on < day) & (loan.id > after_id)
        # Two selects rather than one with OR: each part can use its index (the due date's,
        # the failures' key), where an OR of the two scans every loan.
        due = sa.select(loan.id).where(open_loan & (loan.earliest_unpaid_due_on <= day))
        behind = sa.select(loan.id).select_from(t.loan.join(
            t.eod_failure, (failure.loan_id == loan.id) & (failure.business_date > loan.state_on)
        )).where(open_loan)
        candidates = sa.union(due, behind).subquery()
        set_aside = sa.select(failure.loan_id).where(
            (failure.business_date == day) & (failure.loan_id == candidates.c.id))
        return list(self.connection.scalars(
            sa.select(candidates.c.id).where(~set_aside.exists())
            .order_by(candidates.c.id).limit(limit)))

    def untouched_due_dates(self, ids: Sequence[int], day: date
                            ) -> dict[int, tuple[str, list[date]]]:
        loan, installment = t.loan.c, t.installment.c
        found: dict[int, tuple[str, list[date]]] = {}
        for chunk in _chunks(list(ids)):
            for loan_id, product_code, due_on in self.connection.execute(
                    sa.select(loan.id, loan.product_code, installment.due_on)
                    .select_from(t.loan.outerjoin(t.installment, (installment.loan_id == loan.id)
                                                  & (installment.due_on <= day)))
                    .where(loan.id.in_(chunk) & loan.status.in_(ACTIVE_STATUSES)
                           & (loan.state_on < day) & (loan.earliest_unpaid_due_on > day))):
                dates = found.setdefault(loan_id, (product_code, []))[1]
                if due_on is not None:
                    dates.append(due_on)
        return found

    def record_failures(self, day: date, failures: Sequence[tuple[int, str]]) -> None:
        if failures:
            self.connection.execute(
                t.eod_failure.insert(),
                [{"business_date": day, "loan_id": loan_id, "error": error[:2000]}
                 for loan_id, error in failures])


@dataclass(frozen=True, slots=True)
class _Prepared:
    """A statement compiled for one dialect and one set of row keys."""

    sql: str
    names: tuple[str, ...]  # its parameters, in the order a positional driver takes them
    values: Callable[[dict[str, Any]], tuple[Any, ...]]  # a row's values, in that order
    processors: tuple[tuple[int, Callable[[Any], Any]], ...]  # (position, bind processor)
    positional: bool


_PREPARED: dict[tuple[sa.Insert | sa.Update | sa.Delete, str, tuple[str, ...]], _Prepared] = {}
# From this many rows a plain INSERT goes by `insert_rows` (COPY, multi-row statements).
BULK_INSERT_ROWS = 50


def _prepare(dialect: sa.Dialect, statement: sa.Insert | sa.Update | sa.Delete,
             keys: tuple[str, ...]) -> _Prepared:
    compiled = statement.compile(dialect=dialect, column_keys=list(keys))
    names = tuple(compiled.positiontup or ()) if compiled.positional else tuple(compiled.binds)
    processors = tuple(
        (position, process) for position, name in enumerate(names)
        if (process := compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect))
        is not None)
    getter = itemgetter(*names)
    values = getter if len(names) > 1 else lambda row: (getter(row),)
    return _Prepared(sql=compiled.string, names=names, values=values, processors=processors,
                     positional=compiled.positional)


def execute_many(connection: sa.Connection, statement: sa.Insert | sa.Update | sa.Delete,
                 rows: Sequence[dict[str, Any]]) -> int:
    """Run `statement` (a module-level constant, a plain INSERT or an UPDATE or DELETE) once
    per row of `rows` (dicts with the same keys, one per parameter); the rows it changed. The
    statement is compiled once per dialect and keys, each value goes through its type's bind
    processor as SQLAlchemy would, and the driver runs them all: SQLAlchemy's own per-row
    parameter handling costs several times the driver's work for the thousands of rows of an
    end-of-day batch or a payment file. Many rows of an INSERT go by `insert_rows`."""
    dialect = connection.dialect
    keys = tuple(rows[0])
    prepared = _PREPARED.get((statement, dialect.name, keys))
    if prepared is None:
        prepared = _PREPARED[(statement, dialect.name, keys)] = _prepare(dialect, statement,
                                                                        keys)
    bulk_insert = isinstance(statement, sa.Insert) and len(rows) >= BULK_INSERT_ROWS
    if not (prepared.positional or bulk_insert or prepared.processors):
        return int(connection.exec_driver_sql(prepared.sql, list(rows)).rowcount)
    values = [prepared.values(row) for row in rows]
    if prepared.processors:
        values = [_processed(row, prepared.processors) for row in values]
    if bulk_insert:
        insert_rows(connection, cast(sa.Table, statement.table), prepared.names, values)
        return len(rows)
    params: list[Any] = values if prepared.positional \
        else [dict(zip(prepared.names, row, strict=True)) for row in values]
    return int(connection.exec_driver_sql(prepared.sql, params).rowcount)


def outbox_rows(dialect: sa.Dialect, events: Iterable[Event]) -> list[tuple[Any, ...]]:
    """Events as outbox rows of `OUTBOX_COLUMNS`, in the driver's form."""
    day, instant = driver_dates(dialect), driver_form(dialect, t.outbox.c.created_at.type)
    return [(e.message_id, e.topic, e.loan_id, day(e.business_date), payload_text(e.payload),
             instant(e.created_at)) for e in events]


def execute_rows(connection: sa.Connection, statement: sa.Insert | sa.Update | sa.Delete,
                 keys: tuple[str, ...], rows: list[tuple[Any, ...]]) -> int:
    """`execute_many` of rows given as tuples of `keys`' values already in the driver's form
    (`driver_form`): no dict a row, no bind processor a value. An INSERT runs as it is
    written, row by row (an `ON CONFLICT` clause holds), never as `insert_rows`' COPY."""
    if not rows:
        return 0
    dialect = connection.dialect
    prepared = _PREPARED.get((statement, dialect.name, keys))
    if prepared is None:
        prepared = _PREPARED[(statement, dialect.name, keys)] = _prepare(dialect, statement,
                                                                        keys)
    if prepared.names != keys:
        reorder = itemgetter(*(keys.index(name) for name in prepared.names))
        rows = [reorder(row) for row in rows]
    params: list[Any] = rows if prepared.positional \
        else [dict(zip(prepared.names, row, strict=True)) for row in rows]
    return int(connection.exec_driver_sql(prepared.sql, params).rowcount)


def _processed(values: tuple[Any, ...],
               processors: tuple[tuple[int, Callable[[Any], Any]], ...]) -> tuple[Any, ...]:
    converted = list(values)
    for position, process in processors:
        converted[position] = process(converted[position])
    return tuple(converted)


def _insert_sql(dialect: sa.Dialect, table: sa.Table, columns: Sequence[str], rows: int) -> str:
    quote = dialect.identifier_preparer.quote
    mark = {"qmark": "?", "format": "%s", "pyformat": "%s"}[dialect.paramstyle]
    group = f"({', '.join([mark] * len(columns))})"
    return (f"INSERT INTO {dialect.identifier_preparer.format_table(table)} "
            f"({', '.join(quote(name) for name in columns)}) VALUES {', '.join([group] * rows)}")


def insert_rows(connection: sa.Connection, table: sa.Table, columns: Sequence[str],
                rows: list[tuple[Any, ...]]) -> None:
    """Bulk rows (a boarding's some twenty installment, ledger and contact rows a loan, a
    payment file's payments and postings) handed straight to the driver, in the transaction:
    SQLAlchemy's per-row parameter handling costs about twice the driver's insert itself.
    PostgreSQL takes them by COPY (psycopg binds a multi-row INSERT slower than it pipelines
    an executemany, and COPY is some ten times either); SQLite runs multi-row statements
    about twice as fast as an executemany. Values must already be in the driver's form
    (`driver_dates`, `driver_form`). A few rows on PostgreSQL (a single payment's) go as one
    INSERT: a COPY's round trips cost more than it saves on them."""
    if not rows:
        return
    if connection.dialect.name == "postgresql" and len(rows) >= BULK_INSERT_ROWS:
        preparer = connection.dialect.identifier_preparer
        sql = (f"COPY {preparer.format_table(table)} "
               f"({', '.join(preparer.quote(name) for name in columns)}) FROM STDIN")
        driver = connection.dialect.loaded_dbapi
        try:
            with connection.connection.driver_connection.cursor() as cursor, \
                    cursor.copy(sql) as copy:
                for row in rows:
                    copy.write_row(row)
        except driver.Error as error:
            # As SQLAlchemy raises it for its own statements (`IntegrityError` for a key
            # already taken, which payment files and the API retry on; `OperationalError`,
            # which the CLI reports as the database's): the COPY went to the driver itself.
            raise sa.exc.DBAPIError.instance(sql, None, error, driver.Error) from error
    else:
        _insert_pages(connection, table, columns, rows)


def _insert_returning_ids(connection: sa.Connection, table: sa.Table, columns: Sequence[str],
                          rows: list[tuple[Any, ...]]) -> dict[str, int]:
    """Insert rows whose first column is a unique reference; reference → new id. Multi-row
    statements straight to the driver, as `insert_rows` (SQLAlchemy's own multi-row insert
    with RETURNING goes one row per statement on SQLite when asked to keep the rows' order;
    matching ids by reference needs no order)."""
    quote = connection.dialect.identifier_preparer.quote
    return dict(_insert_pages(connection, table, columns, rows,
                              f" RETURNING {quote(columns[0])}, {quote('id')}"))


NEXT_IDS = sa.text("SELECT nextval(seq) FROM (SELECT pg_get_serial_sequence(:table, 'id')"
                   "::regclass AS seq) AS numbering, generate_series(1, :n) ORDER BY 1")


def new_ids(connection: sa.Connection, table: sa.Table, count: int) -> Sequence[int]:
    """Ids for `count` new rows of `table`, in order, as the table would number them, taken
    before the insert so that the rows that refer to them (a message's content, an evidence
    entry's files) need no read back, and the rows still go by `insert_rows`. PostgreSQL
    draws them from the id column's sequence. On SQLite a writer's transaction holds the
    whole database from its first statement (BEGIN IMMEDIATE) and no table declares
    AUTOINCREMENT: a new row takes one more than the largest id."""
    if connection.dialect.name == "postgresql":
        return connection.scalars(NEXT_IDS, {"table": table.name, "n": count}).all()
    last = connection.scalar(_largest_id(table)) or 0
    return range(last + 1, last + 1 + count)


@cache  # built once per table, as the other statements of the write paths
def _largest_id(table: sa.Table) -> sa.Select[Any]:
    return sa.select(sa.func.max(table.c.id))


def _insert_pages(connection: sa.Connection, table: sa.Table, columns: Sequence[str],
                  rows: list[tuple[Any, ...]], returning: str = "") -> list[Any]:
    """Multi-row INSERT statements of at most 900 values each (see `_chunks`); the rows
    `returning` (a RETURNING clause) gives back, if any."""
    per_statement = max(1, 900 // len(columns))
    full = _insert_sql(connection.dialect, table, columns, per_statement) + returning
    returned: list[Any] = []
    for chunk in _chunks(rows, per_statement):
        sql = full if len(chunk) == per_statement else (
            _insert_sql(connection.dialect, table, columns, len(chunk)) + returning)
        result = connection.exec_driver_sql(sql, tuple(chain.from_iterable(chunk)))
        if returning:
            returned.extend(result.all())
    return returned


def driver_rows(connection: sa.Connection, statement: sa.Select[Any],
                params: dict[str, Any]) -> list[Any]:
    """The rows of `statement` as the driver's tuples, for columns that need no result
    processing (integers, text) or get it from `stored_dates`: SQLAlchemy fetching and
    wrapping them a row at a time cost more than the query."""
    result = connection.execute(statement, params)
    try:
        return list(result.cursor.fetchall())
    finally:
        result.close()


def stored_dates(dialect: sa.Dialect) -> Callable[[Any], date]:
    """Dates as the driver gives them back (SQLite: ISO text) read as SQLAlchemy's `Date`
    reads them, memoised: a loan's installments share a few dozen due dates."""
    process = sa.Date().dialect_impl(dialect).result_processor(dialect, None)
    return (lambda value: value) if process is None else cache(process)


def driver_dates(dialect: sa.Dialect) -> Callable[[date], Any]:
    """Dates as the dialect's `Date` type stores them (SQLite: ISO text), memoised: a batch
    holds few distinct due dates."""
    return driver_form(dialect, sa.Date())


def driver_form(dialect: sa.Dialect, type_: sa.types.TypeEngine[Any]) -> Callable[[Any], Any]:
    """Values of `type_` as the driver takes them, memoised: a batch holds few distinct dates
    and instants."""
    process = type_.dialect_impl(dialect).bind_processor(dialect)
    if process is None:
        return lambda value: value
    seen: dict[Any, Any] = {}

    def convert(value: Any) -> Any:
        # Keyed with the zone too: equal instants in two zones are equal keys, and a driver
        # that writes the wall time (SQLite) writes them differently.
        key = (value, getattr(value, "tzinfo", None))
        if key not in seen:
            seen[key] = process(value)
        return seen[key]

    return convert


def _chunks(items: list[Any], size: int = 900) -> Iterable[list[Any]]:
    # SQLite limits bound parameters per statement; 900 stays under every version's limit.
    for start in range(0, len(items), size):
        yield items[start:start + size]


class SqlReports:
    """Read-side aggregates for reports (no domain objects)."""

    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def portfolio(self) -> list[tuple[str, str, int, int]]:
        """(status, bucket, loans, principal outstanding) for every status and bucket."""
        outstanding = (
            sa.select(t.installment.c.loan_id,
                      sa.func.sum(t.installment.c.principal - t.installment.c.paid_principal)
                      .label("principal"))
            .group_by(t.installment.c.loan_id).subquery())
        rows = self.connection.execute(
            sa.select(t.loan.c.status, t.loan.c.bucket, sa.func.count(),
                      sa.func.coalesce(sa.func.sum(outstanding.c.principal), 0))
            .select_from(t.loan.join(outstanding, outstanding.c.loan_id == t.loan.c.id))
            .group_by(t.loan.c.status, t.loan.c.bucket))
        return [(status, bucket, int(count), int(total)) for status, bucket, count, total in rows]

    def restructured(self) -> tuple[int, dict[str, int], int]:
        """(loans holding a plan, such loans per plan kind, everything plans forgave)."""
        in_force = (sa.select(pt.plan.c.loan_id, pt.plan.c.kind).where(pt.plan.c.in_force)
                    .subquery())
        by_kind = {kind: int(count) for kind, count in self.connection.execute(
            sa.select(in_force.c.kind, sa.func.count(sa.distinct(in_force.c.loan_id)))
            .group_by(in_force.c.kind))}
        loans = int(self.connection.scalar(
            sa.select(sa.func.count(sa.distinct(in_force.c.loan_id)))) or 0)
        waived = sum(t.loan.c[name] for what, _, name in PLAN_AMOUNT_COLUMNS
                     if what == "waived")
        total = int(self.connection.scalar(sa.select(sa.func.coalesce(sa.func.sum(waived), 0)))
                    or 0)
        return loans, by_kind, total

    def bucket_moves(self, first: date, last: date) -> list[tuple[str, str, int]]:
        """(from, to, loans) for the delinquency changes dated in [first, last] of loans on
        the book then (a recovery on a written-off loan moves no bucket of the book)."""
        change, loan = t.delinquency_change.c, t.loan.c
        rows = self.connection.execute(
            sa.select(change.from_bucket, change.to_bucket, sa.func.count())
            .select_from(t.delinquency_change.join(t.loan, loan.id == change.loan_id))
            .where(change.business_date.between(first, last),
                   loan.written_off_on.is_(None) | (change.business_date <= loan.written_off_on))
            .group_by(change.from_bucket, change.to_bucket))
        return [(a, b, int(n)) for a, b, n in rows]

    def buckets_on(self, day: date) -> dict[str, int]:
        change, loan = t.delinquency_change.c, t.loan.c
        last = (sa.select(sa.func.max(change.id).label("id"))
                .where(change.business_date <= day).group_by(change.loan_id).subquery())
        rows = self.connection.execute(
            sa.select(change.to_bucket, sa.func.count())
            .select_from(t.delinquency_change.join(last, last.c.id == change.id)
                         .join(t.loan, loan.id == change.loan_id))
            # A loan written off has left the book: its last bucket is where it stopped.
            .where(loan.written_off_on.is_(None) | (loan.written_off_on > day))
            .group_by(change.to_bucket))
        return {bucket: int(count) for bucket, count in rows}

    def account_totals(self, first: date | None = None, last: date | None = None
                       ) -> dict[str, int]:
        """Signed ledger totals per account, optionally for business dates in [first, last]."""
        query = sa.select(t.posting.c.account, sa.func.sum(t.posting.c.amount))
        if first is not None and last is not None:
            query = query.where(t.posting.c.business_date.between(first, last))
        rows = self.connection.execute(query.group_by(t.posting.c.account))
        return {account: int(total) for account, total in rows}

    def cash_received(self, first: date, last: date) -> int:
        """Money received from borrowers over business dates [first, last]: the cash of
        payment entries, net of reversals (disbursements are not receipts)."""
        entry = t.posting.c.entry
        return int(self.connection.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(t.posting.c.amount), 0))
            .where((t.posting.c.account == "cash")
                   & (entry.startswith("pay:") | entry.startswith("reverse:"))
                   & t.posting.c.business_date.between(first, last))) or 0)

    def currencies(self) -> list[str]:
        return sorted(self.connection.scalars(sa.select(t.loan.c.currency).distinct()))

    def eod_failures(self, day: date) -> list[tuple[str, str]]:
        rows = self.connection.execute(
            sa.select(t.loan.c.loan_ref, t.eod_failure.c.error)
            .select_from(t.eod_failure.join(t.loan, t.loan.c.id == t.eod_failure.c.loan_id))
            .where(t.eod_failure.c.business_date == day))
        return [(ref, error) for ref, error in rows]

    def borrower_of(self, loan_ref: str) -> dict[str, Any] | None:
        row = self.connection.execute(
            sa.select(t.borrower).select_from(
                t.borrower.join(t.loan, t.loan.c.borrower_id == t.borrower.c.id))
            .where(t.loan.c.loan_ref == loan_ref)).mappings().first()
        if row is None:
            return None
        phones = self.connection.execute(
            sa.select(t.borrower_phone.c.number, t.borrower_phone.c.time_zone)
            .where(t.borrower_phone.c.borrower_id == row["id"])).all()
        return {**dict(row), "phones": [(n, z) for n, z in phones]}

    def payments_of(self, loan_ref: str) -> list[dict[str, Any]]:
        rows = self.connection.execute(
            sa.select(t.payment).select_from(
                t.payment.join(t.loan, t.loan.c.id == t.payment.c.loan_id))
            .where(t.loan.c.loan_ref == loan_ref).order_by(t.payment.c.id)).mappings()
        return [dict(row) for row in rows]

    def loan_list(self, *, status: str | None, bucket: str | None, product: str | None,
                  borrower: str | None, limit: int) -> list[LoanListRow]:
        loan_ref: sa.ColumnElement[str] = t.loan.c.loan_ref
        if self.connection.dialect.name == "postgresql":
            # The database's collation might sort ids by language rules; SQLite compares bytes.
            loan_ref = loan_ref.collate("C")
        query = (
            sa.select(t.loan.c.id, t.loan.c.loan_ref, t.borrower.c.borrower_ref,
                      t.loan.c.product_code, t.loan.c.status, t.loan.c.bucket, t.loan.c.dpd)
            .select_from(t.loan.join(t.borrower, t.borrower.c.id == t.loan.c.borrower_id))
            .order_by(t.loan.c.dpd.desc(), loan_ref).limit(limit))
        for column, wanted in ((t.loan.c.status, status), (t.loan.c.bucket, bucket),
                               (t.loan.c.product_code, product),
                               (t.borrower.c.borrower_ref, borrower)):
            if wanted is not None:
                query = query.where(column == wanted)
        return [LoanListRow(id=row.id, loan_ref=row.loan_ref, borrower_ref=row.borrower_ref,
                            product_code=row.product_code, status=row.status,
                            bucket=row.bucket, dpd=row.dpd)
                for row in self.connection.execute(query)]
