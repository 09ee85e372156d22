"""Errors as RFC 9457 problem documents (`application/problem+json`) naming the field.

Domain and application errors already carry `field` and `reason`; they map to a status by
type. Anything unexpected is a 500 without details (the log has them), never a stack trace.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from arrears.application.access import NotFound
from arrears.application.handlers.casework import ContactRefused
from arrears.application.handlers.eod import EodRefused
from arrears.application.handlers.payments import KeyReused
from arrears.application.loan_import import ImportRejected
from arrears.domain.errors import DomainError
from arrears.entrypoints.api.pages import BadCursor

MEDIA_TYPE = "application/problem+json"
log = logging.getLogger("arrears.api")


class Problem(Exception):
    """An HTTP problem raised by the API layer itself (authentication, scopes, limits)."""

    def __init__(self, status: int, title: str, detail: str, *, field: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail
        self.field, self.headers = field, headers


def problem(status: int, title: str, detail: str, *, field: str | None = None,
            headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status,
                            "detail": detail}
    if field is not None:
        body["field"] = field
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _field(loc: tuple[Any, ...]) -> str:
    """`("body", "loans", 0, "amount")` → `loans[0].amount`; `("header", "x")` → `x`."""
    out = ""
    for part in loc[1:] if loc and loc[0] in ("body", "query", "path", "header") else loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or (str(loc[0]) if loc else "body")


def _domain(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, DomainError)
    if isinstance(error, NotFound):
        return problem(404, "Not found", f"{error.field}: {error.reason}", field=error.field)
    if isinstance(error, BadCursor):
        return problem(400, "Bad request", f"{error.field}: {error.reason}", field=error.field)
    if isinstance(error, KeyReused):
        return problem(409, "Idempotency key reused", error.reason, field="Idempotency-Key")
    if isinstance(error, EodRefused):
        return problem(409, "Conflict", error.reason, field=error.field)
    if isinstance(error, ContactRefused):
        return problem(422, "Refused by compliance", error.reason, field=error.field,
                       rule_ids=list(error.rule_ids),
                       next_allowed_at=error.next_allowed_at.isoformat()
                       if error.next_allowed_at else None)
    if isinstance(error, ImportRejected):
        return problem(422, "Invalid loans", f"{error.field}: {error.reason}",
                       field=error.field, errors=[
                           {"field": f"loans[{e.line - 2}].{e.field}", "reason": e.reason}
                           for e in error.errors])
    return problem(422, "Invalid input", f"{error.field}: {error.reason}", field=error.field)


def _validation(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = [{"field": _field(tuple(e.get("loc", ()))), "reason": e.get("msg", "invalid")}
              for e in error.errors()]
    first = errors[0] if errors else {"field": "body", "reason": "invalid"}
    return problem(422, "Invalid input", f"{first['field']}: {first['reason']}",
                   field=first["field"], errors=errors)


def _problem(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, Problem)
    return problem(error.status, error.title, error.detail, field=error.field,
                   headers=error.headers)


def _http(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    return problem(error.status_code, str(error.detail), str(error.detail),
                   headers=dict(error.headers or {}))


def _unexpected(request: Request, error: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path,
                  exc_info=error)
    return problem(500, "Internal error", "the server could not complete the request")


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(Problem, _problem)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)
