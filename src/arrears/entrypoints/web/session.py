"""Web settings from the environment, and the session: a cookie signed with
`ARREARS_SESSION_SECRET` (HttpOnly, SameSite=Lax, Secure over HTTPS) holding who is signed in
and the CSRF token every form carries back.

The cookie is signed, not encrypted: it holds a user name or a borrower id and a random token,
nothing a reader could misuse, and the signature stops anyone changing them. A session lives
`SESSION_HOURS` from its last change.
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from arrears.domain.errors import DomainError
from arrears.entrypoints.api.settings import MIN_SECRET_BYTES

COOKIE = "arrears_session"
LANGUAGE_COOKIE = "arrears_lang"
SESSION_HOURS = 8
CSRF_FIELD = "csrf_token"
log = logging.getLogger("arrears.web")


@dataclass(frozen=True, slots=True, kw_only=True)
class WebSettings:
    session_secret: str = field(repr=False)  # kept out of logs and tracebacks
    verify_per_minute: int = 30  # ARREARS_WEB_VERIFY_RATE: credential checks per client
    sign_in_per_minute: int = 10  # ARREARS_WEB_SIGN_IN_RATE: sign-in and code requests
    # ARREARS_WEB_DEMO_GATEWAY=1 (`serve --demo` sets it): the portal's Pay button posts
    # through a demo payment channel. Off, no page can make a payment that no money backs.
    demo_gateway: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> WebSettings:
        env = os.environ if environ is None else environ
        secret = env.get("ARREARS_SESSION_SECRET")
        if secret is None:
            # Pages still work, but sessions end when the process does and are not shared
            # between worker processes: fine for a try-out, not for staff at work.
            log.warning("ARREARS_SESSION_SECRET is not set; sessions last only as long as "
                        "this process")
            secret = secrets.token_urlsafe(32)
        elif len(secret.encode()) < MIN_SECRET_BYTES:
            raise DomainError("ARREARS_SESSION_SECRET",
                              f"must be at least {MIN_SECRET_BYTES} bytes")
        return cls(session_secret=secret,
                   verify_per_minute=_rate(env, "ARREARS_WEB_VERIFY_RATE", 30),
                   sign_in_per_minute=_rate(env, "ARREARS_WEB_SIGN_IN_RATE", 10),
                   demo_gateway=_switch(env, "ARREARS_WEB_DEMO_GATEWAY"))


def _rate(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= 100_000:
        raise DomainError(name, "must be a whole number from 1 to 100000")
    return int(raw)


def _switch(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "0")
    if raw not in ("0", "1"):
        raise DomainError(name, "must be 0 or 1")
    return raw == "1"


@dataclass(slots=True)
class Session:
    """The signed cookie's contents: `staff` (a user name) or `borrower` (a borrower id), and
    the CSRF token. `changed` says the cookie must be sent again."""

    data: dict[str, Any] = field(default_factory=dict)
    changed: bool = False

    @property
    def csrf(self) -> str:
        token = self.data.get("csrf")
        if not isinstance(token, str):
            token = secrets.token_urlsafe(24)
            self.data["csrf"] = token
            self.changed = True
        return token

    def csrf_ok(self, sent: str) -> bool:
        token = self.data.get("csrf")
        return isinstance(token, str) and hmac.compare_digest(token.encode(), sent.encode())

    def get(self, key: str) -> str | None:
        value = self.data.get(key)
        return value if isinstance(value, str) else None

    def sign_in(self, key: str, value: str) -> None:
        """A new session (fresh CSRF token) for the signed-in person: a session fixed before
        sign-in is not carried over."""
        self.data = {key: value, "csrf": secrets.token_urlsafe(24)}
        self.changed = True

    def clear(self) -> None:
        self.data = {"csrf": secrets.token_urlsafe(24)}
        self.changed = True


class Sessions:
    def __init__(self, secret: str) -> None:
        self.serializer = URLSafeTimedSerializer(secret, salt="arrears-web-session")

    def load(self, request: Request) -> Session:
        raw = request.cookies.get(COOKIE)
        if raw:
            try:
                data = self.serializer.loads(raw, max_age=SESSION_HOURS * 3600)
            except BadSignature:  # tampered or expired: start afresh
                data = None
            if isinstance(data, dict):
                return Session(data)
        return Session()

    def save(self, request: Request, response: Response, session: Session) -> None:
        if session.changed:
            response.set_cookie(COOKIE, self.serializer.dumps(session.data),
                                max_age=SESSION_HOURS * 3600, httponly=True, samesite="lax",
                                secure=request.url.scheme == "https", path="/")
