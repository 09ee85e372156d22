"""The supervisor's actions on cases: assign an open case to a collector
(`case_assignment.assign_case`, the API's `PUT /cases/{id}/assignment`: the collector must
work the case's bucket, and a case placed with an agency is recalled first), place it with an
agency (`collections.place_case`, the API's `PUT /cases/{id}/placement`, with a strategy's
checks), and recall a case from the agency it is placed with (`collections.recall_case`, from
the open business date: the delegation ends, the agency's credentials for it are revoked, and
the case returns to an internal queue at the next case sync). Each records who acted
(`Principal.identity`).

Supervisors and admins only (anyone else: a 403 page; a case id that names no open case: a
404 page). Each is a plain POST: on success a redirect to the supervisor's page, on the pages
of cases and placements the form was sent from, naming the case; on a refusal that page
naming the case and the field.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response
from starlette.datastructures import FormData

from arrears.application import supervision
from arrears.application.access import MAX_REF, NotFound, Principal, Role, open_business_date
from arrears.application.handlers import case_assignment
from arrears.application.handlers import collections as collection_handlers
from arrears.domain.errors import DomainError
from arrears.entrypoints.web.dashboards import cursor, supervisor_page
from arrears.entrypoints.web.pages import checked_form, page_router, redirect, text, web
from arrears.entrypoints.web.staff import CASE_ID, staff_in

router = page_router()
Form = Annotated[FormData, Depends(checked_form)]
Supervisor = Annotated[Principal, Depends(staff_in(Role.SUPERVISOR, Role.ADMIN))]


def _case_id(case_id: str) -> int:
    """The case id of a URL; anything but a case id is no case (a 404 page)."""
    if not CASE_ID.fullmatch(case_id):
        raise NotFound("case_id", "no such case")
    return int(case_id)


def _cursors(form: FormData) -> dict[str, int]:
    """The pages of cases and placements the form was sent from, to come back to."""
    return {name: cursor(form.get(name)) for name in ("after", "placed_after")}


def _back(request: Request, notice: str, case: int, cursors: dict[str, int],
          anchor: str) -> Response:
    pages = "".join(f"&{name}={value}" for name, value in cursors.items() if value)
    return redirect(request, f"/supervise?{notice}={case}{pages}#{anchor}")


@router.post("/supervise/cases/{case_id}/assignment")
def assign_case(request: Request, case_id: str, principal: Supervisor, form: Form
                ) -> Response:
    case, cursors = _case_id(case_id), _cursors(form)
    ctx = web(request)
    try:
        case_assignment.assign_case(case, text(form, "collector", max_length=MAX_REF),
                                    by=principal.identity, uow_factory=ctx.uow_factory,
                                    clock=ctx.services.clock)
    except case_assignment.CaseNotFound as missing:
        raise NotFound(missing.field, missing.reason) from None
    except DomainError as error:
        # The service names the API's body field; the form's is `collector`.
        named = "collector" if error.field == "collector_id" else error.field
        return supervisor_page(request, principal, **cursors, error_case=case,
                               error=DomainError(named, error.reason))
    return _back(request, "assigned", case, cursors, "cases")


@router.post("/supervise/cases/{case_id}/placement")
def place_case(request: Request, case_id: str, principal: Supervisor, form: Form
               ) -> Response:
    case, cursors = _case_id(case_id), _cursors(form)
    ctx = web(request)
    with ctx.uow_factory() as uow:
        on = open_business_date(uow)
    try:
        collection_handlers.place_case(case, text(form, "agency", max_length=MAX_REF), on,
                                       by=principal.identity, uow_factory=ctx.uow_factory,
                                       clock=ctx.services.clock)
    except DomainError as error:
        if not supervision.has_open_case(case, uow_factory=ctx.uow_factory):
            raise NotFound("case_id", f"no open case {case}") from None
        # The service names the API's body field; the form's is `agency`.
        named = "agency" if error.field == "agency_id" else error.field
        return supervisor_page(request, principal, **cursors, error_case=case,
                               error=DomainError(named, error.reason))
    return _back(request, "placed", case, cursors, "cases")


@router.post("/supervise/cases/{case_id}/recall")
def recall_case(request: Request, case_id: str, principal: Supervisor, form: Form
                ) -> Response:
    case, cursors = _case_id(case_id), _cursors(form)
    ctx = web(request)
    with ctx.uow_factory() as uow:
        on = open_business_date(uow)
    if not collection_handlers.recall_case(case, on, by=principal.identity,
                                           uow_factory=ctx.uow_factory,
                                           clock=ctx.services.clock):
        if not supervision.has_open_case(case, uow_factory=ctx.uow_factory):
            raise NotFound("case_id", f"no open case {case}")
        return supervisor_page(request, principal, **cursors, error_case=case,
                               error=DomainError(
                                   "case_id", f"case {case} is not placed with an agency"))
    return _back(request, "recalled", case, cursors, "placements")
