"""Web users: staff created with a role and a password (kept only as an Argon2 hash), and
signing in as one. A signed-in user acts as the principal an API key of the same role, agency
and collector would, so the pages see exactly what the API would show them.

Argon2 here, unlike API keys (`application.access`): a password is chosen by a person and
guessable, so each guess must be slow; a sign-in happens once a session, not once a request.
"""

from __future__ import annotations

from collections.abc import Callable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from arrears.application.access import (
    MAX_REF,
    ROLE_SCOPES,
    WEB_PREFIX,
    Principal,
    Role,
    parse_role,
)
from arrears.application.ports import Clock
from arrears.application.web_users import USER_NAME, WebUnitOfWork, WebUserRow
from arrears.domain.errors import DomainError

MIN_PASSWORD = 12
MAX_PASSWORD = 200
STAFF_ROLES = (Role.COLLECTOR, Role.SUPERVISOR, Role.COMPLIANCE, Role.ADMIN, Role.AGENCY)


def _hasher() -> PasswordHasher:
    return PasswordHasher()


def check_password(password: str) -> None:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise DomainError("password", f"must be {MIN_PASSWORD} to {MAX_PASSWORD} characters")


def check_new_user(name: str, role: str, *, agency: str | None = None,
                   collector: str | None = None,
                   uow_factory: Callable[[], WebUnitOfWork]) -> Role:
    """Everything about a new staff user but the password, checked before one is asked for:
    the name and role, then the book (it must serve, the name be free and the agency or
    collector be on file). An agency user names its agency and a collector user its
    collector; the other roles name neither."""
    chosen = _checked_options(name, role, agency, collector)
    with uow_factory() as uow:
        _check_on_file(uow, name, agency, collector)
    return chosen


def create_user(name: str, role: str, password: str, *, agency: str | None = None,
                collector: str | None = None, uow_factory: Callable[[], WebUnitOfWork],
                clock: Clock) -> None:
    """A staff user, checked as `check_new_user` does and with a password of the right
    length (stored only as its Argon2 hash)."""
    chosen = _checked_options(name, role, agency, collector)
    check_password(password)
    hashed = _hasher().hash(password)
    with uow_factory() as uow:
        _check_on_file(uow, name, agency, collector)
        uow.web.add_user(WebUserRow(name=name, role=chosen, agency_ref=agency,
                                    collector_ref=collector, password_hash=hashed,
                                    created_at=clock.now()))
        uow.commit()


def _checked_options(name: str, role: str, agency: str | None, collector: str | None) -> Role:
    if not USER_NAME.fullmatch(name):
        raise DomainError("name", "must be 1 to 20 letters, digits, '.', '_' or '-', starting "
                                  "with a letter or digit")
    chosen = parse_role(role)
    if chosen not in STAFF_ROLES:
        raise DomainError("role", f"expected one of {', '.join(r.value for r in STAFF_ROLES)}")
    if (agency is not None) != (chosen is Role.AGENCY):
        raise DomainError("agency", "an agency user, and only an agency user, names its agency")
    if (collector is not None) != (chosen is Role.COLLECTOR):
        raise DomainError("collector",
                          "a collector user, and only a collector user, names its collector")
    for field, ref in (("agency", agency), ("collector", collector)):
        if ref is not None and (not ref.strip() or len(ref) > MAX_REF):
            raise DomainError(field, f"must be 1 to {MAX_REF} characters")
    return chosen


def _check_on_file(uow: WebUnitOfWork, name: str, agency: str | None,
                   collector: str | None) -> None:
    if uow.web.user(name) is not None:
        raise DomainError("name", f"a user {name!r} already exists")
    if agency is not None and agency not in {a.agency_ref for a in uow.collections.agencies()}:
        raise DomainError("agency", f"no agency {agency!r}")
    # FOR SHARE: a deactivation committing meanwhile waits, then disables this user too.
    if collector is not None and collector not in {
            c.collector_ref for c in uow.collections.collectors(lock=True)}:
        raise DomainError("collector", f"no active collector {collector!r}")


def principal_of_user(row: WebUserRow) -> Principal:
    return Principal(key_ref=WEB_PREFIX + row.name, role=row.role,
                     scopes=ROLE_SCOPES[row.role], agency_ref=row.agency_ref,
                     collector_ref=row.collector_ref)


def sign_in(name: str, password: str, *, uow_factory: Callable[[], WebUnitOfWork]
            ) -> Principal | None:
    """The user's principal when the password matches a live user, else None. An unknown
    name costs one hash as a known one does, so timing does not tell which names exist; a
    hash made with weaker parameters than today's is upgraded on the way."""
    hasher = _hasher()
    with uow_factory() as uow:
        row = uow.web.user(name) if USER_NAME.fullmatch(name) else None
        if row is None or row.disabled_at is not None:
            hasher.hash(password or "-")
            return None
        try:
            hasher.verify(row.password_hash, password)
        except (VerificationError, InvalidHashError):
            return None
        if hasher.check_needs_rehash(row.password_hash):
            uow.web.set_password(name, hasher.hash(password))
            uow.commit()
    return principal_of_user(row)


def signed_in_user(name: str, *, uow_factory: Callable[[], WebUnitOfWork]) -> Principal | None:
    """The principal of a session's user, read afresh so that disabling a user ends their
    sessions at their next request."""
    with uow_factory() as uow:
        row = uow.web.user(name)
    if row is None or row.disabled_at is not None:
        return None
    return principal_of_user(row)


def set_password(name: str, password: str, *, uow_factory: Callable[[], WebUnitOfWork]
                 ) -> None:
    """Give an existing user a new password."""
    check_password(password)
    hashed = _hasher().hash(password)
    with uow_factory() as uow:
        if not uow.web.set_password(name, hashed):
            raise DomainError("name", f"no user {name!r}")
        uow.commit()
