"""Hardship plans as the CLI and API show them: the preview (old and new schedules side by
side, totals, waived amounts, the APR against the cap) and the plan records, read side.

The preview is stored with the plan when it is proposed and again when it is approved, so the
schedule the borrower had before stays readable after the loan moved on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from arrears.application.loan_file import amounts_document, money_text, plan_document
from arrears.application.plan_file import preview_rows
from arrears.application.ports import PlanRecord, UnitOfWork
from arrears.domain.errors import DomainError
from arrears.domain.plan_preview import PlanPreview
from arrears.domain.plans import PlanKind

STATUSES = ("proposed", "approved", "rejected", "undone", "kept", "broken")
DEFAULT_LIST_LIMIT = 100
MAX_LIST_LIMIT = 10_000


def forgiven(preview: PlanPreview) -> int:
    """What the plan forgives: its waivers, or what a settlement offer leaves unpaid."""
    if preview.plan.kind is PlanKind.SETTLEMENT:
        return max(0, preview.borrower_total_before - preview.borrower_total_after)
    return preview.waived.total()


def preview_document(preview: PlanPreview, *, loan_ref: str, currency: str, status: str,
                     jurisdiction: str) -> dict[str, Any]:
    """The `arrears plans propose --json` document."""
    plan = preview.plan
    apr = preview.apr
    return {
        "plan_id": plan.plan_id,
        "loan_id": loan_ref,
        "kind": plan.kind.value,
        "status": status,
        "effective_on": plan.effective_on.isoformat(),
        "plan": plan_document(plan, currency),
        "old_schedule": preview_rows(preview, currency, after=False),
        "new_schedule": preview_rows(preview, currency, after=True),
        "borrower_total_before": money_text(preview.borrower_total_before, currency),
        "borrower_total_after": money_text(preview.borrower_total_after, currency),
        "waived": amounts_document(preview.waived, currency),
        # A settlement offer waives nothing until it is paid; this is what it would forgive.
        "forgiven": money_text(forgiven(preview), currency),
        "capitalised": amounts_document(preview.capitalised, currency),
        "apr": None if apr is None else {
            "monthly_irr": f"{apr.monthly_irr:.8f}",
            "apr_nominal": f"{apr.apr_nominal:.6f}",
            "apr_effective": f"{apr.apr_effective:.6f}",
            "cap": {"name": f"{jurisdiction} cost cap", "rate": str(preview.cap),
                    "basis": "nominal", "exceeded": preview.exceeds_cap},
        },
    }


def record_document(record: PlanRecord, loan_ref: str) -> dict[str, Any]:
    """One plan as `plans show --json` prints it: its record and its last preview."""
    return {
        "plan_id": record.plan_ref, "loan_id": loan_ref, "kind": record.kind,
        "status": record.status, "in_force": record.in_force,
        "effective_on": record.effective_on.isoformat(),
        "proposed_by": record.proposed_by, "proposed_at": record.proposed_at.isoformat(),
        "decided_by": record.decided_by,
        "decided_at": record.decided_at.isoformat() if record.decided_at else None,
        "reason": record.reason,
        "outcome_on": record.outcome_on.isoformat() if record.outcome_on else None,
        "plan": record.terms, "preview": record.preview,
    }


def show_document(plan_ref: str, *, uow_factory: Callable[[], UnitOfWork]) -> dict[str, Any]:
    with uow_factory() as uow:
        record = uow.plans.get(plan_ref)
        if record is None:
            raise DomainError("PLAN", f"no plan {plan_ref!r}")
        booked = uow.book.get_many([record.loan_id])[0]
    return record_document(record, booked.loan.loan_id)


def list_document(*, loan_ref: str | None, status: str | None, limit: int,
                  uow_factory: Callable[[], UnitOfWork], before_id: int | None = None,
                  with_ids: bool = False) -> dict[str, Any]:
    """Plans, newest first, of one loan and/or in one status (older than `before_id`); with
    `with_ids`, each plan's row id too, for a caller that pages by it."""
    if status is not None and status not in STATUSES:
        raise DomainError("--status", f"must be one of {', '.join(STATUSES)}")
    if not 1 <= limit <= MAX_LIST_LIMIT:
        raise DomainError("--limit", f"must be from 1 to {MAX_LIST_LIMIT:,}")
    with uow_factory() as uow:
        loan_id = None
        if loan_ref is not None:
            booked = uow.book.get(loan_ref)
            if booked is None:
                raise DomainError("--loan", f"no loan {loan_ref!r}")
            loan_id = booked.id
        rows = uow.plans.listing(loan_id=loan_id, status=status, limit=limit,
                                 before_id=before_id)
        currency = uow.reports.currencies()
    unit = currency[0] if currency else "CNY"
    return {"plans": [
        {"plan_id": r.plan_ref, "loan_id": ref, "kind": r.kind, "status": r.status,
         "effective_on": r.effective_on.isoformat(), "proposed_by": r.proposed_by,
         "decided_by": r.decided_by, "waived": money_text(r.waived, unit),
         "outcome_on": r.outcome_on.isoformat() if r.outcome_on else None}
        | ({"row_id": r.id} if with_ids else {})
        for r, ref in rows]}
