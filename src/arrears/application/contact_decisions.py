"""One source of the facts the compliance engine decides a contact with, assembled from the book.

For a borrower's loan at an instant: the outstanding balance (payoff) and DPD as of the last
EOD, the contact points and zones, the logged contacts before the instant as attempt history,
what the borrower asked about being contacted and had not withdrawn by then (opt-outs, requests
to stop, inconvenient times), its disputes about the debt received and not answered by then,
the agency whitelist and the last refusal to pay. Strategies
(`handlers.collections`, a batch at a time), contact logging and field visits
(`handlers.casework`), the worker's send-time re-check (`notifications`) and `decide_contact`
(the API and `arrears compliance may`) all build their facts with `debtor_of` and
`Debtor.facts`, so one loan at one instant gets the same facts whichever path asks. Nothing is
written here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from arrears.application.contacts import (
    AGENCY_PREFIX,
    CONTACT_POINTS,
    LENDER,
    LOGGED_CHANNELS,
    Debtor,
    Preferences,
    actor_of,
    attempts_from_log,
    contact_action,
)
from arrears.application.disputes import DisputeRow
from arrears.application.handlers.eod import current_state
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
from arrears.compliance import engine as compliance_engine
from arrears.compliance import packs
from arrears.compliance.facts import (
    CeaseNotice,
    ContactPoint,
    Credential,
    Debt,
    Dispute,
    Facts,
    InconvenientTime,
    OptOut,
    VisitAuthorization,
)
from arrears.compliance.facts import DisputeKind as FactKind
from arrears.compliance.model import Decision, Pack
from arrears.domain.disputes import WRITTEN, About, DisputeKind
from arrears.domain.errors import DomainError
from arrears.domain.loan import summarize
from arrears.domain.money import Money
from arrears.domain.product import Product

CHANNELS = tuple(c for c in LOGGED_CHANNELS if c != "field_visit")
"""Field visits are decided by a visit request, which needs its authorization."""
HISTORY_DAYS = 35
"""How far back logged contacts are read as attempt history (covers the 7-day and daily
frequency windows, and the last attempts the 'lost contact' test looks at)."""
OPT_OUT = "opt_out"
CEASE = "cease"
INCONVENIENT_TIME = "inconvenient_time"
REVOCATION = "revocation"
PREFERENCE_KINDS = (OPT_OUT, CEASE, INCONVENIENT_TIME, REVOCATION)


# --- the loan, its case, and who may act on it ---------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseLoan:
    booked: BookedLoan
    row: PlanRow
    case: CaseRow
    pack: Pack


def case_loan(uow: UnitOfWork, loan_ref: str, *, for_update: bool = False) -> CaseLoan:
    """An active loan with an open collection case, and the pack its product answers to;
    `for_update` locks the loan's row (PostgreSQL) so writers of the same loan take turns."""
    booked = uow.book.get(loan_ref, for_update=for_update) if loan_ref.strip() else None
    case = None if booked is None else uow.collections.case_of_borrower(booked.borrower_id)
    row = None if booked is None or case is None else \
        uow.collections.plan_rows([booked.id]).get(booked.id)
    return assemble_case_loan(loan_ref, booked=booked, case=case, row=row,
                              products=uow.book.products)


def assemble_case_loan(loan_ref: str, *, booked: BookedLoan | None, case: CaseRow | None,
                       row: PlanRow | None, products: Callable[[], Mapping[str, Product]]
                       ) -> CaseLoan:
    """`case_loan` from what the book holds for `loan_ref`: its loan, its borrower's open case
    and its planning row (None where the book has none)."""
    if not loan_ref.strip():
        raise DomainError("loan_id", "must not be empty")
    if booked is None:
        raise DomainError("loan_id", f"no loan {loan_ref!r}")
    if case is None:
        raise DomainError("loan_id", f"{loan_ref} has no open collection case")
    if row is None:
        raise DomainError("loan_id", f"{loan_ref} is not an active loan")
    product = products()[row.product_code]
    return CaseLoan(booked=booked, row=row, case=case,
                    pack=packs.get(product.jurisdiction.lower()))


def check_actor(uow: UnitOfWork, actor: str, case: CaseRow, on: date) -> None:
    """An internal collector on file, or an agency the case is placed with on `on`."""
    store = uow.collections
    check_actor_among(actor, case, on, collectors=store.collectors,
                      agencies=store.agencies, placements=store.active_placements)


