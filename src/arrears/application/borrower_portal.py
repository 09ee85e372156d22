"""What a signed-in borrower may do about their own loans: see the hardship plans the product
offers with a preview of each, ask for one, raise a dispute (objection) or a complaint and
follow it. (Their evidence bundle is `evidence.export` of their own id.)

Each action is the service staff and the CLI use (`plans.propose`, `disputes.open_dispute`,
`complaints.file_complaint`), called for the borrower: a loan that is not
theirs is `NotFound`, as if it did not exist. A plan's preview is `plans.propose` run in a
rehearsal unit of work (every rule checked, nothing kept), so an offer shown is exactly what
asking for it would propose.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from arrears.application import plan_documents
from arrears.application.access import NotFound
from arrears.application.handlers import complaints, disputes, plans
from arrears.application.plan_policy import parse_policy
from arrears.application.ports import Clock, UnitOfWork
from arrears.application.web_users import WebUnitOfWork
from arrears.domain import disputes as dispute_rules
from arrears.domain.complaints import Category
from arrears.domain.disputes import About
from arrears.domain.errors import DomainError

PROPOSED = "proposed"
MY_CONTACTS = 50
PLAN_HISTORY = 20
HOLIDAY_DAYS = 30
DISPUTE_ABOUT = tuple(a.value for a in About)
COMPLAINT_CATEGORIES = tuple(c.value for c in Category)


@dataclass(frozen=True, slots=True, kw_only=True)
class Offer:
    """A plan a borrower may ask for, in terms they can weigh: defer one or two months,
    pause payments for thirty days, or spread what is owed over six or twelve months."""

    key: str
    kind: str
    months: int = 0
    terms: int = 0
    pause_days: int = 0

    def document(self, open_day: date) -> dict[str, Any]:
        """The plan object (`plan_file`) this offer proposes on `open_day`."""
        found: dict[str, Any] = {"kind": self.kind}
        if self.months:
            found["months"] = self.months
        if self.terms:
            found["terms"] = self.terms
        if self.pause_days:
            found["until"] = (open_day + timedelta(days=self.pause_days - 1)).isoformat()
        return found


OFFERS = (
    Offer(key="deferral-1", kind="deferral", months=1),
    Offer(key="deferral-2", kind="deferral", months=2),
    Offer(key="holiday-30", kind="holiday", pause_days=HOLIDAY_DAYS),
    Offer(key="reage-6", kind="reage", terms=6),
    Offer(key="reage-12", kind="reage", terms=12),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class MyContact:
    """A logged contact with the borrower, which a complaint may be about."""

    contact_id: int
    at: datetime
    actor: str
    channel: str
    outcome: str


class PortalStore(Protocol):
    """The borrower-side reads the portal adds, inside one unit of work."""

    def contacts_of(self, borrower_id: int, limit: int) -> list[MyContact]:
        """The borrower's logged contacts, newest first, at most `limit`."""
        ...
    def complaint_refs_of(self, borrower_id: int) -> list[str]:
        """The borrower's complaints, oldest first."""
        ...


class PortalUnitOfWork(WebUnitOfWork, Protocol):
    portal: PortalStore


@dataclass(frozen=True, slots=True, kw_only=True)
class OfferView:
    offer: Offer
    preview: dict[str, Any] | None
    """`plans.propose`'s preview document, when every rule allows the plan."""
    refusal: DomainError | None
    """Else the rule that refuses it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LoanRequests:
    """A borrower's loan page: plans offered and asked for, disputes and complaints."""

    loan_ref: str
    offers: tuple[OfferView, ...]
    plans: tuple[dict[str, Any], ...]
    pending_plan: str | None
    """The plan asked for and not yet decided: one at a time."""
    dispute_kinds: tuple[str, ...]
    disputes: tuple[dict[str, Any], ...]
    complaints: tuple[dict[str, Any], ...]
    contacts: tuple[MyContact, ...]


def _borrower_id(uow: WebUnitOfWork, borrower_ref: str) -> int:
    found = uow.web.borrower_by_ref(borrower_ref)
    if found is None:
        raise NotFound("borrower_id", "no such borrower")
    return found.borrower_id


def _owned(uow: WebUnitOfWork, borrower_ref: str, loan_ref: str) -> int:
    """The borrower's id when `loan_ref` is one of their loans, else `NotFound`."""
    borrower_id = _borrower_id(uow, borrower_ref)
    if loan_ref not in uow.web.loans_of(borrower_id):
        raise NotFound("loan_id", f"no loan {loan_ref!r}")
    return borrower_id


def loans_of(borrower_ref: str, *, uow_factory: Callable[[], WebUnitOfWork]
             ) -> tuple[str, ...]:
    """The borrower's loans (their ids), and nothing else read."""
    with uow_factory() as uow:
        return tuple(uow.web.loans_of(_borrower_id(uow, borrower_ref)))


def check_owned(borrower_ref: str, loan_ref: str, *,
                uow_factory: Callable[[], WebUnitOfWork]) -> None:
    """`NotFound` unless `loan_ref` is one of the borrower's loans."""
    with uow_factory() as uow:
        _owned(uow, borrower_ref, loan_ref)


def proposer(borrower_ref: str) -> str:
    """How a borrower's plan request names who proposed it (maker-checker)."""
    return f"{plans.BORROWER_PROPOSER}{borrower_ref}"


