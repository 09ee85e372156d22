"""Reversals, and payment callbacks signed by the payment channel (HMAC, replay window)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response

from arrears import bootstrap
from arrears.application import servicing_queries
from arrears.application.access import NotFound, Principal, Scope
from arrears.application.handlers import payments
from arrears.domain.errors import DomainError
from arrears.entrypoints.api import schemas
from arrears.entrypoints.api.deps import Ctx, require, signed_callback
from arrears.entrypoints.api.routers.loans import IdempotencyKey, guard, post_payment

router = APIRouter(prefix="/api/v1", tags=["payments"])


@router.post("/payments/{payment_key}/reversals", status_code=201,
             response_model=schemas.PaymentRead,
             responses={200: {"model": schemas.PaymentRead,
                              "description": "A retry: the reversal as first posted"}})
def reverse(payment_key: Annotated[str, schemas.Ref], key: IdempotencyKey, ctx: Ctx,
            principal: Annotated[Principal, Depends(require(Scope.PAYMENTS_WRITE))],
            response: Response) -> Any:
    """Reverse the payment posted under `payment_key` (a returned transfer, a chargeback);
    `Idempotency-Key` is the reversal's own key."""
    missing = NotFound("payment_key", f"no payment {payment_key!r}")
    try:  # absent, or on a loan out of the caller's scope: the same 404
        original = servicing_queries.payment_document(payment_key,
                                                      uow_factory=ctx.uow_factory)
        guard(ctx, principal, original["loan_id"], "payments.reverse")
    except DomainError:
        raise missing from None
    try:
        result = payments.reverse_payment(payment_key, key, uow_factory=ctx.uow_factory,
                                          clock=ctx.services.clock)
    except Exception as error:
        if not bootstrap.is_duplicate_key_error(error):
            raise
        # A simultaneous reversal won the race and is stored now: asked again, the handler
        # answers as it does a retry (200) or a second reversal (already reversed, 422).
        result = payments.reverse_payment(payment_key, key, uow_factory=ctx.uow_factory,
                                          clock=ctx.services.clock)
    response.status_code = 200 if result.duplicate else 201
    if result.applied is None:  # a retry: the reversal as first posted
        return servicing_queries.payment_document(key, uow_factory=ctx.uow_factory)
    return servicing_queries.posted_document(result.payment_id, original["loan_id"],
                                             result.applied, original["currency"],
                                             reverses=True)


@router.post("/callbacks/payments", status_code=201, response_model=schemas.PaymentRead,
             responses={200: {"model": schemas.PaymentRead,
                              "description": "A retry: the payment as first posted"}})
def payment_callback(body: schemas.CallbackPayment, key: IdempotencyKey, ctx: Ctx,
                     principal: Annotated[Principal, Depends(signed_callback)],
                     response: Response) -> Any:
    """A payment channel's notice, signed with `X-Arrears-Signature: sha256=<hex>`, the
    HMAC-SHA256 of `<X-Arrears-Timestamp>\\n<Idempotency-Key>\\n<body>`; posted once per
    `Idempotency-Key`."""
    currency = guard(ctx, principal, body.loan_id, "callbacks.payments")
    return post_payment(ctx, body.loan_id, currency, body, key, response)
