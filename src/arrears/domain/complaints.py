"""Complaints about collection: who filed one, what it is about, and its clocks.

A complaint is acknowledged and answered by dates its jurisdiction sets (`ComplaintClock`, the
numbers live in `compliance.packs.complaints`); the answer deadline may be extended once where
the clock allows it, and a complaint past either deadline is late and is escalated. Days are
calendar days counted as rules.md counts them: the filing date is day 1, so "within 15 days"
of a complaint filed on the 1st ends on the 15th.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum

from arrears.domain.errors import DomainError


class Source(StrEnum):
    BORROWER = "borrower"
    THIRD_PARTY = "third_party"
    REGULATOR = "regulator"  # a referral from a regulator (CFPB portal, NFRA/PBOC hotline)


class Category(StrEnum):
    HARASSMENT = "harassment"
    WRONG_AMOUNT = "wrong_amount"
    PRIVACY = "privacy"  # personal data or the debt disclosed to contacts or third parties
    IMPERSONATION = "impersonation"
    THREAT = "threat"
    OTHER = "other"


class Team(StrEnum):
    COMPLIANCE = "compliance"
    SERVICING = "servicing"
    CUSTOMER_CARE = "customer_care"


CONDUCT = frozenset({Category.HARASSMENT, Category.PRIVACY, Category.IMPERSONATION,
                     Category.THREAT})


def route(source: Source, category: Category) -> Team:
    """Who handles it: conduct complaints and every regulator referral go to compliance (they
    may end a collector's or an agency's work), a disputed amount to servicing."""
    if source is Source.REGULATOR or category in CONDUCT:
        return Team.COMPLIANCE
    if category is Category.WRONG_AMOUNT:
        return Team.SERVICING
    return Team.CUSTOMER_CARE


@dataclass(frozen=True, slots=True, kw_only=True)
class ComplaintClock:
    """How long a complaint may wait, in calendar days counted from the filing date as day 1."""

    rule_id: str
    citation: str
    acknowledge_days: int
    answer_days: int
    extension_days: int
    extensions: int  # how many times the answer deadline may be extended (0 or 1)
    unconfirmed: bool = False  # a number not read in the official text (rules.md [U])


@dataclass(frozen=True, slots=True, kw_only=True)
class Deadlines:
    acknowledge_by: date
    answer_by: date
    extended_on: date | None = None
    acknowledged_on: date | None = None
    answered_on: date | None = None


def deadlines(filed_on: date, clock: ComplaintClock) -> Deadlines:
    return Deadlines(acknowledge_by=filed_on + timedelta(days=clock.acknowledge_days - 1),
                     answer_by=filed_on + timedelta(days=clock.answer_days - 1))


def extend(current: Deadlines, on: date, clock: ComplaintClock) -> Deadlines:
    """The deadlines with the answer deadline extended on `on`: once, before it has passed
    and before the complaint is answered."""
    if clock.extensions == 0:
        raise DomainError("extend", f"{clock.rule_id} allows no extension")
    if current.extended_on is not None:
        raise DomainError("extend", f"already extended on {current.extended_on} "
                                    f"({clock.rule_id} allows one extension)")
    if current.answered_on is not None:
        raise DomainError("extend", "the complaint is already answered")
    if on > current.answer_by:
        raise DomainError("at", f"the answer was due by {current.answer_by}; a late complaint "
                                "cannot be extended")
    return replace(current, extended_on=on,
                   answer_by=current.answer_by + timedelta(days=clock.extension_days))


def late(current: Deadlines, day: date) -> tuple[str, ...]:
    """The clocks a complaint has missed by the end of `day`: acknowledge and/or answer."""
    missed = []
    if current.acknowledged_on is None and current.answered_on is None and \
            day > current.acknowledge_by:
        missed.append("acknowledge")
    if current.answered_on is None and day > current.answer_by:
        missed.append("answer")
    return tuple(missed)


def per_thousand(complaints: int, contacts: int) -> str:
    """Complaints per 1,000 contacts to two decimals, half up, exactly (no float)."""
    if contacts == 0:
        return "0.00"
    hundredths, rest = divmod(complaints * 100_000, contacts)
    if 2 * rest >= contacts:
        hundredths += 1
    return f"{hundredths // 100}.{hundredths % 100:02d}"
