"""Staff pages: sign in and out, the collector workbench (my queue; a case with its figures,
schedule, payments, contact history, promises and plans, and each channel's next allowed
time), the call-script screen as it is typed, and logging a contact's outcome. (Recording a
promise and proposing a plan from the case page are `case_actions`.)

Every read goes through the scoping the API uses (`application.access`): a case out of the
user's scope is a 404, as it is for an API key of the same role.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from starlette.datastructures import FormData

from arrears.application import plan_documents, queries, workbench
from arrears.application.access import NotFound, Principal, Role
from arrears.application.contact_decisions import CHANNELS
from arrears.application.contacts import CONTACT_OUTCOMES
from arrears.application.handlers import casework, users
from arrears.application.loan_file import money_text
from arrears.domain.errors import DomainError
from arrears.domain.plans import WAIVABLE, PlanKind
from arrears.entrypoints.web.pages import (
    Forbidden,
    SignInRequired,
    checked_form,
    limit,
    page_router,
    redirect,
    render,
    session_of,
    text,
    web,
)

router = page_router()
Form = Annotated[FormData, Depends(checked_form)]


def staff(request: Request) -> Principal:
    """The signed-in staff user's principal, else a redirect to the sign-in page."""
    name = session_of(request).get("staff")
    principal = None if name is None else users.signed_in_user(
        name, uow_factory=web(request).uow_factory)
    if principal is None:
        raise SignInRequired("/login")
    return principal


Staff = Annotated[Principal, Depends(staff)]
HOMES = {Role.SUPERVISOR: "/supervise", Role.COMPLIANCE: "/compliance"}
"""Where each role lands after signing in (the others: their queue)."""
CASE_PLANS = 20
"""The case page lists a loan's latest plans, this many (the API lists them all)."""
PLAN_PARAMETERS = ("terms", "first_due_on", "months", "until", "amount", "rate")
"""The plan parameters the case page's form takes, named as the plan document names them."""
WAIVE_FIELDS = {f"waive_{component.value}": component.value for component in WAIVABLE}
"""A waiver's share to forgive per balance bucket: form field → bucket."""
CASE_ID = re.compile(r"\d{1,18}")
"""A case's (or a promise's) id in a URL or a notice; anything else names none."""
PLAN_REF = re.compile(r"PL-\d{1,12}")


def staff_in(*roles: Role) -> Callable[[Request], Principal]:
    """A dependency: the signed-in staff user's principal when their role is one of
    `roles`, else a 403 page."""

    def check(request: Request) -> Principal:
        principal = staff(request)
        if principal.role not in roles:
            raise Forbidden()
        return principal

    return check


@router.get("/login")
def login_page(request: Request) -> Response:
    return render(request, "login.html", {"name": "", "error": False})


@router.post("/login")
def login(request: Request, form: Form) -> Response:
    ctx = web(request)
    limit(request, ctx.sign_in_limiter)
    name = text(form, "name", max_length=20)
    # Per account too: guesses from many addresses at one password share a limit.
    limit(request, ctx.sign_in_limiter, client=f"user:{name.casefold()}")
    principal = users.sign_in(name, text(form, "password", max_length=users.MAX_PASSWORD),
                              uow_factory=ctx.uow_factory)
    if principal is None:
        return render(request, "login.html", {"name": name,
                                              "error": True}, status=401)
    session_of(request).sign_in("staff", name)
    return redirect(request, HOMES.get(principal.role, "/work"))


@router.post("/logout")
def logout(request: Request, _: Form) -> Response:
    session_of(request).clear()
    return redirect(request, "/")


@router.get("/work")
def my_queue(request: Request, principal: Staff) -> Response:
    ctx = web(request)
    rows = workbench.queue(principal, ctx.services.clock.now(), uow_factory=ctx.uow_factory)
    with ctx.uow_factory() as uow:
        currency = queries.book_currency(uow)
    return render(request, "queue.html", {
        "principal": principal, "rows": rows, "currency": currency,
        "zone": ctx.services.settings.business_time_zone,
        "balances": {r.case_id: money_text(r.balance, currency) for r in rows}})


