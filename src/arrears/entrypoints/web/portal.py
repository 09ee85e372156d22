"""The borrower's requests about their own loans: a loan's page with the plans offered (each
previewed) and asked for, disputes and complaints with their status; asking for a plan,
raising a dispute, filing a complaint; and downloading their evidence bundle (the zip
`arrears evidence export` writes, which `arrears evidence verify` checks).

Every loan in a URL must be the signed-in borrower's own: anyone else's is a 404 page, the
same as a loan that does not exist.
"""

from __future__ import annotations

import re
import secrets
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request, Response
from starlette.datastructures import FormData

from arrears.adapters.bundle import write_zip
from arrears.application import borrower_portal, day_by_day, owed_today, statements
from arrears.application.access import NotFound
from arrears.application.handlers import complaints, disputes, evidence
from arrears.application.handlers.collections import Lender
from arrears.application.loan_file import money_text
from arrears.domain.errors import DomainError
from arrears.entrypoints.web.borrower import borrower
from arrears.entrypoints.web.pages import checked_form, page_router, redirect, render, text, web

router = page_router()
Form = Annotated[FormData, Depends(checked_form)]
Borrower = Annotated[str, Depends(borrower)]
MAX_REF = 64
BUNDLE_NAME = "evidence-bundle.zip"
RECEIVED = re.compile(r"(PL|DSP|CMP)-\d{1,12}")
"""What the "received" note may name: a plan, dispute or complaint id, nothing else."""
PAID = re.compile(r"portal-[0-9a-f]{32}")
"""What the "payment received" note may name: a payment key the Pay form made."""


def show_loan(request: Request, borrower_ref: str, loan_id: str, *, sent: str = "",
              paid: str = "", error: DomainError | None = None,
              pay_error: DomainError | None = None,
              form: dict[str, str] | None = None) -> Response:
    """The loan's page: what is owed and how it was computed day by day, its payments (and
    the Pay form, with the demo gateway), plans, disputes and complaints; with `error` (a
    request's form) or `pay_error` (the Pay form's), the form as sent and the field named
    (422)."""
    ctx = web(request)
    requests = borrower_portal.loan_requests(
        borrower_ref, loan_id[:MAX_REF], uow_factory=ctx.uow_factory,
        rehearsal=ctx.uow_factory.rehearsal, clock=ctx.services.clock)
    owed = owed_today.owed_today(requests.loan_ref, uow_factory=ctx.uow_factory)
    figures = day_by_day.breakdown(statements.book_explanation(requests.loan_ref,
                                                               uow_factory=ctx.uow_factory))
    pay_form = ctx.settings.demo_gateway and owed.payable
    return render(request, "portal_loan.html", {
        "loan": owed, "figures": figures, "requests": requests, "sent": sent, "error": error,
        "pay_error": pay_error,
        "paid": next((p for p in figures.payments if p.key == paid), None) if paid else None,
        "pay_gateway": ctx.settings.demo_gateway,
        "prefill": money_text(owed.total_due, owed.currency) if owed.total_due else "",
        # One token per Pay form shown: a form sent twice is one payment (its idempotency key).
        "payment_token": secrets.token_urlsafe(18) if pay_form else "",
        "form": form or {}, "about": borrower_portal.DISPUTE_ABOUT,
        "categories": borrower_portal.COMPLAINT_CATEGORIES},
        status=422 if error or pay_error else 200)


@router.get("/me/loans/{loan_id}")
def loan_page(request: Request, loan_id: str, borrower_ref: Borrower, sent: str = "",
              paid: str = "") -> Response:
    return show_loan(request, borrower_ref, loan_id,
                     sent=sent if RECEIVED.fullmatch(sent) else "",
                     paid=paid if PAID.fullmatch(paid) else "")


def _shown(error: DomainError) -> DomainError:
    """The services name CLI options (`--note`); a form names its fields without dashes."""
    return DomainError(error.field.lstrip("-").lower(), error.reason)


def _acted(request: Request, borrower_ref: str, loan_id: str, form: dict[str, str],
           action: Callable[[], str]) -> Response:
    """Run a request's action; on success back to the loan's page saying what was received,
    on a refusal the page again with the form as sent and the field named."""
    try:
        ref = action()
    except NotFound:
        raise
    except DomainError as error:
        return show_loan(request, borrower_ref, loan_id, error=_shown(error), form=form)
    return redirect(request, f"/me/loans/{loan_id[:MAX_REF]}?sent={ref}")


@router.post("/me/loans/{loan_id}/plans")
def ask_for_plan(request: Request, loan_id: str, borrower_ref: Borrower, form: Form
                 ) -> Response:
    ctx = web(request)
    offer = text(form, "offer", max_length=MAX_REF)
    return _acted(request, borrower_ref, loan_id, {"offer": offer}, lambda: (
        borrower_portal.request_plan(borrower_ref, loan_id[:MAX_REF], offer,
                                     uow_factory=ctx.uow_factory,
                                     clock=ctx.services.clock)["plan_id"]))


@router.post("/me/loans/{loan_id}/disputes")
def raise_dispute(request: Request, loan_id: str, borrower_ref: Borrower, form: Form
                  ) -> Response:
    ctx = web(request)
    fields = {"kind": text(form, "kind", max_length=MAX_REF),
              "about": text(form, "about", max_length=MAX_REF),
              "note": text(form, "note", required=False,
                           max_length=disputes.MAX_NOTE)}
    return _acted(request, borrower_ref, loan_id, fields, lambda: borrower_portal.raise_dispute(
        borrower_ref, loan_id[:MAX_REF], kind=fields["kind"], about=fields["about"],
        note=fields["note"], uow_factory=ctx.uow_factory, clock=ctx.services.clock))


def _contact_id(value: str) -> int | None:
    if not value:
        return None
    if not (value.isascii() and value.isdigit()) or len(value) > 18:
        raise DomainError("contact", "choose one of your contacts from the list")
    return int(value)


@router.post("/me/loans/{loan_id}/complaints")
def file_complaint(request: Request, loan_id: str, borrower_ref: Borrower, form: Form
                   ) -> Response:
    ctx = web(request)
    fields = {"category": text(form, "category", max_length=MAX_REF),
              "contact": text(form, "contact", required=False, max_length=20),
              "summary": text(form, "summary", required=False,
                              max_length=complaints.MAX_TEXT)}
    return _acted(request, borrower_ref, loan_id, fields, lambda: borrower_portal.file_complaint(
        borrower_ref, loan_id[:MAX_REF], category=fields["category"],
        summary=fields["summary"], contact_id=_contact_id(fields["contact"]),
        uow_factory=ctx.uow_factory, clock=ctx.services.clock))


@router.post("/me/evidence")
def download_evidence(request: Request, borrower_ref: Borrower, _: Form) -> Response:
    """The borrower's own evidence bundle, byte for byte the zip the CLI writes (a POST: the
    export may sign a new checkpoint)."""
    services = web(request).services
    members = evidence.export(borrower_ref, uow_factory=services.uow_factory,
                              keys=services.keys, clock=services.clock,
                              issuer=Lender().name_en)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / BUNDLE_NAME
        write_zip(members, path)
        content = path.read_bytes()
    return Response(content, media_type="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{BUNDLE_NAME}"',
        "Cache-Control": "no-store"})
