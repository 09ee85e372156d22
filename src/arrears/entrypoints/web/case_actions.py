"""What staff do on a case page besides logging a contact: record a borrower's promise to
pay, and propose a hardship plan — previewed first exactly as the borrower would see it, then
stored to wait for a supervisor's decision (maker-checker: the proposer never decides it).
Both are recorded as who did them (`Principal.identity`, as the API records its callers).
The services are the API's (`casework.record_promise`, `plans.propose`, whose rules refuse a
form sent twice); the loan must be in the user's scope (else a 404 page), and the user's role
must carry the API scope the action takes (else a 403 page).

Each form is a plain POST: on success a redirect back to the case page naming what was
recorded; on a refusal the case page again, the form as sent and the field named.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request, Response
from starlette.datastructures import FormData

from arrears.application.access import NotFound, Principal, Scope, loan_currency_in_scope
from arrears.application.handlers import casework, plans
from arrears.application.loan_file import parse_amount, parse_date
from arrears.domain.errors import DomainError
from arrears.entrypoints.web.pages import (
    Forbidden,
    checked_form,
    page_router,
    redirect,
    render,
    text,
    web,
)
from arrears.entrypoints.web.staff import PLAN_PARAMETERS, WAIVE_FIELDS, Staff, case_values

router = page_router()
Form = Annotated[FormData, Depends(checked_form)]
MAX_PARAMETER = 40
PLAN_FORM = ("kind", *PLAN_PARAMETERS, *WAIVE_FIELDS)
PROMISE_FORM = ("amount", "due_on")


def _currency_in_scope(request: Request, principal: Principal, loan_id: str, scope: Scope,
                       route: str) -> str:
    """The loan's currency once `principal` may act on it: a role without `scope` gets a
    403 page, a loan out of their scope a 404 page (as the API answers the same key)."""
    if scope not in principal.scopes:
        raise Forbidden()
    ctx = web(request)
    with ctx.uow_factory() as uow:
        return loan_currency_in_scope(uow, principal, loan_id, route=route,
                                      at=ctx.services.clock.now(), personal=False)


def _refused(request: Request, principal: Principal, loan_id: str, **shown: Any) -> Response:
    values = case_values(request, principal, loan_id)
    values.update(shown)
    return render(request, "case.html", values, status=422)


def _as_sent(form: FormData, names: tuple[str, ...]) -> dict[str, str]:
    """The form's fields as sent, to show again when it is refused (an overlong one cut to
    what its field could hold, with one character more to show it was too long)."""
    sent = {}
    for name in names:
        value = form.get(name)
        sent[name] = value.strip()[:MAX_PARAMETER + 1] if isinstance(value, str) else ""
    return sent


@router.post("/work/loans/{loan_id}/promises")
def record_promise(request: Request, loan_id: str, principal: Staff, form: Form) -> Response:
    """A promise to pay taken by the signed-in user, recorded as who they are
    (`Principal.identity`: a collector, an agency, or a staff user of the lender)."""
    currency = _currency_in_scope(request, principal, loan_id, Scope.CONTACTS_WRITE,
                                  "web.promises")
    ctx = web(request)
    try:
        fields = {name: text(form, name, required=False, max_length=MAX_PARAMETER)
                  for name in PROMISE_FORM}
        promise_id = casework.record_promise(
            loan_id, parse_amount(fields["amount"], currency, "amount"),
            parse_date(fields["due_on"], "due_on"), collector=principal.identity,
            uow_factory=ctx.uow_factory, clock=ctx.services.clock)
    except NotFound:
        raise
    except DomainError as error:
        return _refused(request, principal, loan_id, promise_error=error,
                        promise_form=_as_sent(form, PROMISE_FORM))
    return redirect(request, f"/work/loans/{loan_id}?promised={promise_id}")


def _plan_terms(form: FormData) -> tuple[dict[str, str], dict[str, Any]]:
    """The form's fields, and the plan object (`plan_file`) they make: its kind and each
    parameter filled in (the plan's rules refuse one its kind does not take)."""
    fields = {name: text(form, name, required=False, max_length=MAX_PARAMETER)
              for name in PLAN_FORM}
    if not fields["kind"]:
        raise DomainError("kind", "choose the kind of plan")
    terms: dict[str, Any] = {"kind": fields["kind"]}
    terms.update((name, fields[name]) for name in PLAN_PARAMETERS if fields[name])
    waive = {bucket: fields[name] for name, bucket in WAIVE_FIELDS.items() if fields[name]}
    if waive:
        terms["waive"] = waive
    return fields, terms


def _form_field(error: DomainError) -> DomainError:
    """The refusal naming the form's field (`terms`, `waive_fee`) where the plan's rules name
    the plan document's (`plan.terms`, `plan.waive.fee`); a rule of the policy or the cost cap
    keeps its own name."""
    name = error.field.removeprefix("plan.").replace(".", "_")
    return DomainError(name, error.reason) if name in PLAN_FORM else error


def _propose(request: Request, principal: Principal, loan_id: str, form: FormData, *,
             rehearse: bool) -> Response:
    _currency_in_scope(request, principal, loan_id, Scope.PLANS_WRITE, "web.plans")
    ctx = web(request)
    try:
        fields, terms = _plan_terms(form)
        shown = plans.propose(
            loan_id, terms, proposed_by=principal.identity,
            uow_factory=ctx.uow_factory.rehearsal if rehearse else ctx.uow_factory,
            clock=ctx.services.clock)
    except NotFound:
        raise
    except DomainError as error:
        return _refused(request, principal, loan_id, plan_error=_form_field(error),
                        plan_form=_as_sent(form, PLAN_FORM))
    if rehearse:
        values = case_values(request, principal, loan_id)
        values.update(preview=shown, plan_form=fields)
        return render(request, "case.html", values)
    return redirect(request, f"/work/loans/{loan_id}?proposed={shown['plan_id']}")


@router.post("/work/loans/{loan_id}/plans/preview")
def preview_plan(request: Request, loan_id: str, principal: Staff, form: Form) -> Response:
    """The plan's preview, every rule checked and nothing kept, with a form to propose it."""
    return _propose(request, principal, loan_id, form, rehearse=True)


@router.post("/work/loans/{loan_id}/plans")
def propose_plan(request: Request, loan_id: str, principal: Staff, form: Form) -> Response:
    """Propose the plan previewed; it waits for a supervisor's decision."""
    return _propose(request, principal, loan_id, form, rehearse=False)
