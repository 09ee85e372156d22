"""The complaints register: file, acknowledge, extend, answer and escalate complaints against
the clocks of the loan's jurisdiction, list them, rate collectors and agencies by complaints
per 1,000 contacts, and assemble a regulator's case file.

Every change is appended to the borrower's evidence chain in its own unit of work, so the
register and the evidence never disagree. Evidence payloads name contacts by instant, actor and
channel, never by internal row id.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from arrears.application.complaints import ComplaintRow
from arrears.application.contacts import AGENCY_PREFIX
from arrears.application.handlers import evidence
from arrears.application.ports import Clock, UnitOfWork
from arrears.application.trust import KeyVault
from arrears.compliance import packs
from arrears.compliance.packs.complaints import clock_for
from arrears.domain import complaints as rules
from arrears.domain import evidence as chain
from arrears.domain.complaints import Category, Source
from arrears.domain.errors import DomainError

MAX_TEXT = 4000
MAX_PARTIES = 20


@dataclass(frozen=True, slots=True, kw_only=True)
class NewComplaint:
    loan_ref: str
    source: str
    category: str
    summary: str
    at: datetime
    collectors: tuple[str, ...] = ()
    agencies: tuple[str, ...] = ()
    contact_ids: tuple[int, ...] = ()


def _choice(kind: type[Source] | type[Category], value: str, field: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        raise DomainError(field, f"unknown value {value!r} (expected one of "
                                 f"{', '.join(m.value for m in kind)})") from None


def _text(value: str, field: str, *, required: bool = True) -> str:
    if required and not value.strip():
        raise DomainError(field, "must not be empty")
    if len(value) > MAX_TEXT:
        raise DomainError(field, f"longer than {MAX_TEXT} characters")
    return value


def _aware(at: datetime, field: str) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise DomainError(field, "must carry a UTC offset, e.g. 2026-06-01T10:00:00+08:00")
    return at


def _day(jurisdiction: str, at: datetime) -> date:
    """The business date of `at` where the jurisdiction's clocks run."""
    return at.astimezone(ZoneInfo(packs.get(jurisdiction).reference_zone)).date()


def _payload(row: ComplaintRow, **extra: Any) -> dict[str, Any]:
    d = row.deadlines
    return {"complaint": row.complaint_ref, "loan_id": row.loan_ref, "source": row.source.value,
            "category": row.category.value, "team": row.team.value,
            "acknowledge_by": d.acknowledge_by.isoformat(), "answer_by": d.answer_by.isoformat(),
            **extra}


def file_complaint(request: NewComplaint, *, uow_factory: Callable[[], UnitOfWork]
                   ) -> ComplaintRow:
    """File a complaint about a loan's collection: routed by category, clocked by the loan's
    jurisdiction, linked to the contacts (whose collectors and agencies it then concerns too),
    collectors and agencies named."""
    source = _choice(Source, request.source, "source")
    category = _choice(Category, request.category, "category")
    summary = _text(request.summary, "summary")
    at = _aware(request.at, "at")
    if len(request.collectors) + len(request.agencies) + len(request.contact_ids) > \
            3 * MAX_PARTIES:
        raise DomainError("contact", f"name at most {MAX_PARTIES} of each")
    with uow_factory() as uow:
        booked = uow.book.get(request.loan_ref)
        if booked is None:
            raise DomainError("loan", f"no loan {request.loan_ref!r}")
        jurisdiction = booked.loan.product.jurisdiction.upper()
        clock = clock_for(jurisdiction, source)
        collectors = set(request.collectors)
        agencies = set(request.agencies)
        # Another borrower's contact reads as absent: the answer must not tell a borrower
        # which contact ids exist.
        contacts = [c for c in uow.complaints.contacts(sorted(set(request.contact_ids)))
                    if c.borrower_id == booked.borrower_id]
        missing = set(request.contact_ids) - {c.contact_id for c in contacts}
        if missing:
            raise DomainError("contact", f"no logged contact {min(missing)} with this loan's "
                                         "borrower")
        for contact in contacts:
            if contact.actor.startswith(AGENCY_PREFIX):
                agencies.add(contact.actor.removeprefix(AGENCY_PREFIX))
            else:
                collectors.add(contact.actor)
        known_collectors = {c.collector_ref for c in uow.collections.collectors()}
        known_agencies = {a.agency_ref for a in uow.collections.agencies()}
        for ref in sorted(collectors - known_collectors):
            raise DomainError("collector", f"no collector {ref!r}")
        for ref in sorted(agencies - known_agencies):
            raise DomainError("agency", f"no agency {ref!r}")
        filed_on = _day(jurisdiction, at)
        borrower_ref = (uow.reports.borrower_of(request.loan_ref) or {})["borrower_ref"]
        row = ComplaintRow(
            id=0, complaint_ref="", borrower_id=booked.borrower_id, borrower_ref=borrower_ref,
            loan_ref=request.loan_ref, source=source, category=category,
            team=rules.route(source, category), jurisdiction=jurisdiction, summary=summary,
            filed_at=at, filed_on=filed_on, deadlines=rules.deadlines(filed_on, clock),
            collectors=tuple(sorted(collectors)), agencies=tuple(sorted(agencies)),
            contact_ids=tuple(c.contact_id for c in contacts))
        stored = uow.complaints.get(uow.complaints.add(row))
        assert stored is not None
        evidence.record(uow, booked.borrower_id, "complaint_filed", at, _payload(
            stored, summary=summary, clock=clock.rule_id, collectors=list(stored.collectors),
            agencies=list(stored.agencies),
            contacts=[{"at": chain.instant_text(c.at), "actor": c.actor, "channel": c.channel}
                      for c in contacts]))
        uow.commit()
    return stored


