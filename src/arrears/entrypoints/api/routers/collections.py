"""Cases (list, queue, assign), agencies and their placements. Agency keys see only their own
agency and the cases placed with it while placed; collector keys only their assigned cases."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from arrears.application.access import (
    AccessEntry,
    NotFound,
    Principal,
    Role,
    Scope,
    open_business_date,
)
from arrears.application.handlers import case_assignment
from arrears.application.handlers import collections as collection_handlers
from arrears.application.loan_file import money_text
from arrears.application.queries import book_currency
from arrears.entrypoints.api import schemas
from arrears.entrypoints.api.deps import Ctx, require
from arrears.entrypoints.api.pages import DEFAULT_LIMIT, Cursor, Limit, after_of, next_cursor

router = APIRouter(prefix="/api/v1", tags=["collections"])


@router.get("/cases", response_model=schemas.CasePage)
def list_cases(ctx: Ctx,
               principal: Annotated[Principal, Depends(require(Scope.CASES_READ))],
               queue: Annotated[str | None, Query(max_length=60)] = None,
               cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT) -> Any:
    """Open cases by id, optionally one queue's; each page's borrowers are access-logged."""
    after = after_of(cursor, "cases")
    with ctx.uow_factory() as uow:
        on = open_business_date(uow)
        currency = book_currency(uow)
        rows = uow.api.case_page(
            after=after, limit=limit + 1, on=on, queue=queue,
            collector_ref=principal.collector_ref if principal.role is Role.COLLECTOR
            else None,
            agency_ref=principal.agency_ref if principal.role is Role.AGENCY else None)
        shown = rows[:limit]
        now = ctx.services.clock.now()
        uow.api.log_access([AccessEntry(at=now, key_ref=principal.key_ref,
                                        role=principal.role.value, route="cases.list",
                                        loan_ref=None, borrower_ref=r.borrower_ref)
                            for r in shown])
        uow.commit()
    return {"cases": [{"case_id": r.case_id, "borrower_id": r.borrower_ref,
                       "bucket": r.bucket, "queue": r.queue, "collector_id": r.collector_ref,
                       "agency_id": r.agency_ref, "balance": money_text(r.balance, currency),
                       "opened_on": r.opened_on, "loan_ids": list(r.loan_refs)}
                      for r in shown],
            "next_cursor": next_cursor("cases", [r.case_id for r in rows], limit)}


@router.put("/cases/{case_id}/assignment", status_code=204)
def assign_case(case_id: Annotated[int, schemas.Field(ge=1, le=2**62)],
                body: schemas.Assignment, ctx: Ctx,
                principal: Annotated[Principal, Depends(require(Scope.CASES_ASSIGN))]
                ) -> None:
    """Assign an open case to a collector who works its bucket."""
    try:
        case_assignment.assign_case(case_id, body.collector_id, by=principal.identity,
                                    uow_factory=ctx.uow_factory, clock=ctx.services.clock)
    except case_assignment.CaseNotFound as error:
        raise NotFound(error.field, error.reason) from None


@router.put("/cases/{case_id}/placement", response_model=schemas.PlacementMade)
def place_case(case_id: Annotated[int, schemas.Field(ge=1, le=2**62)],
               body: schemas.PlacementRequest, ctx: Ctx,
               principal: Annotated[Principal, Depends(require(Scope.CASES_ASSIGN))]) -> Any:
    """Place an open case with an agency on the open business date: whitelisted, licensed
    and under capacity (CN-11), its first letter allowed; the collector's credentials on the
    case are revoked. A case already placed is refused (recall it first), as is one in the
    legal queue."""
    with ctx.uow_factory() as uow:
        on = open_business_date(uow)
    try:
        placed = collection_handlers.place_case(
            case_id, body.agency_id, on, by=principal.identity, scope=body.scope,
            days=body.days, uow_factory=ctx.uow_factory, clock=ctx.services.clock)
    except case_assignment.CaseNotFound as missing:
        raise NotFound(missing.field, missing.reason) from None
    return {"case_id": case_id, "agency_id": placed.agency_ref, "placed_on": on,
            "ends_on": placed.ends_on, "loan_ids": list(placed.loan_refs),
            "credentials_revoked": list(placed.credentials_revoked)}


@router.delete("/cases/{case_id}/placement", status_code=204)
def recall_case(case_id: Annotated[int, schemas.Field(ge=1, le=2**62)], ctx: Ctx,
                principal: Annotated[Principal, Depends(require(Scope.CASES_ASSIGN))]
                ) -> None:
    """Recall a placed case from its agency on the open business date; the agency's
    credentials on it are revoked at once."""
    with ctx.uow_factory() as uow:
        on = open_business_date(uow)
    if not collection_handlers.recall_case(case_id, on, by=principal.identity,
                                           uow_factory=ctx.uow_factory,
                                           clock=ctx.services.clock):
        raise NotFound("case_id", f"no open case {case_id} placed with an agency")


def _page(items: list[dict[str, Any]], key: str, listing: str, after: int, limit: int
          ) -> tuple[list[dict[str, Any]], str | None]:
    """A page of a short list read whole (agencies, one agency's placements), by `key`."""
    rest = sorted((item for item in items if item[key] > after), key=lambda item: item[key])
    return rest[:limit], next_cursor(listing, [item[key] for item in rest[:limit + 1]], limit)


@router.get("/agencies", response_model=schemas.AgencyPage)
def list_agencies(ctx: Ctx,
                  principal: Annotated[Principal, Depends(require(Scope.AGENCIES_READ))],
                  cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT) -> Any:
    """Agencies on file; an agency key sees only its own."""
    after = after_of(cursor, "agencies")
    with ctx.uow_factory() as uow:
        rows = uow.collections.agencies()
    items = [{"id": a.id, "agency_id": a.agency_ref, "name": a.name,
              "licence_no": a.licence_no, "licence_valid_from": a.licence_valid_from,
              "licence_valid_until": a.licence_valid_until, "whitelisted": a.whitelisted,
              "capacity": a.capacity}
             for a in rows if principal.role is not Role.AGENCY
             or a.agency_ref == principal.agency_ref]
    shown, following = _page(items, "id", "agencies", after, limit)
    return {"agencies": shown, "next_cursor": following}


@router.get("/agencies/{agency_id}/placements", response_model=schemas.PlacementPage)
def list_placements(agency_id: Annotated[str, schemas.Field(min_length=1, max_length=40)],
                    ctx: Ctx,
                    principal: Annotated[Principal, Depends(require(Scope.AGENCIES_READ))],
                    cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT) -> Any:
    """The cases placed with an agency on the open business date."""
    after = after_of(cursor, "placements")
    if principal.role is Role.AGENCY and agency_id != principal.agency_ref:
        raise NotFound("agency_id", f"no agency {agency_id!r}")
    with ctx.uow_factory() as uow:
        if agency_id not in {a.agency_ref for a in uow.collections.agencies()}:
            raise NotFound("agency_id", f"no agency {agency_id!r}")
        on = open_business_date(uow)
        currency = book_currency(uow)
    cases = collection_handlers.agency_cases(agency_id, on, uow_factory=ctx.uow_factory)
    items = [{"case_id": c["case_id"], "borrower_id": c["borrower_ref"], "bucket": c["bucket"],
              "balance": money_text(c["balance"], currency), "scope": c["scope"],
              "ends_on": c["ends_on"]} for c in cases]
    shown, following = _page(items, "case_id", "placements", after, limit)
    return {"placements": shown, "next_cursor": following}
