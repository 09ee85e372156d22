"""Loans: board, show, status, schedule, payoff quote; payments, contacts and promises on a
loan. Every route checks the caller's scope on the loan first (out of scope is a 404)."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Response

from arrears import bootstrap
from arrears.application import queries, servicing_queries
from arrears.application.access import Principal, Scope, loan_currency_in_scope
from arrears.application.handlers import casework, payments, servicing
from arrears.application.loan_file import money_text, parse_amount
from arrears.application.loan_import import OPTIONAL, REQUIRED
from arrears.domain.errors import DomainError
from arrears.entrypoints.api import schemas
from arrears.entrypoints.api.deps import Ctx, require

router = APIRouter(prefix="/api/v1/loans", tags=["loans"])
LoanPath = Annotated[str, schemas.Ref]
IdempotencyKey = Annotated[str, Header(alias="Idempotency-Key", min_length=1,
                                       max_length=payments.MAX_KEY_LENGTH)]


def guard(ctx: Ctx, principal: Principal, loan_ref: str, route: str, *,
          personal: bool = False) -> str:
    """The loan's currency, once the caller may see the loan (a staff read of personal data
    is logged before the data is read)."""
    with ctx.uow_factory() as uow:
        currency = loan_currency_in_scope(uow, principal, loan_ref, route=route,
                                          at=ctx.services.clock.now(), personal=personal)
        uow.commit()
    return currency


@router.post("", status_code=201, response_model=schemas.BoardRead)
def board_loans(body: schemas.LoanBoard, ctx: Ctx,
                _: Annotated[Principal, Depends(require(Scope.LOANS_WRITE))]) -> Any:
    """Board one or many loans with their borrowers: all of them, or none if any is bad."""
    # The loans CSV parser is the one validator of a boarded loan; the JSON rows become its
    # rows, so an error's line maps back to `loans[line - 2]`.
    out = io.StringIO()
    writer = csv.writer(out)
    columns = REQUIRED + OPTIONAL
    writer.writerow(columns)
    for loan in body.loans:
        writer.writerow([str(getattr(loan, column)) for column in columns])
    report = servicing.import_loans_csv(out.getvalue(), uow_factory=ctx.uow_factory,
                                        clock=ctx.services.clock)
    return {"imported": report.loans, "new_borrowers": report.borrowers}


@router.get("/{loan_id}", response_model=schemas.LoanRead)
def show_loan(loan_id: LoanPath, ctx: Ctx,
              principal: Annotated[Principal, Depends(require(Scope.LOANS_READ))]) -> Any:
    """The `arrears loan show --json` document (borrower masked); the read is access-logged."""
    guard(ctx, principal, loan_id, "loans.show", personal=True)
    return queries.loan_document(loan_id, uow_factory=ctx.uow_factory)


@router.get("/{loan_id}/status", response_model=schemas.StatusRead)
def loan_status(loan_id: LoanPath, ctx: Ctx,
                principal: Annotated[Principal, Depends(require(Scope.LOANS_READ))]) -> Any:
    """The `arrears loan status --json` document at the closed business date."""
    guard(ctx, principal, loan_id, "loans.status")
    return servicing_queries.loan_status_document(loan_id, uow_factory=ctx.uow_factory)


@router.get("/{loan_id}/schedule", response_model=schemas.ScheduleRead)
def loan_schedule(loan_id: LoanPath, ctx: Ctx,
                  principal: Annotated[Principal, Depends(require(Scope.LOANS_READ))]) -> Any:
    guard(ctx, principal, loan_id, "loans.schedule")
    return servicing_queries.loan_schedule_document(loan_id, uow_factory=ctx.uow_factory)


@router.get("/{loan_id}/payoff-quote", response_model=schemas.PayoffQuoteRead)
def payoff_quote(loan_id: LoanPath, ctx: Ctx,
                 principal: Annotated[Principal, Depends(require(Scope.LOANS_READ))]) -> Any:
    """What settles the loan on the open business date."""
    guard(ctx, principal, loan_id, "loans.payoff_quote")
    return servicing_queries.payoff_quote_document(loan_id, uow_factory=ctx.uow_factory)


def post_payment(ctx: Ctx, loan_id: str, currency: str, body: schemas.PaymentCreate, key: str,
                 response: Response) -> dict[str, Any]:
    """Post once per key: 201 the first time, 200 with the same document on a retry, 409
    (from `KeyReused`) for the same key with another loan, amount or date."""
    units = parse_amount(body.amount, currency, "amount")
    result = payments.post_payment(loan_id, units, body.on, key, uow_factory=ctx.uow_factory,
                                   clock=ctx.services.clock,
                                   is_duplicate_key_error=bootstrap.is_duplicate_key_error)
    response.status_code = 200 if result.duplicate else 201
    if result.applied is None:  # a retry: the payment as first posted
        return servicing_queries.payment_document(key, uow_factory=ctx.uow_factory)
    return servicing_queries.posted_document(result.payment_id, loan_id, result.applied,
                                             currency, reverses=False)


@router.post("/{loan_id}/payments", status_code=201, response_model=schemas.PaymentRead,
             responses={200: {"model": schemas.PaymentRead,
                              "description": "A retry: the payment as first posted"}},
             tags=["payments"])
def pay(loan_id: LoanPath, body: schemas.PaymentCreate, key: IdempotencyKey, ctx: Ctx,
        principal: Annotated[Principal, Depends(require(Scope.PAYMENTS_WRITE))],
        response: Response) -> Any:
    currency = guard(ctx, principal, loan_id, "loans.pay")
    return post_payment(ctx, loan_id, currency, body, key, response)


@router.post("/{loan_id}/contacts", status_code=201, response_model=schemas.ContactRead,
             tags=["collections"])
def log_contact(loan_id: LoanPath, body: schemas.ContactCreate, ctx: Ctx,
                principal: Annotated[Principal, Depends(require(Scope.CONTACTS_WRITE))]
                ) -> Any:
    """Log a contact's outcome; the compliance engine decides it first (refused: 422 with the
    rule ids, nothing logged). Agency and collector keys log as themselves."""
    guard(ctx, principal, loan_id, "loans.contacts")
    actor = principal.actor or body.actor
    if actor is None:
        raise DomainError("actor", "name the collector who made the contact")
    logged = casework.log_contact(loan_id, actor=actor, channel=body.channel,
                                  outcome=body.outcome, at=body.at, notes=body.notes,
                                  recording_ref=body.recording_ref, complaint=body.complaint,
                                  uow_factory=ctx.uow_factory)
    return {"loan_id": loan_id, "contact_id": logged.contact_id,
            "pack": logged.decision.pack, "pack_version": logged.decision.pack_version}


@router.post("/{loan_id}/promises", status_code=201, response_model=schemas.PromiseRead,
             tags=["collections"])
def add_promise(loan_id: LoanPath, body: schemas.PromiseCreate, ctx: Ctx,
                principal: Annotated[Principal, Depends(require(Scope.CONTACTS_WRITE))]
                ) -> Any:
    """Record a promise to pay, taken by the caller (`Principal.identity`)."""
    currency = guard(ctx, principal, loan_id, "loans.promises")
    units = parse_amount(body.amount, currency, "amount")
    promise_id = casework.record_promise(loan_id, units, body.due_on,
                                         collector=principal.identity,
                                         uow_factory=ctx.uow_factory,
                                         clock=ctx.services.clock)
    return {"loan_id": loan_id, "promise_id": promise_id,
            "amount": money_text(units, currency), "due_on": body.due_on}