def _change(ref: str, at: datetime, kind: str, uow_factory: Callable[[], UnitOfWork],
            change: Callable[[ComplaintRow, date], tuple[ComplaintRow, dict[str, Any]]]
            ) -> ComplaintRow:
    _aware(at, "at")
    with uow_factory() as uow:
        row = uow.complaints.get(ref, for_update=True)
        if row is None:
            raise DomainError("ID", f"no complaint {ref!r}")
        if at < row.filed_at:
            raise DomainError("at", f"is before the complaint was filed "
                                    f"({row.filed_at.isoformat()})")
        changed, extra = change(row, _day(row.jurisdiction, at))
        uow.complaints.update(changed)
        evidence.record(uow, row.borrower_id, kind, at, _payload(changed, **extra))
        uow.commit()
    return changed


def acknowledge(ref: str, at: datetime, *, uow_factory: Callable[[], UnitOfWork]
                ) -> ComplaintRow:
    def change(row: ComplaintRow, day: date) -> tuple[ComplaintRow, dict[str, Any]]:
        d = row.deadlines
        if d.acknowledged_on is not None or d.answered_on is not None:
            raise DomainError("ID", f"{ref} is already acknowledged")
        return replace(row, deadlines=replace(d, acknowledged_on=day)), {
            "acknowledged_on": day.isoformat(), "late": day > d.acknowledge_by}

    return _change(ref, at, "complaint_acknowledged", uow_factory, change)


def extend(ref: str, reason: str, at: datetime, *, uow_factory: Callable[[], UnitOfWork]
           ) -> ComplaintRow:
    """Extend the answer deadline once, for a reason given (CN: a complex case)."""
    _text(reason, "reason")

    def change(row: ComplaintRow, day: date) -> tuple[ComplaintRow, dict[str, Any]]:
        clock = clock_for(row.jurisdiction, row.source)
        return replace(row, deadlines=rules.extend(row.deadlines, day, clock)), {
            "extended_on": day.isoformat(), "reason": reason}

    return _change(ref, at, "complaint_extended", uow_factory, change)


def answer(ref: str, text: str, at: datetime, *, uow_factory: Callable[[], UnitOfWork]
           ) -> ComplaintRow:
    """Record the answer given to the complainant (it also acknowledges the complaint)."""
    _text(text, "answer")

    def change(row: ComplaintRow, day: date) -> tuple[ComplaintRow, dict[str, Any]]:
        d = row.deadlines
        if d.answered_on is not None:
            raise DomainError("ID", f"{ref} was already answered on {d.answered_on}")
        return replace(row, answer=text, deadlines=replace(d, answered_on=day)), {
            "answered_on": day.isoformat(), "answer": text, "late": day > d.answer_by}

    return _change(ref, at, "complaint_answered", uow_factory, change)


