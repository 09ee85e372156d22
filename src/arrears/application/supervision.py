"""Read side of the supervisor's assignment page: open cases with who works them (a collector,
or the agency a case is placed with), the collectors a case may be given to, and the agencies'
placements in force — what `case_assignment.assign_case` and `collections.recall_case` act on.

Supervisors (and admins) see the whole book, so the cases listed are the API's case list
(`ApiStore.case_page`) unfiltered. Both lists come a page at a time, and every borrower shown
on the page, and only those, is access-logged, as the API's case list logs them. Nothing here
decides anything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from arrears.application import queries
from arrears.application.access import (
    AccessEntry,
    ApiUnitOfWork,
    CaseListRow,
    Principal,
    open_business_date,
)
from arrears.application.ports import AgencyRow, CollectorRow

CASE_PAGE = 50
"""Open cases, and placements, shown at a time (by case id; the page links to the next)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Assignments:
    on: date
    """The open business date: placements in force, and the day a recall takes effect."""
    currency: str
    cases: tuple[CaseListRow, ...]
    next_after: int | None
    """The last case id shown when more follow (the next page starts after it)."""
    collectors: tuple[CollectorRow, ...]
    """Active collectors, each with the buckets and languages they work."""
    agencies: dict[str, AgencyRow]
    """Every agency on file, by ref."""
    placed: tuple[dict[str, Any], ...]
    """Placements in force (`CollectionsStore.placements_page` rows: case_id, borrower_ref,
    bucket, balance, scope, ends_on, agency_ref), a page of them."""
    next_placed_after: int | None


def assignments(principal: Principal, at: datetime, *, after: int = 0, placed_after: int = 0,
                uow_factory: Callable[[], ApiUnitOfWork]) -> Assignments:
    """A page of the open cases with id above `after`, the placements in force on cases with
    id above `placed_after` (a page of `CASE_PAGE` each), and the active collectors; the
    borrowers shown are access-logged as read by `principal`."""
    with uow_factory() as uow:
        on = open_business_date(uow)
        rows = uow.api.case_page(after=after, limit=CASE_PAGE + 1, on=on, queue=None,
                                 collector_ref=None, agency_ref=None)
        placed = uow.collections.placements_page(on, after=placed_after, limit=CASE_PAGE + 1)
        shown, placed_shown = rows[:CASE_PAGE], placed[:CASE_PAGE]
        listed = [r.borrower_ref for r in shown] + [c["borrower_ref"] for c in placed_shown]
        uow.api.log_access([AccessEntry(at=at, key_ref=principal.key_ref,
                                        role=principal.role.value, route="web.supervise",
                                        loan_ref=None, borrower_ref=ref)
                            for ref in dict.fromkeys(listed)])
        collectors = tuple(uow.collections.collectors())
        agencies = {a.agency_ref: a for a in uow.collections.agencies()}
        currency = queries.book_currency(uow)
        uow.commit()
    return Assignments(
        on=on, currency=currency, cases=tuple(shown),
        next_after=shown[-1].case_id if len(rows) > CASE_PAGE else None,
        collectors=collectors, agencies=agencies, placed=tuple(placed_shown),
        next_placed_after=placed_shown[-1]["case_id"] if len(placed) > CASE_PAGE else None)


def has_open_case(case_id: int, *, uow_factory: Callable[[], ApiUnitOfWork]) -> bool:
    """Whether an open case has this id (a recall of none is a missing page, not a refusal)."""
    with uow_factory() as uow:
        return any(case.id == case_id for case in uow.collections.open_cases().values())
