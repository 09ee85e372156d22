"""Logging contacts a run at a time: a collector's day of calls in one unit of work.

A `ContactSession` reads what the compliance engine needs for every loan of the run at once
(loans, open cases, planning rows, the borrowers' logged contacts, preferences, disputes and
refusals, the collectors and agencies), decides each contact in turn against it and the
contacts logged before it in the run, and appends the run's evidence to the borrowers' chains
together when the run ends. `casework.log_contact` is a session of one contact, so a contact
is decided and recorded alike whichever way it is logged.

Within a run nothing but its contacts changes what it decides: preferences, disputes, cases
and placements are read once, and a borrower's history and last refusal to pay gain each
contact as it is logged. So a session is for contacts logged together (a day's calls as a
batch), not one held open while others log: it does not see what they commit meanwhile, and
on SQLite it holds the book's write lock until it ends.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from arrears.application.contact_decisions import (
    HISTORY_DAYS,
    CaseLoan,
    assemble_case_loan,
    assemble_loan_facts,
    aware,
    check_actor_among,
    debt_of,
)
from arrears.application.contacts import (
    CONTACT_OUTCOMES,
    CONTACT_POINTS,
    LOGGED_CHANNELS,
    actor_of,
    contact_action,
    reason,
    rule_ids,
)
from arrears.application.disputes import DisputeRow
from arrears.application.handlers import evidence
from arrears.application.ports import (
    AgencyRow,
    BookedLoan,
    CaseRow,
    CollectorRow,
    ContactPreferenceRow,
    LoggedContact,
    PlanRow,
    UnitOfWork,
)
from arrears.application.trust import EvidenceDraft
from arrears.compliance import engine as compliance_engine
from arrears.compliance.facts import Debt
from arrears.compliance.model import Decision
from arrears.domain.errors import DomainError
from arrears.domain.product import Product

MAX_NOTES = 4000
MAX_RECORDING_REF = 200
REFUSED = "refused"
"""The outcome that records a refusal to pay (the engine reads the last one)."""


class ContactRefused(DomainError):
    """The compliance engine would block this contact; `rule_ids` says which rules."""

    def __init__(self, decision: Decision) -> None:
        super().__init__("compliance", reason(decision))
        self.rule_ids = rule_ids(decision)
        self.next_allowed_at = decision.next_allowed_at


@dataclass(frozen=True, slots=True, kw_only=True)
class Contact:
    """A contact with the borrower of `loan_ref` as a collector logs it."""

    loan_ref: str
    actor: str
    channel: str
    outcome: str
    at: datetime
    notes: str = ""
    recording_ref: str = ""
    complaint: bool = False
    script: str = ""
    """The words the collector used, if given: the content the engine judges."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactLogged:
    contact_id: int
    decision: Decision


def check_contact(contact: Contact) -> None:
    """Reject a contact no book could log: unknown outcome or channel, no actor, a naive
    instant, notes or script or recording reference too long."""
    if contact.outcome not in CONTACT_OUTCOMES:
        raise DomainError("outcome", f"unknown outcome {contact.outcome!r} (expected one of "
                                     f"{', '.join(CONTACT_OUTCOMES)})")
    if contact.channel not in LOGGED_CHANNELS or contact.channel == "field_visit":
        expected = ", ".join(c for c in LOGGED_CHANNELS if c != "field_visit")
        raise DomainError("channel", f"unknown channel {contact.channel!r} (expected one of "
                                     f"{expected}; field visits go through a visit request)")
    if not contact.actor.strip():
        raise DomainError("actor", "must not be empty")
    aware(contact.at, "at")
    for field, text in (("notes", contact.notes), ("script", contact.script)):
        if len(text) > MAX_NOTES:
            raise DomainError(field, f"longer than {MAX_NOTES} characters")
    if len(contact.recording_ref) > MAX_RECORDING_REF:
        raise DomainError("recording_ref", f"longer than {MAX_RECORDING_REF} characters")