def check_actor_among(actor: str, case: CaseRow, on: date, *,
                      collectors: Callable[[], Sequence[CollectorRow]],
                      agencies: Callable[[], Sequence[AgencyRow]],
                      placements: Callable[[date], Mapping[int, tuple[int, int]]]) -> None:
    """`check_actor` against the collectors, agencies and placements (case id -> (placement
    id, agency id) in force on a date) the book holds."""
    if actor.startswith(AGENCY_PREFIX):
        ref = actor.removeprefix(AGENCY_PREFIX)
        agency = next((a for a in agencies() if a.agency_ref == ref), None)
        if agency is None:
            raise DomainError("actor", f"no agency {ref!r}")
        placed = placements(on).get(case.id)
        if placed is None or placed[1] != agency.id:
            raise DomainError("actor", f"the case is not placed with {ref} on {on}")
        return
    if actor not in {c.collector_ref for c in collectors()}:
        raise DomainError("actor", f"no active collector {actor!r} (agencies: "
                                   f"{AGENCY_PREFIX}<ref>)")


def aware(value: datetime, field: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise DomainError(field, "must be timezone-aware")
    return value


# --- assembly -------------------------------------------------------------------------------


def preferences_at(rows: Sequence[ContactPreferenceRow], person_id: str, at: datetime
                   ) -> Preferences:
    """What the borrower had asked by `at` and not withdrawn by then: rows received at or
    before `at` that no revocation received at or before `at` names."""
    revoked = {r.revokes_id for r in rows if r.kind == REVOCATION and r.received_at <= at}
    opt_outs: list[OptOut] = []
    ceases: list[CeaseNotice] = []
    windows: list[InconvenientTime] = []
    for row in rows:
        if row.kind == REVOCATION or row.received_at > at or row.id in revoked:
            continue
        kinds = tuple(LOGGED_CHANNELS[c] for c in row.channels)
        if row.kind == OPT_OUT:
            opt_outs.extend(OptOut(person_id=person_id, channel=kind, at=row.received_at,
                                   contact_point=row.contact_point) for kind in kinds)
        elif row.kind == CEASE:
            ceases.append(CeaseNotice(person_id=person_id, received_at=row.received_at,
                                      in_writing=row.in_writing, channels=kinds))
        elif row.kind == INCONVENIENT_TIME and row.window_start is not None \
                and row.window_end is not None:
            windows.append(InconvenientTime(
                person_id=person_id, start=row.window_start, end=row.window_end,
                contact_point=row.contact_point, weekdays=row.weekdays or tuple(range(7))))
    return Preferences(opt_outs=tuple(opt_outs), cease_notices=tuple(ceases),
                       inconvenient_times=tuple(windows))


def dispute_facts(rows: Sequence[DisputeRow]) -> tuple[Dispute, ...]:
    """The loan's disputes about the debt as compliance facts, answered ones included (the
    engine reads each as open until its answer). An objection about a credit record alone
    leaves collection alone; the bureau reads it (`handlers.disputes.bureau_disputes`)."""
    return tuple(
        Dispute(debt_id=row.loan_ref, received_at=row.received_at,
                in_writing=row.channel in WRITTEN, answered_at=row.answered_at,
                kind=(FactKind.ORIGINAL_CREDITOR if row.kind is DisputeKind.ORIGINAL_CREDITOR
                      else FactKind.DISPUTE))
        for row in rows if row.about is About.DEBT)


def debt_of(booked: BookedLoan, row: PlanRow, closed: date | None) -> Debt:
    """The loan as a debt: outstanding balance (payoff) and DPD at the end of the last EOD."""
    state = booked.state if closed is None else current_state(booked, closed)
    summary = summarize(booked.loan, state)
    return Debt(debt_id=row.loan_ref,
                balance=Money.from_minor(summary.payoff_amount, row.currency),
                dpd=summary.dpd)


def debtor_of(row: PlanRow, debt: Debt, *, at: datetime, history: Sequence[LoggedContact],
              preferences: Sequence[ContactPreferenceRow], disputes: Sequence[DisputeRow]
              ) -> Debtor:
    """The borrower of `row` as the engine sees them at `at`: contact points and zones, the
    logged contacts of the last `HISTORY_DAYS` before `at`, the preferences in force at `at`,
    the disputes of the loan."""
    since = at - timedelta(days=HISTORY_DAYS)
    earlier = [c for c in history if since <= c.at <= at]
    points = (ContactPoint(id="mobile", kind="cell", zone=row.phone_zone),
              ContactPoint(id="email", kind="email"),
              ContactPoint(id="address", kind="address"),
              ContactPoint(id="app", kind="app"))
    return Debtor(person_id=row.borrower_ref, zones=(row.time_zone,), points=points,
                  debts=(debt,),
                  attempts=attempts_from_log(earlier, row.borrower_ref, (row.loan_ref,)),
                  preferences=preferences_at(preferences, row.borrower_ref, at),
                  disputes=dispute_facts(disputes))


@dataclass(frozen=True, slots=True, kw_only=True)
class LoanFacts:
    debtor: Debtor
    facts: Facts


def loan_facts(uow: UnitOfWork, found: CaseLoan, at: datetime, *,
               credentials: tuple[Credential, ...] = (),
               visit_authorizations: tuple[VisitAuthorization, ...] = ()) -> LoanFacts:
    """Everything the book says about the borrower of one loan at `at`."""
    store = uow.collections
    borrower, ref = found.booked.borrower_id, found.row.loan_ref
    history = store.call_history([borrower], at - timedelta(days=HISTORY_DAYS))
    return assemble_loan_facts(
        found, at, closed=uow.book.closed_through(), history=history.get(borrower, ()),
        preferences=store.contact_preferences([borrower]).get(borrower, ()),
        disputes=uow.disputes.of_loans([ref]).get(ref, ()),
        agency_whitelist=agency_whitelist(uow),
        refused_to_pay_at=store.last_refusals([borrower]).get(borrower),
        credentials=credentials, visit_authorizations=visit_authorizations)


def assemble_loan_facts(found: CaseLoan, at: datetime, *, closed: date | None,
                        history: Sequence[LoggedContact],
                        preferences: Sequence[ContactPreferenceRow],
                        disputes: Sequence[DisputeRow], agency_whitelist: tuple[str, ...],
                        refused_to_pay_at: datetime | None,
                        credentials: tuple[Credential, ...] = (),
                        visit_authorizations: tuple[VisitAuthorization, ...] = (),
                        debt: Debt | None = None) -> LoanFacts:
    """`loan_facts` from what the book holds about the borrower: the last closed date, their
    logged contacts since `HISTORY_DAYS` before `at` (later ones are left out here), their
    preference rows, the loan's disputes, the whitelisted agencies, their last refusal to pay;
    `debt` is `debt_of` the loan at `closed` when the caller already has it."""
    debtor = debtor_of(found.row, debt or debt_of(found.booked, found.row, closed), at=at,
                       history=history, preferences=preferences, disputes=disputes)
    facts = debtor.facts(agency_whitelist=agency_whitelist, refused_to_pay_at=refused_to_pay_at,
                         credentials=credentials, visit_authorizations=visit_authorizations)
    return LoanFacts(debtor=debtor, facts=facts)


def agency_whitelist(uow: UnitOfWork) -> tuple[str, ...]:
    return tuple(a.agency_ref for a in uow.collections.agencies() if a.whitelisted)


def with_preferences(facts: Facts, person_id: str, rows: Sequence[ContactPreferenceRow],
                     at: datetime, *, disputes: Sequence[DisputeRow]) -> Facts:
    """`facts` with the borrower's preferences as the book holds them at `at` and the
    disputes of the loan (the worker's re-check: a borrower may opt out or dispute the debt
    between planning and sending)."""
    wishes = preferences_at(rows, person_id, at)
    return replace(facts, opt_outs=wishes.opt_outs, cease_notices=wishes.cease_notices,
                   inconvenient_times=wishes.inconvenient_times,
                   disputes=dispute_facts(disputes))


# --- decisions ------------------------------------------------------------------------------


def decide_contact(uow: UnitOfWork, loan_ref: str, *, channel: str, at: datetime,
                   actor: str | None = None) -> Decision:
    """Whether `actor` (a collector ref or `agency:<ref>`; None for the lender's own team) may
    contact the borrower of `loan_ref` through `channel` at `at`."""
    if channel not in CHANNELS:
        raise DomainError("channel", f"unknown channel {channel!r} (expected one of "
                                     f"{', '.join(CHANNELS)})")
    aware(at, "at")
    kind = LOGGED_CHANNELS[channel]
    found = case_loan(uow, loan_ref)
    if actor is not None:
        on = at.astimezone(ZoneInfo(found.pack.reference_zone)).date()
        check_actor(uow, actor, found.case, on)
    assembled = loan_facts(uow, found, at)
    action = contact_action(kind, assembled.debtor, point=CONTACT_POINTS[kind],
                            actor=LENDER if actor is None else actor_of(actor))
    return compliance_engine.decide(action, assembled.facts, found.pack, at)
