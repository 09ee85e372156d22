"""`mount(app, …)`: the pages and their static files on the API's app."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape

from arrears import bootstrap
from arrears.adapters.channels.config import ChannelSettings, build_channels
from arrears.domain.errors import DomainError
from arrears.entrypoints.api.deps import TokenBuckets
from arrears.entrypoints.web import (
    borrower,
    case_actions,
    dashboards,
    demo_gateway,
    portal,
    public,
    staff,
    supervision,
)
from arrears.entrypoints.web.pages import WebContext
from arrears.entrypoints.web.session import Sessions, WebSettings

PER_MINUTE = 1 / 60


def mount(app: FastAPI, services: bootstrap.Services, settings: WebSettings) -> None:
    if settings.demo_gateway and app.state.ctx.settings.callback_secret is None:
        raise DomainError("ARREARS_WEB_DEMO_GATEWAY", "needs ARREARS_CALLBACK_SECRET: the "
                                                      "demo channel signs its notices with it")
    templates = Environment(loader=PackageLoader("arrears.entrypoints.web", "templates"),
                            autoescape=select_autoescape(default=True), trim_blocks=True,
                            lstrip_blocks=True)
    app.state.web = WebContext(
        services=services, uow_factory=services.web_uow_factory(), settings=settings,
        sessions=Sessions(settings.session_secret), templates=templates,
        verify_limiter=TokenBuckets(settings.verify_per_minute * PER_MINUTE,
                                    settings.verify_per_minute),
        sign_in_limiter=TokenBuckets(settings.sign_in_per_minute * PER_MINUTE,
                                     settings.sign_in_per_minute),
        code_channel=build_channels(ChannelSettings.from_env(), services.engine,
                                    services.clock)["sms"])
    app.mount("/static", StaticFiles(packages=[("arrears.entrypoints.web", "static")]),
              name="static")
    for router in (public.router, staff.router, case_actions.router, dashboards.router,
                   supervision.router, borrower.router, portal.router):
        app.include_router(router)
    if settings.demo_gateway:  # off, there is no such page: no check runs before the 404
        app.include_router(demo_gateway.router)
