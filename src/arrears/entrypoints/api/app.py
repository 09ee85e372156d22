"""`create_app(settings)`: the FastAPI application. Nothing is built at import time."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from arrears import bootstrap
from arrears.config import Settings
from arrears.entrypoints.api import problems
from arrears.entrypoints.api.deps import ApiContext, TokenBuckets
from arrears.entrypoints.api.routers import (
    collections,
    compliance,
    loans,
    operations,
    payments,
    plans,
    webhooks,
)
from arrears.entrypoints.api.settings import ApiSettings
from arrears.entrypoints.web import site
from arrears.entrypoints.web.session import WebSettings

MAX_BODY_BYTES = 16 * 2**20
"""Far above the largest body a route takes (a board of 1000 loans is a few megabytes), and
checked before anything is parsed or anyone authenticated: a body read whole into memory
must not be as large as a caller cares to send."""


class BodyLimit:
    """Refuse a request body over `limit` bytes with a 413: at once when its Content-Length
    says so, else as soon as the bytes received pass it."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > self.limit:
            await problems.problem(413, "Content too large",
                                   f"the body must be at most {self.limit} bytes",
                                   field="body")(scope, receive, send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise HTTPException(413, "Content too large")
            return message

        await self.app(scope, limited, send)


def create_app(settings: Settings, *, api_settings: ApiSettings | None = None,
               services: bootstrap.Services | None = None,
               web_settings: WebSettings | None = None) -> FastAPI:
    built = services or bootstrap.build(settings)
    api = api_settings or ApiSettings.from_env()
    app = FastAPI(title="Arrears API", version="1",
                  description="Overdue-loan servicing and fair debt collection. Money is a "
                              "decimal string, dates ISO 8601, errors RFC 9457 problems.")
    app.state.ctx = ApiContext(services=built, uow_factory=built.api_uow_factory(),
                               settings=api,
                               limiter=TokenBuckets(api.public_rate_per_second,
                                                    api.public_burst))
    problems.install(app)
    app.add_middleware(BodyLimit)
    # Compliance first: routes are matched in order, and a dialer asks before every call.
    for router in (compliance.router, loans.router, payments.router, collections.router,
                   operations.router, plans.router, webhooks.router):
        app.include_router(router)
    site.mount(app, built, web_settings or WebSettings.from_env())
    return app


def app_from_env() -> FastAPI:
    """The factory `arrears serve` hands to uvicorn: each worker process builds its own app
    (and its own pooled engine) from the environment."""
    return create_app(Settings.from_env())
