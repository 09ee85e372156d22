"""Webhook subscriptions (subscribe, list, remove) and their deliveries (list, redeliver a dead
letter); admin keys, or system keys with `webhooks:manage`. `arrears webhooks deliver` sends
them."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from arrears.application.access import NotFound, Principal, Scope
from arrears.application.handlers import webhooks
from arrears.domain.errors import DomainError
from arrears.entrypoints.api import schemas
from arrears.entrypoints.api.deps import Ctx, require
from arrears.entrypoints.api.pages import DEFAULT_LIMIT, Cursor, Limit, after_of, next_cursor

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])
Manager = Annotated[Principal, Depends(require(Scope.WEBHOOKS_MANAGE))]
SubscriptionId = Annotated[str, schemas.Field(min_length=1, max_length=24)]


@router.post("/subscriptions", status_code=201, response_model=schemas.SubscriptionCreated)
def subscribe(body: schemas.SubscriptionCreate, ctx: Ctx, _: Manager) -> Any:
    """Subscribe a URL to event types. The answer carries the signing secret, shown only
    this once; a receiver checks `Arrears-Signature` with it."""
    created = webhooks.subscribe(body.url, body.event_types,
                                 master_secret=ctx.settings.webhook_secret,
                                 uow_factory=ctx.uow_factory, clock=ctx.services.clock,
                                 allow_private=ctx.settings.webhook_allow_private)
    return webhooks.subscription_document(created.subscription) | {"secret": created.secret}


@router.get("/subscriptions", response_model=schemas.SubscriptionPage)
def list_subscriptions(ctx: Ctx, _: Manager, cursor: Cursor = None,
                       limit: Limit = DEFAULT_LIMIT) -> Any:
    """Live subscriptions, oldest first (no secrets)."""
    rows = webhooks.list_subscriptions(after=after_of(cursor, "subscriptions"),
                                       limit=limit + 1, uow_factory=ctx.uow_factory)
    return {"subscriptions": [webhooks.subscription_document(r) for r in rows[:limit]],
            "next_cursor": next_cursor("subscriptions", [r.id for r in rows], limit)}


@router.delete("/subscriptions/{subscription_id}", status_code=204)
def unsubscribe(subscription_id: SubscriptionId, ctx: Ctx, _: Manager) -> None:
    """Remove a subscription: nothing more is sent to it, queued deliveries included."""
    try:
        webhooks.unsubscribe(subscription_id, uow_factory=ctx.uow_factory,
                             clock=ctx.services.clock)
    except DomainError as error:
        raise NotFound("subscription_id", error.reason) from None


@router.get("/deliveries", response_model=schemas.DeliveryPage)
def list_deliveries(
    ctx: Ctx, _: Manager,
    status: Annotated[Literal["pending", "sending", "delivered", "dead"] | None,
                      Query(description="`dead`: the dead letters")] = None,
    subscription_id: Annotated[str | None, Query(min_length=1, max_length=24)] = None,
    cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT,
) -> Any:
    """Deliveries, oldest first: each event on its way to one subscriber."""
    rows = webhooks.list_deliveries(status=status, subscription_ref=subscription_id,
                                    after=after_of(cursor, "deliveries"), limit=limit + 1,
                                    uow_factory=ctx.uow_factory)
    return {"deliveries": [webhooks.delivery_document(r) for r in rows[:limit]],
            "next_cursor": next_cursor("deliveries", [r.id for r in rows], limit)}


@router.post("/deliveries/{delivery_id}/redelivery", status_code=202,
             response_model=schemas.Redelivery)
def redeliver(delivery_id: Annotated[str, schemas.Field(min_length=1, max_length=80)],
              ctx: Ctx, _: Manager) -> Any:
    """Queue a dead letter again, due now with its attempts counted from zero (once the
    receiver is fixed)."""
    try:
        at = webhooks.redeliver(delivery_id, uow_factory=ctx.uow_factory,
                                clock=ctx.services.clock)
    except DomainError as error:
        raise NotFound("delivery_id", error.reason) from None
    return {"id": delivery_id, "next_attempt_at": at}
