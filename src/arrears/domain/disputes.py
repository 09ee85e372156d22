"""Disputes about a debt: what a borrower may raise, how it reached the lender, how it was
answered, and the PRC answer clock.

A US consumer disputes the debt or asks for the original creditor's name and address (US-23);
a PRC borrower raises an objection (异议) about the debt or about a credit record (CN-23).
Only a dispute received in writing stops US collection (US-23); every open dispute is reported
as disputed (US-27, M2-8; CN-23). An objection is answered within `OBJECTION_DAYS` calendar
days of its receipt, the receipt day not counted (CN-23: received 03-02, reply due 03-22).
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum

from arrears.domain.bureau.codes import OBJECTION_DAYS
from arrears.domain.errors import DomainError


class DisputeKind(StrEnum):
    DISPUTE = "dispute"  # US: the debt, or part of it, is disputed (US-23)
    ORIGINAL_CREDITOR = "original_creditor"  # US: a request for the original creditor (US-23)
    OBJECTION = "objection"  # PRC: 异议 about the debt or a credit record (CN-23)


class About(StrEnum):
    DEBT = "debt"
    CREDIT_RECORD = "credit_record"  # only the reported information, not the debt itself


class Channel(StrEnum):
    MAIL = "mail"
    PORTAL = "portal"
    PHONE = "phone"


class Outcome(StrEnum):
    VERIFIED = "verified"  # the information was right (verification sent, US-23)
    CORRECTED = "corrected"  # it was wrong and the book was corrected
    REJECTED = "rejected"  # not a dispute to investigate, e.g. duplicative (US-23)
    UNDETERMINABLE = "undeterminable"  # verified as far as possible; the content is recorded


WRITTEN = frozenset({Channel.MAIL, Channel.PORTAL})
"""Channels that leave the dispute in writing (US-23: only a written one stops collection)."""

KINDS: dict[str, tuple[DisputeKind, ...]] = {
    "US": (DisputeKind.DISPUTE, DisputeKind.ORIGINAL_CREDITOR),
    "CN": (DisputeKind.OBJECTION,),
}
"""What a borrower may raise under each jurisdiction."""


def check_kind(jurisdiction: str, kind: DisputeKind, about: About) -> None:
    """A kind the loan's jurisdiction knows, about what that kind can be about."""
    allowed = KINDS.get(jurisdiction.upper(), ())
    if kind not in allowed:
        expected = ", ".join(k.value for k in allowed) or "none"
        raise DomainError("--kind", f"{kind.value} is not raised under {jurisdiction} "
                                    f"(expected {expected})")
    if kind is DisputeKind.ORIGINAL_CREDITOR and about is not About.DEBT:
        raise DomainError("--about", "an original-creditor request is about the debt")


def answer_by(kind: DisputeKind, received_on: date, days: int = OBJECTION_DAYS) -> date | None:
    """The last day for the written reply to an objection (CN-23); None for US disputes,
    which have no answer clock (collection simply waits for the verification)."""
    if kind is not DisputeKind.OBJECTION:
        return None
    return received_on + timedelta(days=days)


def overdue(kind: DisputeKind, received_on: date, answered_on: date | None, day: date,
            days: int = OBJECTION_DAYS) -> bool:
    """An objection still unanswered at the end of `day`, past its reply deadline."""
    due = answer_by(kind, received_on, days)
    return due is not None and day > due and (answered_on is None or answered_on > day)
