"""The complaints register on SQLAlchemy Core (`ComplaintStore`)."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from arrears.adapters.db import collections_tables as ct
from arrears.adapters.db import complaints_tables as cpt
from arrears.adapters.db import tables as t
from arrears.adapters.db.messages import aware, utc
from arrears.application.complaints import ComplaintRow, ContactRef
from arrears.application.contacts import AGENCY_PREFIX
from arrears.domain.complaints import Category, Deadlines, Source, Team

REF_PREFIX = "CMP-"


def complaint_ref(complaint_id: int) -> str:
    return f"{REF_PREFIX}{complaint_id:06d}"


def complaints_by_actor(connection: sa.Connection) -> dict[str, int]:
    """Complaints per contact-log actor (a collector's ref, or `agency:<ref>`): those in the
    register naming them, and contacts logged as a complaint that no registered complaint
    links (so a complaint counts once, however it was recorded)."""
    party, log = cpt.complaint_party.c, ct.contact_log.c
    counts: dict[str, int] = {}
    for kind, ref, count in connection.execute(
            sa.select(party.kind, party.ref, sa.func.count()).group_by(party.kind, party.ref)):
        actor = f"{AGENCY_PREFIX}{ref}" if kind == "agency" else ref
        counts[actor] = counts.get(actor, 0) + int(count)
    linked = sa.select(cpt.complaint_contact.c.contact_id)
    for actor, count in connection.execute(
            sa.select(log.actor, sa.func.count())
            .where(log.complaint.is_(True), log.id.not_in(linked)).group_by(log.actor)):
        counts[actor] = counts.get(actor, 0) + int(count)
    return counts


class SqlComplaints:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def add(self, row: ComplaintRow) -> str:
        d = row.deadlines
        new_id = int(self.connection.execute(cpt.complaint.insert().values(
            borrower_id=row.borrower_id,
            loan_id=sa.select(t.loan.c.id).where(t.loan.c.loan_ref == row.loan_ref)
            .scalar_subquery(),
            source=row.source.value, category=row.category.value, team=row.team.value,
            jurisdiction=row.jurisdiction, summary=row.summary, filed_at=utc(row.filed_at),
            filed_on=row.filed_on, acknowledge_by=d.acknowledge_by, answer_by=d.answer_by,
        )).inserted_primary_key[0])
        self.connection.execute(cpt.complaint.update().where(cpt.complaint.c.id == new_id)
                                .values(complaint_ref=complaint_ref(new_id)))
        parties = [{"complaint_id": new_id, "kind": "collector", "ref": ref}
                   for ref in row.collectors]
        parties += [{"complaint_id": new_id, "kind": "agency", "ref": ref}
                    for ref in row.agencies]
        if parties:
            self.connection.execute(cpt.complaint_party.insert(), parties)
        if row.contact_ids:
            self.connection.execute(cpt.complaint_contact.insert(), [
                {"complaint_id": new_id, "contact_id": c} for c in row.contact_ids])
        return complaint_ref(new_id)

    def _select(self) -> sa.Select[tuple[object, ...]]:
        c, b, loan = cpt.complaint, t.borrower, t.loan
        return (sa.select(c, b.c.borrower_ref, loan.c.loan_ref)
                .select_from(c.join(b, b.c.id == c.c.borrower_id)
                             .join(loan, loan.c.id == c.c.loan_id)))

    def _rows(self, query: sa.Select[tuple[object, ...]]) -> list[ComplaintRow]:
        found = list(self.connection.execute(query).mappings())
        ids = [int(r["id"]) for r in found]
        parties: dict[int, list[tuple[str, str]]] = {}
        contacts: dict[int, list[int]] = {}
        if ids:
            party, link = cpt.complaint_party.c, cpt.complaint_contact.c
            for cid, kind, ref in self.connection.execute(
                    sa.select(party.complaint_id, party.kind, party.ref)
                    .where(party.complaint_id.in_(ids)).order_by(party.ref)):
                parties.setdefault(int(cid), []).append((kind, ref))
            for cid, contact in self.connection.execute(
                    sa.select(link.complaint_id, link.contact_id)
                    .where(link.complaint_id.in_(ids)).order_by(link.contact_id)):
                contacts.setdefault(int(cid), []).append(int(contact))
        out = []
        for r in found:
            cid = int(r["id"])
            filed_at = aware(r["filed_at"])
            assert filed_at is not None
            out.append(ComplaintRow(
                id=cid, complaint_ref=r["complaint_ref"], borrower_id=int(r["borrower_id"]),
                borrower_ref=r["borrower_ref"], loan_ref=r["loan_ref"],
                source=Source(r["source"]), category=Category(r["category"]),
                team=Team(r["team"]), jurisdiction=r["jurisdiction"], summary=r["summary"],
                filed_at=filed_at, filed_on=r["filed_on"],
                deadlines=Deadlines(acknowledge_by=r["acknowledge_by"],
                                    answer_by=r["answer_by"], extended_on=r["extended_on"],
                                    acknowledged_on=r["acknowledged_on"],
                                    answered_on=r["answered_on"]),
                answer=r["answer"], escalated_on=r["escalated_on"],
                collectors=tuple(ref for kind, ref in parties.get(cid, []) if kind == "collector"),
                agencies=tuple(ref for kind, ref in parties.get(cid, []) if kind == "agency"),
                contact_ids=tuple(contacts.get(cid, []))))
        return out

    def get(self, complaint_ref: str, *, for_update: bool = False) -> ComplaintRow | None:
        query = self._select().where(cpt.complaint.c.complaint_ref == complaint_ref)
        if for_update:
            query = query.with_for_update(of=cpt.complaint)
        rows = self._rows(query)
        return rows[0] if rows else None

    def update(self, row: ComplaintRow) -> None:
        d = row.deadlines
        self.connection.execute(cpt.complaint.update().where(cpt.complaint.c.id == row.id).values(
            acknowledge_by=d.acknowledge_by, answer_by=d.answer_by, extended_on=d.extended_on,
            acknowledged_on=d.acknowledged_on, answered_on=d.answered_on, answer=row.answer,
            escalated_on=row.escalated_on))

    def listed(self, *, open_only: bool) -> list[ComplaintRow]:
        query = self._select().order_by(cpt.complaint.c.id)
        if open_only:
            query = query.where(cpt.complaint.c.answered_on.is_(None))
        return self._rows(query)

    def contacts(self, contact_ids: Sequence[int]) -> list[ContactRef]:
        log, case = ct.contact_log, ct.collection_case
        rows = self.connection.execute(
            sa.select(log.c.id, case.c.borrower_id, log.c.actor, log.c.channel, log.c.at)
            .select_from(log.join(case, case.c.id == log.c.case_id))
            .where(log.c.id.in_(list(contact_ids))).order_by(log.c.id))
        out = []
        for contact_id, borrower_id, actor, channel, at in rows:
            instant = aware(at)
            assert instant is not None
            out.append(ContactRef(contact_id=int(contact_id), borrower_id=int(borrower_id),
                                  actor=actor, channel=channel, at=instant))
        return out

    def rates(self) -> list[tuple[str, str, int, int]]:
        log = ct.contact_log.c
        contacts = {actor: int(n) for actor, n in self.connection.execute(
            sa.select(log.actor, sa.func.count()).group_by(log.actor))}
        complaints = complaints_by_actor(self.connection)
        out = []
        for actor in sorted(set(contacts) | set(complaints)):
            agency = actor.startswith(AGENCY_PREFIX)
            out.append(("agency" if agency else "collector", actor.removeprefix(AGENCY_PREFIX),
                        contacts.get(actor, 0), complaints.get(actor, 0)))
        return out
