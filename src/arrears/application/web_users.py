"""Who signs in to the web pages, and the store that holds them.

Staff sign in with a name and a password, of which only an Argon2 hash is kept; their role,
agency and collector give them the same principal (and so the same data scope,
`application.access`) an API key of that role would. Borrowers sign in with a phone number
on file and a one-time code sent to it; only a hash of the code is kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from arrears.application.access import ApiUnitOfWork, Role

USER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,19}")
"""1 to 20 characters: the principal's key ref is `web:<name>` and fits the access log's 24."""


@dataclass(frozen=True, slots=True, kw_only=True)
class WebUserRow:
    name: str
    role: Role
    agency_ref: str | None
    collector_ref: str | None
    password_hash: str
    created_at: datetime
    disabled_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LoginCodeRow:
    id: int
    borrower_id: int
    code_hash: str
    created_at: datetime
    expires_at: datetime
    attempts: int
    used_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class BorrowerLogin:
    """A borrower found by a phone number on file."""

    borrower_id: int
    borrower_ref: str
    language: str


class WebStore(Protocol):
    """Web users, borrowers' one-time codes and the borrower-side reads, in one unit of work."""

    def add_user(self, row: WebUserRow) -> None: ...
    def user(self, name: str) -> WebUserRow | None: ...
    def set_password(self, name: str, password_hash: str) -> bool:
        """False when there is no such user."""
        ...
    def collector_users(self, collector_ref: str) -> list[str]:
        """The names of the users acting for the collector not disabled, by name."""
        ...
    def disable_user(self, name: str, at: datetime) -> bool:
        """Disable a user (no sign-in, sessions end); False when no such enabled user."""
        ...
    def borrower_by_phone(self, number: str) -> BorrowerLogin | None:
        """The borrower one of whose phones is `number` (E.164), else None."""
        ...
    def borrower_by_ref(self, borrower_ref: str) -> BorrowerLogin | None: ...
    def add_login_code(self, borrower_id: int, code_hash: str, created_at: datetime,
                       expires_at: datetime) -> int: ...
    def latest_login_code(self, borrower_id: int) -> LoginCodeRow | None:
        """The borrower's most recently issued code (used or not)."""
        ...
    def count_attempt(self, code_id: int, limit: int) -> bool:
        """Count a guess at an unused code that has had fewer than `limit`, in one statement
        (simultaneous guesses cannot all pass a check made before); False when it has none
        left or is used."""
        ...
    def attempts_since(self, borrower_id: int, since: datetime) -> int:
        """The guesses at the borrower's codes issued at or after `since`."""
        ...
    def use_login_code(self, code_id: int, at: datetime) -> bool:
        """Mark an unused code used; False when it was used already (a race lost)."""
        ...
    def loans_of(self, borrower_id: int) -> list[str]:
        """The borrower's loan refs, in byte order."""
        ...


class WebUnitOfWork(ApiUnitOfWork, Protocol):
    web: WebStore
