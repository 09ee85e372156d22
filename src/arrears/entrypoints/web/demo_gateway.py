"""The demo payment channel behind the portal's Pay form, on only with
`ARREARS_WEB_DEMO_GATEWAY=1` (`arrears serve --demo` sets it for a demo book); off, its route
is not there at all (a 404 page), so a production server cannot take a payment no money
backs.

It plays the channel after the money has moved: it posts the payment notice to the API's
`/api/v1/callbacks/payments`, signed with the channel's secret (`ARREARS_CALLBACK_SECRET`,
which `serve --demo` generates at start), through the app itself — so the payment passes the
same signature check and handler as a real channel's. The notice's idempotency key comes from
the form's one-time token (with the borrower and the loan), so a form sent twice posts once.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Annotated, Any

import httpx
from fastapi import Depends, FastAPI, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from arrears.application import borrower_portal, owed_today
from arrears.application.access import NotFound
from arrears.application.loan_file import money_text, parse_amount
from arrears.domain.errors import DomainError
from arrears.domain.money import minor_digits
from arrears.entrypoints.api.deps import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER
from arrears.entrypoints.api.deps import signature as callback_signature
from arrears.entrypoints.web.borrower import borrower
from arrears.entrypoints.web.i18n import Translator
from arrears.entrypoints.web.pages import (
    checked_form,
    page_router,
    redirect,
    text,
    translator,
    web,
)
from arrears.entrypoints.web.portal import MAX_REF, show_loan

router = page_router()
Form = Annotated[FormData, Depends(checked_form)]
Borrower = Annotated[str, Depends(borrower)]
CALLBACK_PATH = "/api/v1/callbacks/payments"
FORM_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
KEY_PREFIX = "portal-"
CHOICES = ("amount", "payoff")
MAX_AMOUNT_TEXT = 32


@dataclass(frozen=True, slots=True, kw_only=True)
class Order:
    """A payment the borrower asked for: what the channel's notice says."""

    loan_ref: str
    amount: str
    on: date
    key: str


def payment_key(borrower_ref: str, loan_ref: str, form_token: str) -> str:
    """The idempotency key of one Pay form: the same form sent again names the same payment,
    and no other borrower's form can name it."""
    digest = hashlib.sha256(f"{borrower_ref}\n{loan_ref}\n{form_token}".encode()).hexdigest()
    return KEY_PREFIX + digest[:32]


GROUPED = re.compile(r"[+-]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]*)?")
"""An amount written with grouping commas, as the page shows amounts ("1,000.00")."""


def _units(written: str, currency: str, _: Translator) -> int:
    """The amount the borrower typed, in minor units: read by the product's amount parser (as
    the CLI and the API read one) once any grouping commas are taken out."""
    if not written:
        raise DomainError("amount", _("Enter the amount to pay."))
    try:
        if len(written) > MAX_AMOUNT_TEXT:
            raise DomainError("amount", "too long to be an amount")
        return parse_amount(written.replace(",", "") if GROUPED.fullmatch(written) else written,
                            currency, "amount")
    except DomainError:
        example = Decimal(money_text(100_000, currency))
        raise DomainError("amount", _(
            "{amount} is not an amount you can pay: enter more than zero in {currency}, with "
            "at most {places} decimal places, such as {example}.",
            amount=written[:MAX_AMOUNT_TEXT], currency=currency,
            places=minor_digits(currency), example=format(example, ","))) from None


def _order(request: Request, borrower_ref: str, form: FormData) -> Order:
    """The payment the form asks for, checked: the borrower's own loan, an amount of money
    above zero and at most the payoff quote (beyond it there is nothing to pay); a refusal
    says why in the page's language."""
    ctx, _ = web(request), translator(request)
    loan_ref = text(form, "loan", max_length=MAX_REF)
    borrower_portal.check_owned(borrower_ref, loan_ref, uow_factory=ctx.uow_factory)
    form_token = text(form, "payment", required=False, max_length=64)
    if not FORM_TOKEN.fullmatch(form_token):
        raise DomainError("payment", _("This is not a Pay form this site made; reload the "
                                       "page and pay again."))
    choice = text(form, "pay", required=False, max_length=8)
    if choice not in CHOICES:
        raise DomainError("pay", _("Choose an amount or paying off the whole loan."))
    owed = owed_today.owed_today(loan_ref, uow_factory=ctx.uow_factory)
    if not owed.payable:
        raise DomainError("amount", _("Nothing is owed on this loan."))
    units = owed.payoff_amount if choice == "payoff" else _units(
        str(form.get("amount") or "").strip(), owed.currency, _)
    if units > owed.payoff_amount:
        raise DomainError("amount", _(
            "{amount} is more than {payoff}, which repays the whole loan today.",
            amount=_.minor(units, owed.currency),
            payoff=_.minor(owed.payoff_amount, owed.currency)))
    return Order(loan_ref=loan_ref, amount=money_text(units, owed.currency), on=owed.pay_on,
                 key=payment_key(borrower_ref, loan_ref, form_token))


async def _notify(app: FastAPI, secret: bytes, order: Order) -> httpx.Response:
    """The channel's signed notice, sent through the app's own routes and middleware."""
    body = json.dumps({"loan_id": order.loan_ref, "amount": order.amount,
                       "on": order.on.isoformat()}).encode()
    stamp = str(int(time.time()))
    headers = {"Content-Type": "application/json", TIMESTAMP_HEADER: stamp,
               IDEMPOTENCY_HEADER: order.key,
               SIGNATURE_HEADER: callback_signature(secret, stamp, order.key, body)}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://demo-gateway") as client:
        return await client.post(CALLBACK_PATH, content=body, headers=headers)


def _refusal(answer: httpx.Response, _: Translator) -> DomainError:
    """The callback's refusal, as the form's: its problem document names a field."""
    if answer.status_code == 409:  # the key is this form's: it was sent with another amount
        return DomainError("amount", _("This Pay form was already sent with another amount; "
                                       "use the new form below."))
    try:
        problem: dict[str, Any] = answer.json()
    except ValueError:
        problem = {}
    return DomainError(str(problem.get("field") or "payment"), _(
        "The payment channel refused the payment ({status}): {detail}",
        status=answer.status_code, detail=str(problem.get("detail") or "")))


@router.post("/demo-gateway/pay")
async def pay(request: Request, borrower_ref: Borrower, form: Form) -> Response:
    secret = request.app.state.ctx.settings.callback_secret
    assert secret is not None, "site.mount registers the gateway only with the secret"
    loan_ref = text(form, "loan", max_length=MAX_REF)
    sent = {name: str(form.get(name, ""))[:32] for name in ("pay", "amount")}  # shown back
    try:
        order = await run_in_threadpool(_order, request, borrower_ref, form)
        answer = await _notify(request.app, secret, order)
        if answer.status_code not in (200, 201):
            raise _refusal(answer, translator(request))
    except NotFound:
        raise
    except DomainError as error:
        return await run_in_threadpool(partial(show_loan, request, borrower_ref, loan_ref,
                                               pay_error=error, form=sent))
    return redirect(request, f"/me/loans/{order.loan_ref}?paid={order.key}")
