"""Borrower sign-in by one-time code: a code asked for a phone number on file goes out through
the notification outbox (committed with the code's hash), and the code, given back in time and
within the attempt limit, signs the borrower in once.

The answer to a request is the same whether or not the number is on file, so the form cannot
be used to learn who borrows. A code is six digits, lives `CODE_MINUTES`, allows
`MAX_ATTEMPTS` guesses (and all of a borrower's codes `DAILY_ATTEMPTS` a day) and is used
once; only its SHA-256 is stored (with so few guesses allowed before it dies, a slow hash
would add nothing).

A code is not a collection communication: the borrower asked for it a moment ago, so it is
delivered on its own channel, `LOGIN_CODE_CHANNEL`, without the contact rules (hours,
frequency, opt-outs) that a reminder answers to.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from arrears.application import notifications
from arrears.application.loan_import import e164, normalise_phone
from arrears.application.notifications import AtSend, BatchReport, Channel
from arrears.application.ports import ClaimedMessage, Clock, OutgoingMessage
from arrears.application.web_users import BorrowerLogin, WebUnitOfWork
from arrears.compliance.model import Decision
from arrears.domain.errors import DomainError

LOGIN_CODE_CHANNEL = "login_code"
CODE_MINUTES = 5
MAX_ATTEMPTS = 5
RESEND_SECONDS = 60
"""A new code is not sent sooner than this after the last one (an SMS bomb needs many)."""
DAILY_ATTEMPTS = 20
"""Guesses at one borrower's codes in a day, whatever the number of codes: else a code a
minute, five guesses each, would be 7,200 guesses a day at the million codes."""
BODIES = {
    "zh-CN": "您的登录验证码是 {code}，{minutes} 分钟内有效。请勿告诉任何人，包括催收人员。",
    "en": "Your sign-in code is {code}. It expires in {minutes} minutes. Never tell it to "
          "anyone, collectors included.",
}


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def request_code(phone: str, *, uow_factory: Callable[[], WebUnitOfWork], clock: Clock) -> None:
    """Queue a code for the borrower with this phone number, if there is one and no code went
    out in the last `RESEND_SECONDS`. Refuses only a number that is not a phone number."""
    number = e164(normalise_phone(phone, "phone"))
    now = clock.now()
    with uow_factory() as uow:
        found = uow.web.borrower_by_phone(number)
        if found is None:
            return
        last = uow.web.latest_login_code(found.borrower_id)
        if last is not None and now - last.created_at < timedelta(seconds=RESEND_SECONDS):
            return
        code = f"{secrets.randbelow(10**6):06d}"
        expires = now + timedelta(minutes=CODE_MINUTES)
        code_id = uow.web.add_login_code(found.borrower_id, _hash(code), now, expires)
        closed = uow.book.closed_through()
        language = found.language if found.language in BODIES else "zh-CN"
        uow.messages.enqueue([OutgoingMessage(
            message_id=f"login-code-{code_id}-{secrets.token_hex(4)}",
            channel=LOGIN_CODE_CHANNEL, loan_id=None, borrower_id=found.borrower_id,
            business_date=closed + timedelta(days=1) if closed else now.date(),
            template=LOGIN_CODE_CHANNEL, language=language, recipient=number, subject="",
            body=BODIES[language].format(code=code, minutes=CODE_MINUTES), pack="",
            compliance="{}", next_attempt_at=now, created_at=now)])
        uow.commit()


def _asked_for(message: ClaimedMessage, at: datetime, _: AtSend) -> Decision:
    """Allowed: the recipient asked for this message (see the module docstring)."""
    return Decision(allowed=True, at=at, pack=message.pack, pack_version="")


def deliver_codes(*, uow_factory: Callable[[], WebUnitOfWork], channel: Channel, clock: Clock,
                  worker: str) -> BatchReport:
    """Send the queued codes now, through `channel` (the SMS gateway, or its local sink)."""
    return notifications.deliver_batch(uow_factory=uow_factory,
                                       channels={LOGIN_CODE_CHANNEL: channel}, clock=clock,
                                       worker=worker, check=_asked_for)


class CodeRefused(DomainError):
    """The code is wrong, expired, used, or out of attempts (which one is not said)."""


def redeem_code(phone: str, code: str, *, uow_factory: Callable[[], WebUnitOfWork],
                clock: Clock) -> BorrowerLogin:
    """The borrower the code was sent to, signing them in once; else `CodeRefused`."""
    number = e164(normalise_phone(phone, "phone"))
    given = code.strip()
    if not (len(given) == 6 and given.isascii() and given.isdigit()):
        raise DomainError("code", "must be the six digits of the text message")
    refused = CodeRefused("code", "wrong or expired code; ask for a new one")
    now = clock.now()
    with uow_factory() as uow:
        found = uow.web.borrower_by_phone(number)
        row = uow.web.latest_login_code(found.borrower_id) if found is not None else None
        if found is None or row is None or row.used_at is not None \
                or row.expires_at <= now or row.attempts >= MAX_ATTEMPTS \
                or uow.web.attempts_since(found.borrower_id,
                                          now - timedelta(days=1)) >= DAILY_ATTEMPTS:
            raise refused
        if not uow.web.count_attempt(row.id, MAX_ATTEMPTS):
            raise refused  # simultaneous guesses spent its attempts meanwhile
        if not hmac.compare_digest(row.code_hash, _hash(given)):
            uow.commit()  # the failed attempt counts
            raise refused
        if not uow.web.use_login_code(row.id, now):
            raise refused
        uow.commit()
    return found
