"""What routes depend on: the wired services, the authenticated caller with a scope, the
public-route rate limit, and the signed payment callback.

Authentication reads the key's row once and then trusts an in-process cache for
`key_cache_seconds`, so a revocation bites in every worker within that time; a request that
only computes (a compliance decision on given facts) then touches no database at all.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Annotated, Literal

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from arrears import bootstrap
from arrears.adapters.db.api_store import SqlApiUnitOfWorkFactory
from arrears.application.access import (
    Principal,
    Role,
    Scope,
    hash_secret,
    principal_of,
    split_key,
)
from arrears.entrypoints.api.problems import Problem
from arrears.entrypoints.api.settings import ApiSettings

SIGNATURE_HEADER = "X-Arrears-Signature"
TIMESTAMP_HEADER = "X-Arrears-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_CACHED_KEYS = 10_000
MAX_CLIENTS = 100_000
CALLBACK = Principal(key_ref="callback", role=Role.SYSTEM,
                     scopes=frozenset({Scope.PAYMENTS_WRITE}))


class TokenBuckets:
    """Per-client token buckets: `rate` requests a second, bursts up to `burst`."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
                 ) -> None:
        self.rate, self.burst, self.clock = rate, burst, clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, client: str) -> float:
        """0 when the request may go ahead, else the seconds until it may."""
        now = self.clock()
        with self._lock:
            if client not in self._buckets and len(self._buckets) >= MAX_CLIENTS:
                self._forget_full(now)
            tokens, since = self._buckets.get(client, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - since) * self.rate)
            if tokens >= 1:
                self._buckets[client] = (tokens - 1, now)
                return 0.0
            self._buckets[client] = (tokens, now)
            return (1 - tokens) / self.rate

    def _forget_full(self, now: float) -> None:
        """Drop the buckets that have filled up again (a new one starts full anyway), so that
        callers from ever new addresses cannot grow the table without end."""
        for client, (tokens, since) in list(self._buckets.items()):
            if tokens + (now - since) * self.rate >= self.burst:
                del self._buckets[client]
        if len(self._buckets) >= MAX_CLIENTS:
            self._buckets.clear()


class Miss(Enum):
    MISS = "miss"


MISS = Miss.MISS
"""No fresh cache entry for a key."""


@dataclass(slots=True, kw_only=True)
class ApiContext:
    services: bootstrap.Services
    uow_factory: SqlApiUnitOfWorkFactory
    settings: ApiSettings
    limiter: TokenBuckets
    _keys: dict[str, tuple[Principal | None, float]] = field(default_factory=dict)

    def cached(self, token: str) -> Principal | None | Literal[Miss.MISS]:
        """The key's principal (None for a bad key) while its cache entry is fresh, else
        `MISS`. Pure computation, so the event loop may call it."""
        if split_key(token) is None:
            return None
        entry = self._keys.get(hash_secret(token))
        return entry[0] if entry is not None and entry[1] > time.monotonic() else MISS

    def principal(self, token: str) -> Principal | None:
        """The live key's principal read from the database (and cached), else None."""
        parts = split_key(token)
        if parts is None:
            return None
        cache_key = hash_secret(token)
        now = time.monotonic()
        with self.uow_factory() as uow:
            row = uow.api.key_by_ref(parts[0])
        found = None if row is None else principal_of(row, parts[1])
        if len(self._keys) >= MAX_CACHED_KEYS:
            self._make_room(now)
        self._keys[cache_key] = (found, now + self.settings.key_cache_seconds)
        return found

    def _make_room(self, now: float) -> None:
        """Each made-up key a caller sends would otherwise stay cached for good: drop the
        expired entries, then the unknown keys, so the cache stays within MAX_CACHED_KEYS."""
        for drop in (lambda entry: entry[1] <= now, lambda entry: entry[0] is None):
            for cache_key, entry in list(self._keys.items()):
                if drop(entry):
                    self._keys.pop(cache_key, None)
            if len(self._keys) < MAX_CACHED_KEYS:
                return
        self._keys.clear()