def case_values(request: Request, principal: Principal, loan_id: str) -> dict[str, Any]:
    """What the case page shows (the loan in `principal`'s scope, else `NotFound`), with its
    forms empty and no notice; a refused form's route fills in its error and values."""
    ctx = web(request)
    view = workbench.case_view(principal, loan_id, ctx.services.clock.now(),
                               uow_factory=ctx.uow_factory)
    return {"principal": principal, "view": view,
            "loan": queries.loan_document(loan_id, uow_factory=ctx.uow_factory),
            "plans": plan_documents.list_document(loan_ref=loan_id, status=None,
                                                  limit=CASE_PLANS,
                                                  uow_factory=ctx.uow_factory)["plans"],
            "money_text": money_text, "channels": CHANNELS, "outcomes": tuple(CONTACT_OUTCOMES),
            "case_plans": CASE_PLANS, "case_promises": workbench.CASE_PROMISES,
            "plan_kinds": tuple(kind.value for kind in PlanKind),
            "plan_parameters": PLAN_PARAMETERS, "waive_fields": WAIVE_FIELDS,
            "error": None, "refused": None, "logged": False, "form": {},
            "promised": "", "promise_error": None, "promise_form": {},
            "proposed": "", "plan_error": None, "plan_form": {}, "preview": None}


@router.get("/work/loans/{loan_id}")
def case_page(request: Request, loan_id: str, principal: Staff, logged: str = "",
              promised: str = "", proposed: str = "") -> Response:
    values = case_values(request, principal, loan_id)
    values.update(logged=logged == "1",
                  promised=promised if CASE_ID.fullmatch(promised) else "",
                  proposed=proposed if PLAN_REF.fullmatch(proposed) else "")
    return render(request, "case.html", values)


@router.post("/work/loans/{loan_id}/screen")
def screen_script(request: Request, loan_id: str, principal: Staff, form: Form) -> Response:
    """The fragment listing the script's forbidden wording (htmx swaps it in as one types)."""
    ctx = web(request)
    pack = workbench.pack_in_scope(principal, loan_id, ctx.services.clock.now(),
                                   uow_factory=ctx.uow_factory)
    script = text(form, "script", required=False, max_length=casework.MAX_NOTES)
    return render(request, "_script_matches.html",
                  {"matches": workbench.screen_script(script, pack), "script": script})


@router.post("/work/loans/{loan_id}/contacts")
def log_contact(request: Request, loan_id: str, principal: Staff, form: Form) -> Response:
    """Log an outcome as the signed-in collector (or agency); the engine decides it first."""
    ctx = web(request)
    fields = {name: text(form, name, required=False, max_length=casework.MAX_NOTES)
              for name in ("channel", "outcome", "notes", "script")}
    try:
        if principal.actor is None:
            raise DomainError("actor", "only collectors and agencies log their contacts")
        workbench.pack_in_scope(principal, loan_id, ctx.services.clock.now(),
                                uow_factory=ctx.uow_factory)  # out of scope: a 404
        casework.log_contact(loan_id, actor=principal.actor, channel=fields["channel"],
                             outcome=fields["outcome"], at=ctx.services.clock.now(),
                             notes=fields["notes"], script=fields["script"],
                             uow_factory=ctx.uow_factory)
    except casework.ContactRefused as refused:
        values = case_values(request, principal, loan_id)
        values.update(refused=refused, form=fields)
        return render(request, "case.html", values, status=422)
    except NotFound:
        raise
    except DomainError as error:
        values = case_values(request, principal, loan_id)
        values.update(error=error, form=fields)
        return render(request, "case.html", values, status=422)
    return redirect(request, f"/work/loans/{loan_id}?logged=1")
