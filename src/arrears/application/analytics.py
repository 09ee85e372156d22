"""Portfolio analytics as a read model: the aggregated figures a store computes over the whole
book, and the report document built from them.

The store (`adapters.db.analytics_store`) does the columnar work: SQL aggregates and array
kernels over every loan, change, payment and contact. What reaches this module is already
small (a cell per month and pair of states, a point per vintage and month on book, a row per
collector), so it is plain Python: shares that add up to one exactly, pooled averages, rates,
and money as decimal strings.

Definitions (the figures a collections manager reads, pinned down):
- A loan's *state at a date* is its bucket then (the target of its last bucket change dated
  on or before it; C with none), unless it was written off by then (`written_off`) or paid
  off by then (`settled`: the date of its last payment). Loans disbursed after the date are
  not on the book.
- *Roll rates* follow the loans active (C … M7+) at one month end to their state at the next;
  a cell holds loans and their principal outstanding at the first month end. A row's shares
  add up to 1. The average over the last `AVERAGE_MONTHS` pools those months' loans (each loan
  month weighs the same), so its rows add up to 1 too.
- *Vintages* group loans by disbursement month. At `m` months on book (calendar months after
  the disbursement month; 0 is that month) a curve holds the loans that had been more than 30
  days past due (reached M2), more than 90 (reached M4), or written off, by the end of that
  month (or `as_of`, for the current month). Counts are cumulative, so curves never fall.
- A *cure* is a roll forward into a bucket followed by a return to C within
  `CURE_WINDOW_DAYS`; only rolls at least that many days before `as_of` are counted.
- A *recovery* is money received on a written-off loan after its write-off date, against the
  amount the ledger wrote off, by write-off month.
- Collectors and agencies: logged contacts; right-party contacts are conversations with the
  borrower (`conversation`, `refused`); promises taken and kept; recovered is what their
  promises brought in (collectors) or what came in on their placements (agencies);
  complaints name them; blocked actions are strategy actions the compliance engine refused
  (rescheduled or cancelled, or blocked at send time) on their cases (collectors: the case's
  collector; agencies: while the loan was placed with them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol

from arrears.application.loan_file import money_text
from arrears.domain.delinquency import BUCKETS

ACTIVE_STATES: tuple[str, ...] = tuple(b.value for b in BUCKETS)
WRITTEN_OFF = "written_off"
SETTLED = "settled"
STATES: tuple[str, ...] = (*ACTIVE_STATES, WRITTEN_OFF, SETTLED)
"""Roll-rate columns: the buckets, then the two ways a loan leaves the book."""
AVERAGE_MONTHS = 6
CURE_WINDOW_DAYS = 30
RATE_PLACES = 4
RATE_QUANTUM = Decimal(1).scaleb(-RATE_PLACES)
PER_THOUSAND_QUANTUM = Decimal("0.01")
RIGHT_PARTY_OUTCOMES = ("conversation", "refused")
"""Logged outcomes that mean the borrower was reached and spoke about the debt."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RollCell:
    source: str
    target: str
    loans: int
    principal: int
    """Principal outstanding at the first month end, minor units."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RollMonth:
    start: date
    end: date
    cells: tuple[RollCell, ...]
    """Non-empty cells only."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Vintage:
    month: date
    """The first day of the disbursement month."""
    loans: int
    principal: int
    dpd30: tuple[int, ...]
    """Loans ever past 30 days by the end of each month on book (index = months on book)."""
    dpd90: tuple[int, ...]
    written_off: tuple[int, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class CureCount:
    bucket: str
    entered: int
    cured: int


@dataclass(frozen=True, slots=True, kw_only=True)
class RecoveryCohort:
    month: date
    """The first day of the write-off month."""
    loans: int
    written_off: int
    recovered: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Performance:
    ref: str
    name: str
    contacts: int
    right_party_contacts: int
    promises_made: int
    promises_kept: int
    recovered: int
    complaints: int
    blocked_actions: int


@dataclass(frozen=True, slots=True, kw_only=True)
class AnalyticsFacts:
    as_of: date
    currency: str
    month_ends: tuple[date, ...]
    rolls: tuple[RollMonth, ...]
    vintages: tuple[Vintage, ...]
    cures: tuple[CureCount, ...]
    recoveries: tuple[RecoveryCohort, ...]
    collectors: tuple[Performance, ...]
    agencies: tuple[Performance, ...]


class AnalyticsSource(Protocol):
    def facts(self, as_of: date | None) -> AnalyticsFacts:
        """The book's aggregated figures through `as_of` (default: the closed business date);
        a `DomainError` on field `as_of` if the book cannot report that date."""
        ...


# --- arithmetic on aggregates ---------------------------------------------------------------


def shares(counts: Sequence[int], places: int = RATE_PLACES) -> tuple[Decimal, ...]:
    """`counts` as shares rounded to `places` that add up to exactly 1 (largest remainder;
    ties to the earlier count). A count of 0 always gets 0. Needs a positive total."""
    total = sum(counts)
    if total <= 0 or any(c < 0 for c in counts):
        raise ValueError("shares need non-negative counts with a positive total")
    scale = 10 ** places
    floors = [c * scale // total for c in counts]
    remainders = [c * scale % total for c in counts]
    order = sorted(range(len(counts)), key=lambda i: (-remainders[i], i))
    for i in order[:scale - sum(floors)]:
        floors[i] += 1
    return tuple(Decimal(f).scaleb(-places) for f in floors)


def rate(part: int, whole: int) -> Decimal:
    """part / whole rounded half-up to `RATE_PLACES`; 0 when there is no whole."""
    if whole == 0:
        return Decimal(0).quantize(RATE_QUANTUM)
    return (Decimal(part) / Decimal(whole)).quantize(RATE_QUANTUM, ROUND_HALF_UP)


def per_thousand(part: int, whole: int) -> Decimal:
    if whole == 0:
        return Decimal(0).quantize(PER_THOUSAND_QUANTUM)
    return (Decimal(part) * 1000 / Decimal(whole)).quantize(PER_THOUSAND_QUANTUM,
                                                           ROUND_HALF_UP)


def per_contact(units: int, contacts: int) -> int:
    """Minor units per contact, rounded half-up to the minor unit."""
    if contacts == 0:
        return 0
    return int((Decimal(units) / Decimal(contacts)).quantize(Decimal(1), ROUND_HALF_UP))


def pooled(months: Sequence[RollMonth]) -> tuple[RollCell, ...]:
    """The cells of several months added up (loans and principal), in state order."""
    loans: dict[tuple[str, str], int] = {}
    principal: dict[tuple[str, str], int] = {}
    for month in months:
        for cell in month.cells:
            key = (cell.source, cell.target)
            loans[key] = loans.get(key, 0) + cell.loans
            principal[key] = principal.get(key, 0) + cell.principal
    order = {state: i for i, state in enumerate(STATES)}
    return tuple(RollCell(source=s, target=t, loans=loans[(s, t)], principal=principal[(s, t)])
                 for s, t in sorted(loans, key=lambda k: (order[k[0]], order[k[1]])))


# --- the document ---------------------------------------------------------------------------


def _matrix(cells: Sequence[RollCell], currency: str) -> dict[str, Any]:
    """{from: {loans, principal, to: {target: {loans, principal, share, principal_share}}}}
    for the rows with loans; every state is a column."""
    rows: dict[str, Any] = {}
    for source in ACTIVE_STATES:
        row = {c.target: c for c in cells if c.source == source}
        loans = [row[t].loans if t in row else 0 for t in STATES]
        if not any(loans):
            continue
        principal = [row[t].principal if t in row else 0 for t in STATES]
        by_loans = shares(loans)
        by_principal = shares(principal) if sum(principal) > 0 else (Decimal(0),) * len(STATES)
        rows[source] = {
            "loans": sum(loans),
            "principal": money_text(sum(principal), currency),
            "to": {target: {"loans": loans[i], "principal": money_text(principal[i], currency),
                            "share": str(by_loans[i]), "principal_share": str(by_principal[i])}
                   for i, target in enumerate(STATES)},
        }
    return rows


def roll_rates_document(facts: AnalyticsFacts) -> dict[str, Any]:
    recent = facts.rolls[-AVERAGE_MONTHS:]
    return {
        "states": list(STATES),
        "months": [{"from": m.start.isoformat(), "to": m.end.isoformat(),
                    "rows": _matrix(m.cells, facts.currency)} for m in facts.rolls],
        "average": {
            "months": len(recent),
            "from": recent[0].start.isoformat() if recent else None,
            "to": recent[-1].end.isoformat() if recent else None,
            "rows": _matrix(pooled(recent), facts.currency),
        },
    }


def _point(loans: int, total: int) -> dict[str, Any]:
    return {"loans": loans, "rate": str(rate(loans, total))}


def vintages_document(facts: AnalyticsFacts) -> list[dict[str, Any]]:
    return [{
        "vintage": v.month.strftime("%Y-%m"),
        "loans": v.loans,
        "principal": money_text(v.principal, facts.currency),
        "curve": [{"months_on_book": m, "dpd30_plus": _point(v.dpd30[m], v.loans),
                   "dpd90_plus": _point(v.dpd90[m], v.loans),
                   "written_off": _point(v.written_off[m], v.loans)}
                  for m in range(len(v.dpd30))],
    } for v in facts.vintages]


def cure_rates_document(facts: AnalyticsFacts) -> dict[str, Any]:
    return {"window_days": CURE_WINDOW_DAYS,
            "buckets": {c.bucket: {"entered": c.entered, "cured": c.cured,
                                   "rate": str(rate(c.cured, c.entered))}
                        for c in facts.cures}}


def recoveries_document(facts: AnalyticsFacts) -> dict[str, Any]:
    currency = facts.currency

    def row(loans: int, written_off: int, recovered: int) -> dict[str, Any]:
        return {"loans": loans, "written_off": money_text(written_off, currency),
                "recovered": money_text(recovered, currency),
                "rate": str(rate(recovered, written_off))}

    cohorts = facts.recoveries
    return {
        "cohorts": [{"written_off_month": c.month.strftime("%Y-%m"),
                     **row(c.loans, c.written_off, c.recovered)} for c in cohorts],
        "total": row(sum(c.loans for c in cohorts), sum(c.written_off for c in cohorts),
                     sum(c.recovered for c in cohorts)),
    }


def performance_document(rows: Sequence[Performance], currency: str, key: str
                         ) -> list[dict[str, Any]]:
    return [{
        key: p.ref,
        "name": p.name,
        "contacts": p.contacts,
        "right_party_contacts": p.right_party_contacts,
        "right_party_rate": str(rate(p.right_party_contacts, p.contacts)),
        "promises_made": p.promises_made,
        "promises_kept": p.promises_kept,
        "promise_kept_rate": str(rate(p.promises_kept, p.promises_made)),
        "recovered": money_text(p.recovered, currency),
        "recovered_per_contact": money_text(per_contact(p.recovered, p.contacts), currency),
        "complaints": p.complaints,
        "complaints_per_1000_contacts": str(per_thousand(p.complaints, p.contacts)),
        "blocked_actions": p.blocked_actions,
        "blocked_per_1000_contacts": str(per_thousand(p.blocked_actions, p.contacts)),
    } for p in rows]


def document(facts: AnalyticsFacts) -> dict[str, Any]:
    """The `arrears report analytics --json` document."""
    return {
        "as_of": facts.as_of.isoformat(),
        "currency": facts.currency,
        "month_ends": [d.isoformat() for d in facts.month_ends],
        "roll_rates": roll_rates_document(facts),
        "vintages": vintages_document(facts),
        "cure_rates": cure_rates_document(facts),
        "recoveries": recoveries_document(facts),
        "collectors": performance_document(facts.collectors, facts.currency, "collector"),
        "agencies": performance_document(facts.agencies, facts.currency, "agency"),
    }
