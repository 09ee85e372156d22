"""Pages anyone may open: the front door, the language switch, and the credential check (paste
a token, or open the QR code's `/verify?token=…`), rate-limited per client."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from starlette.datastructures import FormData

from arrears.application.handlers import credentials
from arrears.domain.credential import Judgement
from arrears.entrypoints.web.i18n import LANGUAGES
from arrears.entrypoints.web.pages import (
    checked_form,
    limit,
    local_path,
    page_router,
    redirect,
    render,
    session_of,
    text,
    web,
)
from arrears.entrypoints.web.session import LANGUAGE_COOKIE

router = page_router()
Form = Annotated[FormData, Depends(checked_form)]
MAX_TOKEN = 4000
MAX_DEBT = 64
YEAR = 365 * 24 * 3600


@router.get("/")
def home(request: Request) -> Response:
    session = session_of(request)
    if session.get("staff"):
        return redirect(request, "/work")
    if session.get("borrower"):
        return redirect(request, "/me")
    return render(request, "home.html")


@router.post("/lang")
def choose_language(request: Request, form: Form) -> Response:
    chosen = text(form, "lang", max_length=8)
    response = redirect(request, local_path(text(form, "next", required=False) or "/"))
    if chosen in LANGUAGES:
        response.set_cookie(LANGUAGE_COOKIE, chosen, max_age=YEAR, httponly=True,
                            samesite="lax", secure=request.url.scheme == "https")
    return response


def _verdict(judgement: Judgement) -> dict[str, Any]:
    claims = judgement.claims
    return {"verdict": judgement.verdict.value, "reason": judgement.reason, "claims": claims,
            "scopes": [s.value for s in claims.scopes] if claims is not None else []}


def check(request: Request, token: str, debt: str, *, action: str = "/verify",
          loans: Sequence[str] | None = None) -> Response:
    """The verdict on `token` (about `debt`, when given) on the verification page, whose form
    posts to `action`. `loans` are a signed-in borrower's, the only debts they may ask
    about: any other is not asked about, and the page says so."""
    ctx = web(request)
    limit(request, ctx.verify_limiter)
    services = ctx.services
    ignored = debt if loans is not None and debt and debt not in loans else ""
    asked = "" if ignored else debt
    question = credentials.question_on(None, services.clock.now(),
                                       services.settings.business_time_zone,
                                       debt=asked or None, scope=None)
    judgement = credentials.verify(token, question, uow_factory=services.uow_factory,
                                   keys=services.keys)
    return render(request, "verify.html", {"token": token, "debt": asked, "ignored": ignored,
                                           "action": action, "loans": loans,
                                           "zone": services.settings.business_time_zone,
                                           "result": _verdict(judgement)})


@router.get("/verify")
def verify_page(request: Request, token: str = "", debt: str = "") -> Response:
    """The form; with `token` (the QR code's link), the verdict at once."""
    if token.strip():
        return check(request, token.strip()[:MAX_TOKEN], debt.strip()[:MAX_DEBT])
    return render(request, "verify.html", {"token": "", "debt": "", "result": None,
                                           "loans": None})


@router.post("/verify")
def verify_submit(request: Request, form: Form) -> Response:
    return check(request, text(form, "token", max_length=MAX_TOKEN),
                 text(form, "debt", required=False, max_length=MAX_DEBT))
