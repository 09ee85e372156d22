"""Cursor pagination. A list is ordered by an id that only grows, and a page's cursor carries
the list's name and the last id the page showed: the next page starts after it, so rows
added meanwhile neither shift nor repeat what the caller has seen (they come at the end).
The cursor is opaque to callers; one that this API did not give out for this list is a 400."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import Query

from arrears.domain.errors import DomainError

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page")]
Cursor = Annotated[str | None, Query(max_length=80, description="`next_cursor` of the page "
                                                                 "before")]


class BadCursor(DomainError):
    """A cursor this API did not give out for the list asked for."""


def cursor_of(listing: str, last_id: int) -> str:
    return base64.urlsafe_b64encode(f"{listing}:{last_id}".encode()).decode().rstrip("=")


def after_of(cursor: str | None, listing: str) -> int:
    """The id after which the next page of `listing` starts (0 for the first page)."""
    if cursor is None:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadCursor("cursor", "is not a cursor this API gave out") from None
    prefix, _, number = text.partition(":")
    if not (number.isascii() and number.isdigit()) or len(number) > 18:
        raise BadCursor("cursor", "is not a cursor this API gave out")
    if prefix != listing:
        raise BadCursor("cursor", f"is a cursor of another list, not of {listing}")
    return int(number)


def next_cursor(listing: str, ids: list[int], limit: int) -> str | None:
    """The cursor after a page read with `limit + 1` rows (`ids`): None on the last page."""
    return cursor_of(listing, ids[limit - 1]) if len(ids) > limit else None
