"""Borrower pages: sign in with a phone number on file and a one-time code (sent through the
outbox), then the portal: my loans, what I owe today and how it is made up (the figures of
`arrears loan status`, an installment due today on its own line), my contact history, and
the check of a collector's credential or visit notice (the public page's, asked about one of
my loans)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response
from starlette.datastructures import FormData

from arrears.application import borrower_portal, owed_today, workbench
from arrears.application.handlers import login_codes
from arrears.domain.errors import DomainError
from arrears.entrypoints.web import public
from arrears.entrypoints.web.pages import (
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
MAX_PHONE = 32


def borrower(request: Request) -> str:
    """The signed-in borrower's id, else a redirect to the borrower sign-in page."""
    found = session_of(request).get("borrower")
    if found is None:
        raise SignInRequired("/borrower/login")
    return found


@router.get("/borrower/login")
def phone_page(request: Request) -> Response:
    return render(request, "borrower_login.html", {"phone": "", "sent": False, "error": None})


@router.post("/borrower/code")
def send_code(request: Request, form: Form) -> Response:
    """Queue and send a code. The page says the same whether or not the number is on file."""
    ctx = web(request)
    limit(request, ctx.sign_in_limiter)
    phone = text(form, "phone", max_length=MAX_PHONE)
    try:
        login_codes.request_code(phone, uow_factory=ctx.uow_factory, clock=ctx.services.clock)
    except DomainError as error:
        return render(request, "borrower_login.html",
                      {"phone": phone, "sent": False, "error": error}, status=422)
    login_codes.deliver_codes(uow_factory=ctx.uow_factory, channel=ctx.code_channel,
                              clock=ctx.services.clock, worker="web")
    return render(request, "borrower_login.html", {"phone": phone, "sent": True, "error": None})


@router.post("/borrower/login")
def sign_in(request: Request, form: Form) -> Response:
    ctx = web(request)
    limit(request, ctx.sign_in_limiter)
    phone = text(form, "phone", max_length=MAX_PHONE)
    try:
        found = login_codes.redeem_code(phone, text(form, "code", max_length=12),
                                        uow_factory=ctx.uow_factory, clock=ctx.services.clock)
    except DomainError as error:
        return render(request, "borrower_login.html",
                      {"phone": phone, "sent": True, "error": error}, status=401)
    session_of(request).sign_in("borrower", found.borrower_ref)
    return redirect(request, "/me")


@router.get("/me")
def my_loans(request: Request, borrower_ref: Annotated[str, Depends(borrower)]) -> Response:
    ctx = web(request)
    mine = workbench.portal(borrower_ref, uow_factory=ctx.uow_factory)
    loans = [owed_today.owed_today(ref, uow_factory=ctx.uow_factory) for ref in mine.loan_refs]
    return render(request, "portal.html", {"loans": loans, "history": mine.history})


@router.get("/me/verify")
def my_verify_page(request: Request, borrower_ref: Annotated[str, Depends(borrower)],
                   token: str = "", debt: str = "") -> Response:
    """The check, with my loans to ask about; with `token` (a QR code's link), the verdict."""
    loans = borrower_portal.loans_of(borrower_ref, uow_factory=web(request).uow_factory)
    if token.strip():
        return public.check(request, token.strip()[:public.MAX_TOKEN],
                            debt.strip()[:public.MAX_DEBT], action="/me/verify", loans=loans)
    return render(request, "verify.html", {"token": "", "debt": "", "result": None,
                                           "action": "/me/verify", "loans": loans})


@router.post("/me/verify")
def my_verify(request: Request, borrower_ref: Annotated[str, Depends(borrower)], form: Form
              ) -> Response:
    loans = borrower_portal.loans_of(borrower_ref, uow_factory=web(request).uow_factory)
    return public.check(request, text(form, "token", max_length=public.MAX_TOKEN),
                        text(form, "debt", required=False, max_length=public.MAX_DEBT),
                        action="/me/verify", loans=loans)