def escalate(day: date, *, uow_factory: Callable[[], UnitOfWork], clock: Clock
             ) -> list[ComplaintRow]:
    """Run daily: mark every open complaint past a clock at the end of `day` as escalated
    (once; a re-run escalates nothing new). Returns those escalated now."""
    escalated = []
    with uow_factory() as uow:
        now = clock.now()
        for row in uow.complaints.listed(open_only=True):
            missed = rules.late(row.deadlines, day)
            if not missed or row.escalated_on is not None:
                continue
            changed = replace(row, escalated_on=day)
            uow.complaints.update(changed)
            evidence.record(uow, row.borrower_id, "complaint_escalated", now, _payload(
                changed, escalated_on=day.isoformat(), missed=list(missed)))
            escalated.append(changed)
        uow.commit()
    return escalated


# --- reading -------------------------------------------------------------------------------


def complaint_document(row: ComplaintRow, day: date | None = None) -> dict[str, Any]:
    d = row.deadlines
    clock = clock_for(row.jurisdiction, row.source)
    document: dict[str, Any] = {
        "complaint_id": row.complaint_ref, "loan_id": row.loan_ref,
        "borrower_id": row.borrower_ref, "source": row.source.value,
        "category": row.category.value, "team": row.team.value,
        "jurisdiction": row.jurisdiction, "summary": row.summary,
        "filed_at": row.filed_at.isoformat(), "filed_on": row.filed_on.isoformat(),
        "acknowledge_by": d.acknowledge_by.isoformat(), "answer_by": d.answer_by.isoformat(),
        "acknowledged_on": d.acknowledged_on.isoformat() if d.acknowledged_on else None,
        "extended_on": d.extended_on.isoformat() if d.extended_on else None,
        "answered_on": d.answered_on.isoformat() if d.answered_on else None,
        "answer": row.answer or None,
        "escalated_on": row.escalated_on.isoformat() if row.escalated_on else None,
        "collectors": list(row.collectors), "agencies": list(row.agencies),
        "contacts": list(row.contact_ids),
        "clock": {"rule_id": clock.rule_id, "citation": clock.citation,
                  "unconfirmed": clock.unconfirmed},
    }
    if day is not None:
        document["late"] = list(rules.late(d, day))
    return document


def list_complaints(*, overdue_on: date | None, open_only: bool,
                    uow_factory: Callable[[], UnitOfWork]) -> list[dict[str, Any]]:
    """Complaints, oldest first; with `overdue_on`, only those past a clock at its end."""
    with uow_factory() as uow:
        rows = uow.complaints.listed(open_only=open_only or overdue_on is not None)
    if overdue_on is None:
        return [complaint_document(row) for row in rows]
    return [complaint_document(row, overdue_on) for row in rows
            if rules.late(row.deadlines, overdue_on)]


def rates(*, uow_factory: Callable[[], UnitOfWork]) -> list[dict[str, Any]]:
    """Complaints per 1,000 logged contacts for every collector and agency."""
    with uow_factory() as uow:
        found = uow.complaints.rates()
    return [{"kind": kind, "ref": ref, "contacts": contacts, "complaints": complaints,
             "complaints_per_1000_contacts": rules.per_thousand(complaints, contacts)}
            for kind, ref, contacts, complaints in found]


def case_file(ref: str, *, uow_factory: Callable[[], UnitOfWork], keys: KeyVault,
              clock: Clock, issuer: str) -> tuple[dict[str, Any], dict[str, bytes]]:
    """A regulator's case file: the complaint's document (with the entries of its chain that
    concern it) and the borrower's evidence bundle, which verifies on its own."""
    with uow_factory() as uow:
        row = uow.complaints.get(ref)
        if row is None:
            raise DomainError("ID", f"no complaint {ref!r}")
        history = [{"seq": e.seq, "kind": e.kind, "at": e.at}
                   for e in uow.evidence.entries(row.borrower_id)
                   if e.payload is not None and e.payload.get("complaint") == ref]
    members = evidence.export(row.borrower_ref, uow_factory=uow_factory, keys=keys,
                              clock=clock, issuer=issuer)
    document = complaint_document(row, _day(row.jurisdiction, clock.now()))
    document["history"] = history
    return document, members