def _offered(uow: UnitOfWork, loan_ref: str) -> tuple[tuple[Offer, ...], date]:
    """The offers whose kind the loan's product allows, and the open business date."""
    booked = uow.book.get(loan_ref)
    closed = uow.book.closed_through()
    if booked is None or closed is None:
        raise NotFound("loan_id", f"no loan {loan_ref!r}")
    policy = uow.plans.policies().get(booked.product_code)
    kinds = {kind.value for kind in parse_policy(policy).kinds} if policy else set()
    return tuple(o for o in OFFERS if o.kind in kinds), closed + timedelta(days=1)


def _preview(offer: Offer, loan_ref: str, open_day: date, borrower_ref: str, *,
             rehearsal: Callable[[], UnitOfWork], clock: Clock) -> OfferView:
    try:
        shown = plans.propose(loan_ref, offer.document(open_day),
                              proposed_by=proposer(borrower_ref), uow_factory=rehearsal,
                              clock=clock)
    except DomainError as refused:
        return OfferView(offer=offer, preview=None, refusal=refused)
    return OfferView(offer=offer, preview=shown, refusal=None)


def loan_requests(borrower_ref: str, loan_ref: str, *,
                  uow_factory: Callable[[], PortalUnitOfWork],
                  rehearsal: Callable[[], UnitOfWork], clock: Clock) -> LoanRequests:
    with uow_factory() as uow:
        borrower_id = _owned(uow, borrower_ref, loan_ref)
        booked = uow.book.get(loan_ref)
        assert booked is not None
        jurisdiction = booked.loan.product.jurisdiction.upper()
        offered, open_day = _offered(uow, loan_ref)
        contacts = uow.portal.contacts_of(borrower_id, MY_CONTACTS)
        refs = uow.portal.complaint_refs_of(borrower_id)
        registered = [row for row in (uow.complaints.get(ref) for ref in refs)
                      if row is not None and row.loan_ref == loan_ref]
        raised = uow.disputes.listed(loan_ref=loan_ref)
    mine = plan_documents.list_document(loan_ref=loan_ref, status=None, limit=PLAN_HISTORY,
                                        uow_factory=uow_factory)["plans"]
    # A proposal can be decided only on its own date; an older one lapses with the next.
    pending = next((p["plan_id"] for p in mine if p["status"] == PROPOSED
                    and p["effective_on"] == open_day.isoformat()), None)
    offers = () if pending else tuple(
        _preview(offer, loan_ref, open_day, borrower_ref, rehearsal=rehearsal, clock=clock)
        for offer in offered)
    day = open_day - timedelta(days=1)
    return LoanRequests(
        loan_ref=loan_ref, offers=offers, plans=tuple(mine),
        pending_plan=pending,
        dispute_kinds=tuple(k.value for k in dispute_rules.KINDS.get(jurisdiction, ())),
        disputes=tuple(disputes.dispute_document(row, day) for row in raised),
        complaints=tuple(complaints.complaint_document(row, day) for row in registered),
        contacts=tuple(contacts))


def request_plan(borrower_ref: str, loan_ref: str, offer_key: str, *,
                 uow_factory: Callable[[], PortalUnitOfWork], clock: Clock) -> dict[str, Any]:
    """Propose the offer for the borrower; a supervisor (or collector) then decides it."""
    with uow_factory() as uow:
        _owned(uow, borrower_ref, loan_ref)
        offered, open_day = _offered(uow, loan_ref)
        booked = uow.book.get(loan_ref)
        assert booked is not None
        pending = plans.open_proposal(uow, booked)
    offer = next((o for o in offered if o.key == offer_key), None)
    if offer is None:
        raise DomainError("offer", f"{offer_key!r} is not a plan offered on this loan")
    if pending is not None:
        raise DomainError("offer", f"plan {pending.plan_ref} already awaits a decision")
    return plans.propose(loan_ref, offer.document(open_day), proposed_by=proposer(borrower_ref),
                         uow_factory=uow_factory, clock=clock)


def raise_dispute(borrower_ref: str, loan_ref: str, *, kind: str, about: str, note: str,
                  uow_factory: Callable[[], PortalUnitOfWork], clock: Clock) -> str:
    """Register the borrower's dispute (objection), received now through the portal (in
    writing). Returns its id."""
    with uow_factory() as uow:
        _owned(uow, borrower_ref, loan_ref)
    row = disputes.open_dispute(disputes.NewDispute(
        loan_ref=loan_ref, kind=kind, channel="portal", received_at=clock.now(), about=about,
        note=note), uow_factory=uow_factory, clock=clock)
    return row.dispute_ref


def file_complaint(borrower_ref: str, loan_ref: str, *, category: str, summary: str,
                   contact_id: int | None, uow_factory: Callable[[], PortalUnitOfWork],
                   clock: Clock) -> str:
    """File the borrower's complaint about the loan's collection (about one logged contact,
    when given: its collector or agency is then named). Returns its id."""
    with uow_factory() as uow:
        _owned(uow, borrower_ref, loan_ref)
    row = complaints.file_complaint(complaints.NewComplaint(
        loan_ref=loan_ref, source="borrower", category=category, summary=summary,
        at=clock.now(), contact_ids=() if contact_id is None else (contact_id,)),
        uow_factory=uow_factory)
    return row.complaint_ref
