"""`POST /api/v1/compliance/decisions`: the decision document of `arrears compliance check`,
for an action and facts given, or for a contact on a booked loan with the facts from the book.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from arrears.application.access import Principal, Scope, check_loan_access
from arrears.application.contact_decisions import decide_contact
from arrears.compliance import codec, packs
from arrears.compliance import engine as compliance_engine
from arrears.compliance.model import Decision
from arrears.domain.errors import DomainError
from arrears.entrypoints.api import schemas
from arrears.entrypoints.api.deps import ApiContext, require

router = APIRouter(prefix="/api/v1/compliance", tags=["compliance"])

REQUEST_SCHEMA = {
    "oneOf": [
        {"type": "object", "title": "Action and facts", "required": ["action", "facts"],
         "additionalProperties": False,
         "properties": {"action": {"type": "object", "description": "An ACTION.json document "
                                                                    "(with `at` and `pack`)"},
                        "facts": {"type": "object", "description": "A FACTS.json document"},
                        "pack": {"type": "string", "description": "cn or us (default: the "
                                                                  "action's)"}}},
        {**schemas.DecisionFromBook.model_json_schema(), "title": "A contact on a booked loan"},
    ]
}


def _given(document: dict[str, Any]) -> Decision:
    unknown = sorted(set(document) - {"action", "facts", "pack"})
    if unknown:
        raise DomainError(unknown[0], "is not a field of a decision request")
    action, at, action_pack = codec.parse_action_document(document["action"])
    facts = codec.parse_facts(document.get("facts"))
    code = document.get("pack") or action_pack
    if not isinstance(code, str) or not code:
        raise DomainError("pack", "give \"pack\" here or in the action (cn or us)")
    return compliance_engine.decide(action, facts, packs.get(code), at)


def _from_book(ctx: ApiContext, principal: Principal, document: dict[str, Any]) -> Decision:
    try:
        asked = schemas.DecisionFromBook.model_validate(document)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "body"
        raise DomainError(field, first["msg"]) from None
    with ctx.uow_factory() as uow:
        check_loan_access(uow, principal, asked.loan_id, route="compliance.decide",
                          at=ctx.services.clock.now(), personal=False)
        return decide_contact(uow, asked.loan_id, channel=asked.channel, at=asked.at,
                              actor=principal.actor)


@router.post("/decisions", response_model=schemas.DecisionRead,
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": REQUEST_SCHEMA}}}})
async def decide(request: Request,
                 principal: Annotated[Principal, Depends(require(Scope.COMPLIANCE_DECIDE))]
                 ) -> JSONResponse:
    """Allowed or blocked, why, and the next allowed time. A decision on given facts is pure
    computation and runs on the event loop (a thread hop would only add latency); one on a
    booked loan reads the book in the threadpool."""
    # The hottest route (a dialer asks before every call) takes no other dependency: each
    # costs FastAPI a resolution per request.
    ctx: ApiContext = request.app.state.ctx
    try:
        document = json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise DomainError("body", "is not a JSON document") from None
    except RecursionError:  # `[[[[…]]]]` nested past the parser's depth
        raise DomainError("body", "is nested too deeply") from None
    if not isinstance(document, dict):
        raise DomainError("body", "must be a JSON object")
    if "action" in document:
        decision = _given(document)
    elif "loan_id" in document:
        decision = await run_in_threadpool(_from_book, ctx, principal, document)
    else:
        raise DomainError("action", "give \"action\" and \"facts\", or \"loan_id\", "
                                    "\"channel\" and \"at\"")
    return JSONResponse(codec.decision_to_json(decision))
