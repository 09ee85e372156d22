"""What every page shares: the web context on the app, the session and language of a request,
rendering a template (which also sends a changed session cookie), CSRF-checked forms, and the
route class that turns errors into pages (not the API's JSON problems)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment
from starlette.datastructures import FormData

from arrears import bootstrap
from arrears.adapters.db.web_store import SqlWebUnitOfWorkFactory
from arrears.application.access import NotFound
from arrears.application.notifications import Channel
from arrears.domain.errors import DomainError
from arrears.entrypoints.api.deps import TokenBuckets, client_of
from arrears.entrypoints.web.i18n import LANGUAGES, Translator, pick_language
from arrears.entrypoints.web.session import (
    CSRF_FIELD,
    LANGUAGE_COOKIE,
    Session,
    Sessions,
    WebSettings,
)

MAX_FIELD = 4000
PAGE_HEADERS = {
    # No other site may frame a page (a framed one-click form could be clicked through).
    "X-Frame-Options": "DENY", "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    # A page shows one person's figures: a shared computer's cache keeps none of them.
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",  # a URL names a loan; other sites are not told it
}


@dataclass(slots=True, kw_only=True)
class WebContext:
    services: bootstrap.Services
    uow_factory: SqlWebUnitOfWorkFactory
    settings: WebSettings
    sessions: Sessions
    templates: Environment
    verify_limiter: TokenBuckets
    sign_in_limiter: TokenBuckets
    code_channel: Channel
    """Where borrowers' sign-in codes go: the SMS gateway, or its local sink."""


def web(request: Request) -> WebContext:
    ctx: WebContext = request.app.state.web
    return ctx


def session_of(request: Request) -> Session:
    """The request's session, read from its cookie once."""
    found = getattr(request.state, "session", None)
    if not isinstance(found, Session):
        found = web(request).sessions.load(request)
        request.state.session = found
    return found


def translator(request: Request) -> Translator:
    return Translator(pick_language(request.cookies.get(LANGUAGE_COOKIE),
                                    request.headers.get("accept-language", "")))


def render(request: Request, template: str, values: Mapping[str, Any] | None = None, *,
           status: int = 200) -> HTMLResponse:
    session = session_of(request)
    _ = translator(request)
    body = web(request).templates.get_template(template).render(
        _=_, lang=_.language, languages=LANGUAGES, csrf=session.csrf, csrf_field=CSRF_FIELD,
        signed_in=session.get("staff") or session.get("borrower"), path=request.url.path,
        **(values or {}))
    response = HTMLResponse(body, status_code=status)
    web(request).sessions.save(request, response, session)
    return response


def redirect(request: Request, to: str) -> RedirectResponse:
    """A 303 to a local page (after a form: the browser then GETs it), with the session."""
    response = RedirectResponse(to, status_code=303)
    web(request).sessions.save(request, response, session_of(request))
    return response


def local_path(target: str) -> str:
    """`target` when it is a path on this site, else '/': a form's `next` cannot send the
    visitor elsewhere."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return quote(target, safe="/?=&-_.~")


class CsrfRejected(Exception):
    """A form came back without this session's CSRF token."""


class Forbidden(Exception):
    """The signed-in user's role may not open this page."""


class SignInRequired(Exception):
    def __init__(self, to: str) -> None:
        super().__init__(to)
        self.to = to


class RateLimited(Exception):
    def __init__(self, wait: float) -> None:
        super().__init__(wait)
        self.wait = wait


def limit(request: Request, limiter: TokenBuckets, *, client: str | None = None) -> None:
    """A 429 page once `client` (default: the caller's address) is over the limit."""
    wait = limiter.take(client or client_of(request))
    if wait:
        raise RateLimited(wait)


async def checked_form(request: Request) -> FormData:
    """The posted form, once its CSRF token matches the session's."""
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    if not isinstance(sent, str) or not session_of(request).csrf_ok(sent):
        raise CsrfRejected()
    return form


def text(form: FormData, name: str, *, required: bool = True, max_length: int = MAX_FIELD
         ) -> str:
    """A text field of a form, trimmed; a missing, empty or overlong one names the field."""
    value = form.get(name)
    found = value.strip() if isinstance(value, str) else ""
    if required and not found:
        raise DomainError(name, "must not be empty")
    if len(found) > max_length:
        raise DomainError(name, f"longer than {max_length} characters")
    return found


def _error_page(request: Request, status: int, title: str, detail: str) -> Response:
    return render(request, "error.html", {"title": title, "detail": detail}, status=status)


class HtmlRoute(APIRoute):
    """A page route: errors become pages in the visitor's language, a missing sign-in a
    redirect to the sign-in page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page(request: Request) -> Response:
            response = await answer(request)
            response.headers.update(PAGE_HEADERS)
            return response

        async def answer(request: Request) -> Response:
            _ = translator(request)
            try:
                return await handler(request)
            except SignInRequired as needed:
                return redirect(request, needed.to)
            except CsrfRejected:
                return _error_page(request, 403, _("Form expired"),
                                   _("Reload the page and send the form again."))
            except RateLimited as limited:
                response = _error_page(request, 429, _("Too many requests"),
                                       _("Wait a minute and try again."))
                response.headers["Retry-After"] = str(max(1, round(limited.wait)))
                return response
            except Forbidden:
                return _error_page(request, 403, _("Not allowed"),
                                   _("Your role may not open this page."))
            except NotFound:
                return _error_page(request, 404, _("Not found"),
                                   _("There is nothing here that you may see."))
            except DomainError as error:
                return _error_page(request, 422, _("Invalid input"),
                                   f"{error.field}: {error.reason}")

        return page


def page_router() -> APIRouter:
    """A router of pages: errors as pages, and out of the API's OpenAPI document."""
    return APIRouter(route_class=HtmlRoute, include_in_schema=False)
