"""Collector casework: promises to pay (kept or broken, settled after EOD), contact logging
through the compliance engine, agency recoveries, collectors, and field visits under a
written authorization (signed credentials are `handlers.credentials`). Contacts, visit
authorizations and visits are appended to the borrower's evidence chain as they are written.

Every logged contact and every field-visit request is decided by the compliance engine at its
instant, with the facts `contact_decisions` assembles from the book (logged contacts as
attempt history, the borrower's opt-outs and requests to stop): a contact the engine would
block is refused with the rule ids and nothing is written; a visit is recorded only when the
engine allows it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from arrears.application.access import KEY_IDENTITY, WEB_PREFIX
from arrears.application.contact_decisions import (
    aware,
    case_loan,
    check_actor,
    loan_facts,
)
from arrears.application.contacts import (
    contact_action,
    reason,
    rule_ids,
)
from arrears.application.handlers import credentials, evidence
from arrears.application.handlers.contact_session import MAX_NOTES as MAX_NOTES
from arrears.application.handlers.contact_session import Contact, ContactLogged, contact_session
from arrears.application.handlers.contact_session import ContactRefused as ContactRefused
from arrears.application.handlers.eod import current_state
from arrears.application.loan_file import money_text
from arrears.application.ports import (
    Clock,
    Event,
    PromiseRow,
    UnitOfWork,
    VisitAuthorizationRow,
)
from arrears.application.web_users import WebUnitOfWork
from arrears.compliance import engine as compliance_engine
from arrears.compliance.facts import Credential, VisitAuthorization
from arrears.compliance.model import ActionKind, FieldVisit
from arrears.domain.errors import DomainError
from arrears.domain.loan import summarize

RECOVERY_LOOKBACK_DAYS = 35
"""Placements in force within this many days are re-totalled each day (back-dated payments)."""
NO_AUTHORIZATION = "house.visit_authorization"
"""House rule: no field visit without an authorization on file, whatever the pack says."""
ONE_DAY = timedelta(days=1)
PROMISE_HORIZON_DAYS = 90
"""A promise to pay is due at most this many days after the day it is made (a promise
further off is a plan, which a supervisor decides)."""
MAX_TAKER = 60
STAFF_IDENTITIES = (WEB_PREFIX, KEY_IDENTITY)
"""Who takes a promise without working the case: the lender's web users and API keys."""


def _business_day(uow: UnitOfWork) -> date:
    """The open business date: the day after the last closed EOD."""
    closed = uow.book.closed_through()
    if closed is None:
        raise DomainError("business_date", "the book has no closed business date yet")
    return closed + ONE_DAY


# --- promises to pay ----------------------------------------------------------------------