async def context(request: Request) -> ApiContext:
    # `async`, though it awaits nothing: FastAPI runs a plain `def` dependency in the
    # threadpool, and that hop cost more than a whole compliance decision.
    ctx: ApiContext = request.app.state.ctx
    return ctx


Ctx = Annotated[ApiContext, Depends(context)]


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def rate_limited(request: Request, ctx: ApiContext) -> None:
    wait = ctx.limiter.take(client_of(request))
    if wait:
        raise Problem(429, "Too many requests", "slow down and retry later",
                      headers={"Retry-After": str(max(1, round(wait)))})


def _unauthorized(detail: str) -> Problem:
    return Problem(401, "Unauthorized", detail, field="Authorization",
                   headers={"WWW-Authenticate": 'Bearer realm="arrears"'})


async def authenticated(request: Request, ctx: ApiContext) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        rate_limited(request, ctx)  # unauthenticated callers share the public rate limit
        raise _unauthorized("send an API key as `Authorization: Bearer <key>`")
    token = token.strip()
    principal = ctx.cached(token)
    if principal is MISS:  # only a key not seen lately reads the database, off the loop
        principal = await run_in_threadpool(ctx.principal, token)
    if principal is None:
        rate_limited(request, ctx)
        raise _unauthorized("the API key is unknown or revoked")
    return principal


def require(scope: Scope) -> Callable[..., Awaitable[Principal]]:
    """A dependency: the caller, who must hold `scope`. One dependency with no dependencies
    of its own: FastAPI's solving of nested ones cost more per request than the check."""

    async def check(request: Request) -> Principal:
        principal = await authenticated(request, request.app.state.ctx)
        if scope not in principal.scopes:
            raise Problem(403, "Forbidden", f"this key's role ({principal.role}) lacks the "
                                            f"{scope} scope", field="Authorization")
        return principal

    return check


def signature(secret: bytes, timestamp: str, key: str, body: bytes) -> str:
    """`sha256=<hex HMAC-SHA256 of "<timestamp>\\n<Idempotency-Key>\\n<body>">`, as the payment
    channel signs. The key is signed too: were it not, a captured callback replayed within the
    window under a new key would post the payment again. (A header holds no line break, so
    the three parts cannot be shifted into one another.)"""
    signed = timestamp.encode() + b"\n" + key.encode("latin-1") + b"\n" + body  # as sent
    return f"sha256={hmac.new(secret, signed, hashlib.sha256).hexdigest()}"


async def signed_callback(request: Request, ctx: Ctx) -> Principal:
    """The payment channel, when the request carries a valid signature of its timestamp,
    idempotency key and body made within the replay window; a bad signature or a stale
    (replayed) timestamp is a 401."""
    rate_limited(request, ctx)
    secret = ctx.settings.callback_secret
    if secret is None:
        raise _unauthorized("signed callbacks are not configured (ARREARS_CALLBACK_SECRET)")
    stamp = request.headers.get(TIMESTAMP_HEADER, "")
    sent = request.headers.get(SIGNATURE_HEADER, "")
    if not (stamp.isascii() and stamp.isdigit()) or len(stamp) > 12:
        raise _unauthorized(f"{TIMESTAMP_HEADER} must be Unix seconds")
    if abs(time.time() - int(stamp)) > ctx.settings.callback_window_seconds:
        raise _unauthorized(f"{TIMESTAMP_HEADER} is outside the "
                            f"{ctx.settings.callback_window_seconds} s replay window")
    key = request.headers.get(IDEMPOTENCY_HEADER, "")
    if not hmac.compare_digest(sent.encode(), signature(secret, stamp, key,
                                                        await request.body()).encode()):
        raise _unauthorized(f"{SIGNATURE_HEADER} does not match the body and "
                            f"{IDEMPOTENCY_HEADER}")
    return CALLBACK
