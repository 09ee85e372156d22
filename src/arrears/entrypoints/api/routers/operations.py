"""End-of-day runs (admin: trigger, status) and the portfolio report."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Query

from arrears.application import queries
from arrears.application.access import NotFound, Principal, Scope
from arrears.application.handlers import eod
from arrears.domain.errors import DomainError
from arrears.entrypoints.api import schemas
from arrears.entrypoints.api.deps import ApiContext, Ctx, require

router = APIRouter(prefix="/api/v1", tags=["operations"])
# As `arrears eod` without --yes: a longer catch-up over HTTP is more likely a mistyped year.
MAX_EOD_DATES = 366


def _run_eod(ctx: ApiContext, through: date) -> None:
    # The run holds the book's EOD lock and is resumable; a second trigger meanwhile is
    # refused by the lock, and a crash leaves nothing a re-run would not finish.
    eod.run_eod_through(through, uow_factory=ctx.uow_factory, clock=ctx.services.clock,
                        write_off_dpd=ctx.services.settings.write_off_dpd)


@router.post("/eod/runs", status_code=202, response_model=schemas.Accepted)
def trigger_eod(body: schemas.EodCreate, ctx: Ctx, tasks: BackgroundTasks,
                _: Annotated[Principal, Depends(require(Scope.EOD_RUN))]) -> Any:
    """Close every open business date through `through`, after the response; poll the status
    of each date."""
    with ctx.uow_factory() as uow:
        closed = uow.book.closed_through()
    if closed is None:
        raise DomainError("through", "the book has no business date; run `arrears init`")
    if body.through <= closed:
        raise DomainError("through", f"the book is already closed through {closed}")
    if (body.through - closed).days > MAX_EOD_DATES:
        raise DomainError("through", f"would close more than {MAX_EOD_DATES} dates; use "
                                     "`arrears eod --yes`")
    tasks.add_task(_run_eod, ctx, body.through)
    return {"through": body.through,
            "status_url": f"/api/v1/eod/runs/{body.through.isoformat()}"}


@router.get("/eod/runs/{business_date}", response_model=schemas.EodRunRead)
def eod_status(business_date: date, ctx: Ctx,
               _: Annotated[Principal, Depends(require(Scope.EOD_RUN))]) -> Any:
    with ctx.uow_factory() as uow:
        run = uow.book.eod_run(business_date)
    if run is None:
        raise NotFound("business_date", f"no end-of-day run for {business_date}")
    return {"business_date": run.business_date, "status": run.status,
            "loans_processed": run.loans_processed, "loans_failed": run.loans_failed}


@router.get("/reports/portfolio", response_model=schemas.PortfolioRead)
def portfolio(ctx: Ctx, _: Annotated[Principal, Depends(require(Scope.REPORTS_READ))],
              as_of: Annotated[date | None, Query()] = None) -> Any:
    """Loans and principal by bucket, the roll from yesterday, and totals."""
    return queries.portfolio_document(as_of, uow_factory=ctx.uow_factory)