def record_promise(loan_ref: str, amount: int, due: date, *, collector: str = "",
                   uow_factory: Callable[[], UnitOfWork], clock: Clock) -> int:
    """A promise to pay `amount` (minor units) on `loan_ref` by `due`, taken by `collector` on
    the open business date: a collector or agency working the case (`Principal.identity`),
    the lender's staff (`web:<user>`, `key:<key ref>`, recorded as they are), or '' when the
    borrower made it themselves. Payments dated from that date through `due` count towards
    it. The amount is at most what settles the loan at the closed date, the due date at most
    `PROMISE_HORIZON_DAYS` ahead, and the same promise (amount and due date) is taken once a
    day: a form sent twice records one promise."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise DomainError("amount", "must be a positive number of minor units")
    if len(collector) > MAX_TAKER:
        raise DomainError("collector", f"must be at most {MAX_TAKER} characters")
    with uow_factory() as uow:
        # The loan's row is locked so two submits of one form take turns: the second sees
        # the first's promise below instead of both passing the same-day check.
        found = case_loan(uow, loan_ref, for_update=True)
        today = _business_day(uow)
        if due < today:
            raise DomainError("due_on", f"{due} is before the open business date {today}")
        if due > today + timedelta(days=PROMISE_HORIZON_DAYS):
            raise DomainError("due_on", f"{due} is more than {PROMISE_HORIZON_DAYS} days after "
                                        f"the open business date {today}")
        # As the portal shows it: the stored state brought over days EOD had nothing to do.
        owed = summarize(found.booked.loan,
                         current_state(found.booked, today - ONE_DAY)).payoff_amount
        if amount > owed:
            currency = found.booked.loan.currency
            raise DomainError("amount", f"{money_text(amount, currency)} is more than the "
                                        f"{money_text(owed, currency)} that settles the loan")
        if collector and not collector.startswith(STAFF_IDENTITIES):
            check_actor(uow, collector, found.case, today)
        same = uow.collections.promise_made(found.booked.id, amount, due, today)
        if same is not None:
            raise DomainError("promise", f"promise {same} for this amount and date was "
                                         "already recorded today")
        paid_before = uow.collections.paid_total(found.booked.id, today - ONE_DAY)
        promise_id = uow.collections.add_promise(
            found.case.id, found.booked.id, amount, due, clock.now(), paid_before,
            collector_ref=collector, promised_on=today)
        uow.commit()
    return promise_id


@dataclass(frozen=True, slots=True, kw_only=True)
class PromiseReport:
    business_date: date
    kept: int
    broken: int
    open: int


def evaluate_promises(day: date, *, uow_factory: Callable[[], UnitOfWork], clock: Clock
                      ) -> PromiseReport:
    """After EOD of `day`: a promise is kept as soon as the payments dated from its promise
    date through min(`day`, its due date) reach its amount; it is broken at the EOD of the day
    after its due date when they do not. Settled promises are not looked at again, so a
    re-run of a date changes nothing. Each settlement raises `promise.kept` or
    `promise.broken`."""
    at = clock.now()
    kept = broken = still_open = 0
    settled: list[Event] = []
    with uow_factory() as uow:
        store = uow.collections
        for promise in store.open_promises(day):
            paid = store.paid_between(promise.loan_id, promise.promised_on,
                                      min(day, promise.due_on))
            if paid >= promise.amount:
                store.settle_promise(promise.id, "kept", day, paid)
                settled.append(_settled("kept", promise, day, paid, at))
                kept += 1
            elif day > promise.due_on:
                store.settle_promise(promise.id, "broken", day, paid)
                settled.append(_settled("broken", promise, day, paid, at))
                broken += 1
            else:
                still_open += 1
        uow.events.emit(settled)
        uow.commit()
    return PromiseReport(business_date=day, kept=kept, broken=broken, open=still_open)


def _settled(status: str, promise: PromiseRow, day: date, paid: int, at: datetime) -> Event:
    return Event(message_id=f"promise.{status}:{promise.id}", topic=f"promise.{status}",
                 loan_id=promise.loan_id, business_date=day, created_at=at,
                 payload={"promise_id": promise.id, "amount": promise.amount, "paid": paid,
                          "promised_on": promise.promised_on.isoformat(),
                          "due_on": promise.due_on.isoformat()})


# --- contact logging -----------------------------------------------------------------------


def log_contact(loan_ref: str, *, actor: str, channel: str, outcome: str, at: datetime,
                notes: str = "", recording_ref: str = "", complaint: bool = False,
                script: str = "", uow_factory: Callable[[], UnitOfWork]) -> ContactLogged:
    """Log a contact with a borrower about `loan_ref`: its outcome (no answer, busy, voicemail,
    conversation, refused, wrong party), notes and a recording reference. The engine decides
    it first, at `at`, with the borrower's earlier logged contacts as history and `script` (the
    words the collector used, if given) as its content; a contact it would block raises
    `ContactRefused` (rule ids in the reason) and nothing is written.
    Logged contacts are the history later decisions count (CN-2, Reg F 7-in-7). A session of
    one contact (`contact_session`, where a collector's run of contacts is logged)."""
    contact = Contact(loan_ref=loan_ref, actor=actor, channel=channel, outcome=outcome, at=at,
                      notes=notes, recording_ref=recording_ref, complaint=complaint,
                      script=script)
    with contact_session(uow_factory=uow_factory) as session:
        return session.log(contact)


# --- agency recoveries ---------------------------------------------------------------------


def refresh_recoveries(day: date, *, uow_factory: Callable[[], UnitOfWork],
                       lookback_days: int = RECOVERY_LOOKBACK_DAYS) -> int:
    """After EOD of `day`: total, for every placement in force in the last `lookback_days`,
    the payments on its loans dated while it was in force (from placement through its end or
    the day before its recall) up to `day`. A recount, not an increment: re-runs and
    back-dated payments and reversals give the same figure. Returns placements recounted."""
    with uow_factory() as uow:
        count = uow.collections.refresh_recoveries(day, lookback_days)
        uow.commit()
    return count


# --- credentials and field visits ----------------------------------------------------------


BUCKETS = ("C", "M1", "M2", "M3", "M4", "M5", "M6", "M7+")


@dataclass(frozen=True, slots=True, kw_only=True)
class Deactivated:
    collector_ref: str
    cases_released: int
    credentials_revoked: tuple[str, ...]
    api_keys_revoked: tuple[str, ...] = ()
    web_users_disabled: tuple[str, ...] = ()
    visits_cancelled: int = 0


DEACTIVATED = "collector deactivated"
"""Why, on the borrower's evidence chain: general terms, the operator's words stay internal."""


def deactivate_collector(collector_ref: str, *, reason: str,
                         uow_factory: Callable[[], WebUnitOfWork], clock: Clock,
                         zone: str) -> Deactivated:
    """Take a collector off the floor (they left, or were suspended) in one transaction: their
    open cases go back to the next case sync to assign; every credential they hold is
    revoked, so a borrower checking their badge or a visit notice reads it as revoked; their
    API keys are revoked and their web sign-ins disabled (a request with such a key is refused
    as any revoked key is); and each field visit still ahead that names them is cancelled,
    with the visit notices of the rest of its team for that day (`zone`: the lender's, whose
    dates the notices name). `collector.deactivated` carries the operator's `reason` and all
    that was revoked."""
    if not reason.strip():
        raise DomainError("reason", "must not be empty")
    tz = ZoneInfo(zone)
    at = clock.now()
    with uow_factory() as uow:
        released = uow.collections.deactivate_collector(collector_ref)
        if released is None:
            if uow.collections.collector_active(collector_ref) is False:
                raise DomainError("collector", f"{collector_ref!r} is already deactivated")
            raise DomainError("collector", f"no active collector {collector_ref!r}")
        revoked = credentials.revoke_collectors(uow, collector_ref, at, reason=DEACTIVATED)
        cancelled = uow.collections.cancel_visits(at, collector_ref=collector_ref)
        for visit in cancelled:
            evidence.visit_cancelled(uow, visit.borrower_id, visit.loan_ref,
                                     visit.authorization_ref, visit.planned_at, at, DEACTIVATED)
            revoked += credentials.revoke_visit_notices(
                uow, visit.loan_id, visit.planned_at.astimezone(tz).date(),
                [c for c in visit.collectors if c != collector_ref], at, reason=DEACTIVATED)
        # The same revocation as `arrears apikeys revoke`, and a disabled user's sessions end
        # at their next request (`users.signed_in_user`).
        keys = [k.key_ref for k in uow.api.keys()
                if k.collector_ref == collector_ref and k.revoked_at is None]
        for key_ref in keys:
            uow.api.revoke_key(key_ref, at)
        users = uow.web.collector_users(collector_ref)
        for name in users:
            uow.web.disable_user(name, at)
        uow.events.emit([Event(
            message_id=f"collector.deactivated:{collector_ref}", topic="collector.deactivated",
            loan_id=None, business_date=uow.book.closed_through() or at.date(), created_at=at,
            payload={"collector": collector_ref, "reason": reason,
                     "cases_released": len(released), "credentials_revoked": revoked,
                     "api_keys_revoked": keys, "web_users_disabled": users,
                     "visits_cancelled": [
                         {"loan_id": v.loan_ref, "authorization": v.authorization_ref,
                          "planned_at": v.planned_at.isoformat()} for v in cancelled]})])
        uow.commit()
    return Deactivated(collector_ref=collector_ref, cases_released=len(released),
                       credentials_revoked=tuple(revoked), api_keys_revoked=tuple(keys),
                       web_users_disabled=tuple(users), visits_cancelled=len(cancelled))


def add_collector(collector_ref: str, name: str, *, languages: tuple[str, ...],
                  buckets: tuple[str, ...], capacity: int,
                  uow_factory: Callable[[], UnitOfWork]) -> int:
    """Put a collector on file with the buckets and languages they work and their capacity."""
    # No colon: every other kind of identity (`agency:`, `web:`, `key:`) carries one, so a
    # collector ref never passes for another (`Principal.identity`).
    if not collector_ref.strip() or ":" in collector_ref or "," in collector_ref:
        raise DomainError("collector", f"{collector_ref!r} is not a usable collector id "
                                       "(no colon or comma)")
    if not name.strip():
        raise DomainError("name", "must not be empty")
    unknown = [b for b in buckets if b not in BUCKETS]
    if not buckets or unknown:
        raise DomainError("buckets", f"expected some of {', '.join(BUCKETS)}")
    if any(not language.strip() or "," in language for language in languages):
        raise DomainError("languages", "a language is empty or has a comma")
    if capacity < 1:
        raise DomainError("capacity", "must be at least 1")
    with uow_factory() as uow:
        active = uow.collections.collector_active(collector_ref)
        if active:
            raise DomainError("collector", f"{collector_ref!r} is already on file")
        if active is not None:
            # Credentials, contacts and evidence name collectors by id: one id, one person.
            raise DomainError("collector", f"{collector_ref!r} was deactivated; a collector id "
                                           "is never given to anyone else")
        collector_id = uow.collections.add_collector(collector_ref, name, languages, buckets,
                                                     capacity)
        uow.commit()
    return collector_id


@dataclass(frozen=True, slots=True, kw_only=True)
class VisitAuthorizationRequest:
    """A creditor's authorization for a field visit on one loan (CN-9)."""

    authorization_ref: str
    loan_ref: str
    collectors: tuple[str, ...]
    issued_at: datetime
    valid_until: datetime
    written: bool = True
    recording: bool = True
    legal_reviewer: str = ""
    legal_review_at: datetime | None = None


def authorize_visit(request: VisitAuthorizationRequest, *,
                    uow_factory: Callable[[], UnitOfWork]) -> int:
    """Record a visit authorization as given. Whether it suffices (two credentialed
    collectors, written, legal review, recording …) is the engine's call at visit time."""
    if not request.authorization_ref.strip():
        raise DomainError("authorization_ref", "must not be empty")
    if not request.collectors:
        raise DomainError("collectors", "name at least one collector")
    if len(set(request.collectors)) != len(request.collectors):
        raise DomainError("collectors", "a collector is named twice")
    aware(request.issued_at, "issued_at")
    if aware(request.valid_until, "valid_until") <= request.issued_at:
        raise DomainError("valid_until", "must be after issued_at")
    if request.legal_review_at is not None:
        aware(request.legal_review_at, "legal_review_at")
        if not request.legal_reviewer.strip():
            raise DomainError("legal_reviewer", "name who reviewed it")
    elif request.legal_reviewer.strip():
        raise DomainError("legal_review_at", "give the instant of the legal review")
    with uow_factory() as uow:
        found = case_loan(uow, request.loan_ref)
        known = {c.collector_ref for c in uow.collections.collectors()}
        unknown = [c for c in request.collectors if c not in known]
        if unknown:
            raise DomainError("collectors", f"no active collector {unknown[0]!r}")
        row = VisitAuthorizationRow(
            id=0, authorization_ref=request.authorization_ref, case_id=found.case.id,
            loan_id=found.booked.id, collectors=request.collectors, written=request.written,
            recording=request.recording, issued_at=request.issued_at,
            valid_until=request.valid_until, legal_reviewer=request.legal_reviewer,
            legal_review_at=request.legal_review_at)
        authorization_id = uow.collections.add_visit_authorization(row)
        evidence.visit_authorized(uow, found.booked.borrower_id, found.row.loan_ref, row)
        uow.commit()
    return authorization_id


@dataclass(frozen=True, slots=True, kw_only=True)
class VisitOutcome:
    allowed: bool
    authorization_ref: str
    rule_ids: tuple[str, ...]
    reason: str
    next_allowed_at: datetime | None
    recorded: bool
    """A field visit was written (False when allowed but already on file)."""


def decide_visit(uow: UnitOfWork, loan_ref: str, at: datetime, *, visit_key: str,
                 authorization_ref: str = "", fallback_collectors: tuple[str, ...] = ()
                 ) -> VisitOutcome:
    """Ask the engine whether a field visit on `loan_ref` may take place at `at`, under the
    named authorization (or the latest one on file valid at `at`); record the visit under
    `visit_key` when it may. The caller commits."""
    found = case_loan(uow, loan_ref)
    store = uow.collections
    on_file = store.visit_authorizations(found.booked.id)
    if authorization_ref:
        chosen = next((a for a in on_file if a.authorization_ref == authorization_ref), None)
        if chosen is None:
            raise DomainError("authorization", f"no visit authorization {authorization_ref!r} "
                                               f"for {loan_ref}")
    else:
        valid = [a for a in on_file if a.issued_at <= at < a.valid_until]
        chosen = valid[-1] if valid else None
    collectors = chosen.collectors if chosen is not None else fallback_collectors
    visit = FieldVisit(collector_ids=collectors,
                       recording=chosen.recording if chosen is not None else True,
                       authorization_id=chosen.authorization_ref if chosen is not None else "")
    credentials = tuple(
        Credential(collector_id=c.collector_ref, valid_from=c.valid_from,
                   valid_until=c.valid_until, revoked_at=c.revoked_at)
        for c in store.credentials(collectors))
    authorizations = tuple(
        VisitAuthorization(authorization_id=a.authorization_ref,
                           debt_ids=(found.row.loan_ref,), collector_ids=a.collectors,
                           issued_at=a.issued_at, valid_until=a.valid_until,
                           written=a.written, legal_review_at=a.legal_review_at)
        for a in on_file)
    assembled = loan_facts(uow, found, at, credentials=credentials,
                           visit_authorizations=authorizations)
    action = contact_action(ActionKind.FIELD_VISIT, assembled.debtor, point="address",
                            visit=visit)
    decision = compliance_engine.decide(action, assembled.facts, found.pack, at)
    if decision.allowed and chosen is None:
        # A pack without a visit-authorization rule: the house still wants one (DESIGN §3).
        return VisitOutcome(allowed=False, authorization_ref="", rule_ids=(NO_AUTHORIZATION,),
                            reason=f"{NO_AUTHORIZATION}: no visit authorization on file",
                            next_allowed_at=None, recorded=False)
    recorded = False
    if decision.allowed and chosen is not None:
        recorded = store.add_field_visit(visit_key, chosen, at, at)
        if recorded:
            evidence.visit_recorded(uow, found.booked.borrower_id, found.row.loan_ref,
                                    chosen.authorization_ref, at, chosen.collectors, decision)
    return VisitOutcome(allowed=decision.allowed,
                        authorization_ref=chosen.authorization_ref if chosen else "",
                        rule_ids=rule_ids(decision), reason=reason(decision),
                        next_allowed_at=decision.next_allowed_at, recorded=recorded)


def request_visit(loan_ref: str, at: datetime, *, authorization_ref: str = "",
                  uow_factory: Callable[[], UnitOfWork]) -> VisitOutcome:
    """A field-visit request: it becomes a visit (recorded) only when the engine allows it
    at `at`; otherwise the outcome names the rules that refused it and nothing is written."""
    aware(at, "at")
    with uow_factory() as uow:
        outcome = decide_visit(uow, loan_ref, at, authorization_ref=authorization_ref,
                               visit_key=f"request:{loan_ref}:{at.isoformat()}")
        uow.commit()
    return outcome
