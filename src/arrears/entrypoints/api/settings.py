"""API settings from the environment (secrets only from there), validated at start-up."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from arrears.domain.errors import DomainError

MIN_SECRET_BYTES = 32


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiSettings:
    # ARREARS_CALLBACK_SECRET; callbacks off without it. No secret is in the repr (logs).
    callback_secret: bytes | None = field(default=None, repr=False)
    callback_window_seconds: int = 300  # ARREARS_CALLBACK_WINDOW_SECONDS: replay window
    key_cache_seconds: float = 5.0  # ARREARS_API_KEY_CACHE_SECONDS: how late a revocation bites
    public_rate_per_second: float = 20.0  # ARREARS_API_PUBLIC_RATE: per client address
    public_burst: int = 40
    # ARREARS_WEBHOOK_SECRET: subscriptions' secrets derive from it
    webhook_secret: bytes | None = field(default=None, repr=False)
    # ARREARS_WEBHOOK_ALLOW_PRIVATE=1: webhooks may go to loopback and private addresses (a
    # receiver on this machine or network, as in tests); off, a subscription cannot aim the
    # server at its own network.
    webhook_allow_private: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ApiSettings:
        env = os.environ if environ is None else environ
        secret = env.get("ARREARS_CALLBACK_SECRET")
        if secret is not None and len(secret.encode()) < MIN_SECRET_BYTES:
            raise DomainError("ARREARS_CALLBACK_SECRET",
                              f"must be at least {MIN_SECRET_BYTES} bytes")
        webhook = env.get("ARREARS_WEBHOOK_SECRET")
        if webhook is not None and len(webhook.encode()) < MIN_SECRET_BYTES:
            raise DomainError("ARREARS_WEBHOOK_SECRET",
                              f"must be at least {MIN_SECRET_BYTES} bytes")
        return cls(
            callback_secret=secret.encode() if secret else None,
            webhook_secret=webhook.encode() if webhook else None,
            callback_window_seconds=_number(env, "ARREARS_CALLBACK_WINDOW_SECONDS", 300, 1,
                                            3600),
            key_cache_seconds=_number(env, "ARREARS_API_KEY_CACHE_SECONDS", 5, 0, 300),
            public_rate_per_second=_number(env, "ARREARS_API_PUBLIC_RATE", 20, 1, 100_000),
            webhook_allow_private=bool(_number(env, "ARREARS_WEBHOOK_ALLOW_PRIVATE", 0, 0, 1)))


def _number(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
        raise DomainError(name, f"must be a whole number from {low} to {high}")
    return int(raw)
