"""Cursor pagination: an opaque cursor carries the last id a page showed."""

from __future__ import annotations

import base64
import binascii

from arrears.domain.errors import DomainError

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


def cursor_of(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"after:{last_id}".encode()).decode().rstrip("=")


def after_of(cursor: str | None) -> int:
    """The id after which the next page starts (0 for the first page)."""
    if cursor is None:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise DomainError("cursor", "is not a cursor this API gave out") from None
    prefix, _, number = text.partition(":")
    if prefix != "after" or not (number.isascii() and number.isdigit()) or len(number) > 18:
        raise DomainError("cursor", "is not a cursor this API gave out")
    return int(number)