class ContactSession:
    """Contacts logged one after another in `uow`, about loans read ahead by `read` (any other
    loan is read when a contact names it). `close` appends the evidence; the caller commits."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow
        self._closed: date | None = uow.book.closed_through()
        self._products: dict[str, Product] | None = None
        self._collectors: list[CollectorRow] | None = None
        self._agencies: list[AgencyRow] | None = None
        self._placements: dict[date, dict[int, tuple[int, int]]] = {}
        self._loans: dict[str, tuple[BookedLoan | None, CaseRow | None, PlanRow | None]] = {}
        self._debts: dict[int, Debt] = {}
        self._history: dict[int, list[LoggedContact]] = {}
        self._history_since: dict[int, datetime] = {}
        self._refusals: dict[int, datetime] = {}
        self._preferences: dict[int, list[ContactPreferenceRow]] = {}
        self._disputes: dict[str, list[DisputeRow]] = {}
        self._drafts: list[EvidenceDraft] = []

    def read(self, loan_refs: Iterable[str], *, since: datetime) -> None:
        """Read ahead what contacts at or after `since` about `loan_refs` are decided with."""
        uow, store = self._uow, self._uow.collections
        wanted = sorted(set(loan_refs) - self._loans.keys())
        if not wanted:
            return
        booked = uow.book.get_by_refs(wanted)
        cases = store.cases_of_borrowers([b.borrower_id for b in booked.values()])
        rows = store.plan_rows([b.id for b in booked.values() if b.borrower_id in cases])
        for ref in wanted:
            loan = booked.get(ref)
            self._loans[ref] = (loan, None if loan is None else cases.get(loan.borrower_id),
                                None if loan is None else rows.get(loan.id))
        # Only loans a contact can be logged about (an open case, an active loan) need more.
        worked = {row.loan_ref: row.borrower_id for ref in wanted
                  if (row := self._loans[ref][2]) is not None}
        borrowers = sorted(set(worked.values()) - self._history_since.keys())
        self._read_history(borrowers, since - timedelta(days=HISTORY_DAYS))
        self._preferences.update(store.contact_preferences(borrowers))
        self._refusals.update(store.last_refusals(borrowers))
        self._disputes.update(uow.disputes.of_loans(sorted(worked)))

    def log(self, contact: Contact) -> ContactLogged:
        """Decide `contact` at its instant and log it; `ContactRefused` (nothing written) if
        the engine would block it."""
        check_contact(contact)
        found = self._case_loan(contact.loan_ref, contact.at)
        borrower = found.booked.borrower_id
        on = contact.at.astimezone(ZoneInfo(found.pack.reference_zone)).date()
        check_actor_among(contact.actor, found.case, on, collectors=self._collector_rows,
                          agencies=self._agency_rows, placements=self._placements_on)
        since = contact.at - timedelta(days=HISTORY_DAYS)
        if self._history_since.get(borrower, since) > since:
            self._read_history([borrower], since)
        assembled = assemble_loan_facts(
            found, contact.at, closed=self._closed, history=self._history.get(borrower, ()),
            preferences=self._preferences.get(borrower, ()),
            disputes=self._disputes.get(found.row.loan_ref, ()),
            agency_whitelist=tuple(a.agency_ref for a in self._agency_rows() if a.whitelisted),
            refused_to_pay_at=self._refusals.get(borrower), debt=self._debt(found))
        kind = LOGGED_CHANNELS[contact.channel]
        action = contact_action(kind, assembled.debtor, point=CONTACT_POINTS[kind],
                                content=contact.script, actor=actor_of(contact.actor),
                                voicemail=contact.outcome == "voicemail")
        decision = compliance_engine.decide(action, assembled.facts, found.pack, contact.at)
        if not decision.allowed:
            raise ContactRefused(decision)
        contact_id = self._uow.collections.log_contact(
            found.case.id, contact.actor, contact.channel, contact.outcome, contact.at,
            contact.notes, contact.recording_ref, contact.complaint)
        self._remember(borrower, contact)
        self._drafts.append(evidence.contact_logged(
            found.row, actor=contact.actor, channel=contact.channel, outcome=contact.outcome,
            at=contact.at, notes=contact.notes, recording_ref=contact.recording_ref,
            complaint=contact.complaint, decision=decision))
        return ContactLogged(contact_id=contact_id, decision=decision)

    def close(self) -> None:
        """Append the evidence of the contacts logged, in the order they were logged."""
        self._uow.evidence.append(self._drafts)
        self._drafts = []

    # --- what the book holds, read once --------------------------------------------------

    def _case_loan(self, loan_ref: str, at: datetime) -> CaseLoan:
        if loan_ref not in self._loans:
            self.read([loan_ref], since=at)
        booked, case, row = self._loans[loan_ref]
        return assemble_case_loan(loan_ref, booked=booked, case=case, row=row,
                                  products=self._product_map)

    def _read_history(self, borrowers: list[int], since: datetime) -> None:
        found = self._uow.collections.call_history(borrowers, since)
        for borrower in borrowers:
            self._history[borrower] = found.get(borrower, [])
            self._history_since[borrower] = since

    def _remember(self, borrower: int, contact: Contact) -> None:
        """The contact as `call_history` and `last_refusals` will read it back: in UTC, after
        contacts at the same instant."""
        at = contact.at.astimezone(UTC)
        bisect.insort_right(self._history.setdefault(borrower, []), LoggedContact(
            at=at, actor=contact.actor, channel=contact.channel, outcome=contact.outcome),
            key=lambda logged: logged.at)
        last = self._refusals.get(borrower)
        if contact.outcome == REFUSED and (last is None or at > last):
            self._refusals[borrower] = at

    def _debt(self, found: CaseLoan) -> Debt:
        if found.booked.id not in self._debts:
            self._debts[found.booked.id] = debt_of(found.booked, found.row, self._closed)
        return self._debts[found.booked.id]

    def _product_map(self) -> dict[str, Product]:
        if self._products is None:
            self._products = self._uow.book.products()
        return self._products

    def _collector_rows(self) -> list[CollectorRow]:
        if self._collectors is None:
            self._collectors = self._uow.collections.collectors()
        return self._collectors

    def _agency_rows(self) -> list[AgencyRow]:
        if self._agencies is None:
            self._agencies = self._uow.collections.agencies()
        return self._agencies

    def _placements_on(self, on: date) -> dict[int, tuple[int, int]]:
        if on not in self._placements:
            self._placements[on] = self._uow.collections.active_placements(on)
        return self._placements[on]


@contextmanager
def contact_session(*, uow_factory: Callable[[], UnitOfWork]) -> Iterator[ContactSession]:
    """A session in a unit of work of its own, committed with its evidence when the block
    ends without an exception (rolled back, nothing logged, when one escapes it)."""
    with uow_factory() as uow:
        session = ContactSession(uow)
        yield session
        session.close()
        uow.commit()
