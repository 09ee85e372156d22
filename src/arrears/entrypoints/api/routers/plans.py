"""Hardship plans over HTTP: propose with a preview, list and show, approve or reject
(maker-checker), undo — the plan handler's rules, the caller's loan scope."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from arrears.application import plan_documents
from arrears.application.access import NotFound, Principal, Scope
from arrears.application.handlers import plans
from arrears.domain.errors import DomainError
from arrears.entrypoints.api import pages, schemas
from arrears.entrypoints.api.deps import Ctx, require
from arrears.entrypoints.api.routers.loans import guard

router = APIRouter(prefix="/api/v1", tags=["plans"])
LISTING = "plans"  # newest first: a cursor carries the last id shown, the next page is older


class PlanTerms(BaseModel):
    """A plan object as in LOAN.json's `plans` (kind and its parameters); the book chooses
    its id and dates it the open business date."""

    model_config = ConfigDict(extra="allow")
    kind: str = Field(min_length=1, max_length=20)


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(default="", max_length=plans.MAX_REASON)


def _plan(ctx: Ctx, principal: Principal, plan_id: str, route: str) -> dict[str, Any]:
    """The plan's document, once the caller may see its loan (absent or out of scope: the
    same 404)."""
    try:
        document = plan_documents.show_document(plan_id, uow_factory=ctx.uow_factory)
        guard(ctx, principal, document["loan_id"], route)
    except DomainError:
        raise NotFound("plan_id", f"no plan {plan_id!r}") from None
    return document


@router.post("/loans/{loan_id}/plans", status_code=201)
def propose(loan_id: Annotated[str, schemas.Ref], body: PlanTerms, ctx: Ctx,
            principal: Annotated[Principal, Depends(require(Scope.PLANS_WRITE))]
            ) -> dict[str, Any]:
    """Propose a plan for the open business date; the answer is its preview (both schedules,
    totals before and after, what is waived, the APR against the cap). A rule that refuses it
    answers 422 naming the rule, and nothing is stored."""
    guard(ctx, principal, loan_id, "plans.propose")
    return plans.propose(loan_id, body.model_dump(), proposed_by=principal.identity,
                         uow_factory=ctx.uow_factory, clock=ctx.services.clock)


@router.get("/loans/{loan_id}/plans")
def list_plans(loan_id: Annotated[str, schemas.Ref], ctx: Ctx,
               principal: Annotated[Principal, Depends(require(Scope.LOANS_READ))],
               status: Annotated[str | None, Query(max_length=20)] = None,
               limit: pages.Limit = pages.DEFAULT_LIMIT,
               cursor: pages.Cursor = None) -> dict[str, Any]:
    """The loan's plans, newest first, a page at a time (`next_cursor`)."""
    if status is not None and status not in plan_documents.STATUSES:
        raise DomainError("status", f"must be one of {', '.join(plan_documents.STATUSES)}")
    guard(ctx, principal, loan_id, "plans.list")
    before = pages.after_of(cursor, LISTING) or None
    document = plan_documents.list_document(loan_ref=loan_id, status=status, limit=limit + 1,
                                            before_id=before, with_ids=True,
                                            uow_factory=ctx.uow_factory)
    rows = document["plans"]
    ids = [row.pop("row_id") for row in rows]
    return {"plans": rows[:limit], "next_cursor": pages.next_cursor(LISTING, ids, limit)}


@router.get("/plans/{plan_id}")
def show(plan_id: Annotated[str, schemas.Ref], ctx: Ctx,
         principal: Annotated[Principal, Depends(require(Scope.LOANS_READ))]
         ) -> dict[str, Any]:
    """One plan: its record and the preview it was decided on."""
    return _plan(ctx, principal, plan_id, "plans.show")


@router.post("/plans/{plan_id}/approval")
def approve(plan_id: Annotated[str, schemas.Ref], ctx: Ctx,
            principal: Annotated[Principal, Depends(require(Scope.PLANS_APPROVE))]
            ) -> dict[str, Any]:
    """Approve a proposed plan: never by its proposer; a waiver above the collector's limit
    needs a supervisor. The loan is restated with the plan from the open date."""
    _plan(ctx, principal, plan_id, "plans.approve")
    return plans.approve(plan_id, by=principal.identity, role=principal.role,
                         uow_factory=ctx.uow_factory, clock=ctx.services.clock)


@router.post("/plans/{plan_id}/rejection")
def reject(plan_id: Annotated[str, schemas.Ref], body: Decision, ctx: Ctx,
           principal: Annotated[Principal, Depends(require(Scope.PLANS_APPROVE))]
           ) -> dict[str, Any]:
    """Reject a proposed plan (never by its proposer); the loan is not touched."""
    _plan(ctx, principal, plan_id, "plans.reject")
    return plans.reject(plan_id, by=principal.identity, reason=body.reason,
                        uow_factory=ctx.uow_factory, clock=ctx.services.clock)


@router.post("/plans/{plan_id}/undo")
def undo(plan_id: Annotated[str, schemas.Ref], ctx: Ctx,
         principal: Annotated[Principal, Depends(require(Scope.PLANS_APPROVE))]
         ) -> dict[str, Any]:
    """Undo an approved plan while it is the loan's latest event (a plan above the
    collector's waiver limit: by a supervisor)."""
    _plan(ctx, principal, plan_id, "plans.undo")
    return plans.undo(plan_id, by=principal.identity, role=principal.role,
                      uow_factory=ctx.uow_factory, clock=ctx.services.clock)
