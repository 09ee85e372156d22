"""The supervisor's and the compliance officer's dashboards: each figure as a chart (inline
SVG) with its numbers in a table beside it, and the supervisor's maker-checker decisions on
plans awaiting approval (`plans.approve` / `plans.reject`, as `arrears plans approve` runs
them). The supervisor's page also lists the open cases to assign and the agencies'
placements to recall (the actions are `supervision`). Every route checks the role:
supervisors (and admins) supervise, compliance officers (and admins) see the compliance
dashboard; anyone else gets a 403 page."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from starlette.datastructures import FormData

from arrears.application import dashboards, plan_documents, queries, supervision
from arrears.application.access import NotFound, Principal, Role
from arrears.application.handlers import plans
from arrears.application.loan_file import money_text
from arrears.domain.errors import DomainError
from arrears.entrypoints.web import charts
from arrears.entrypoints.web.i18n import Translator
from arrears.entrypoints.web.pages import (
    checked_form,
    page_router,
    redirect,
    render,
    text,
    translator,
    web,
)
from arrears.entrypoints.web.staff import CASE_ID, PLAN_REF, staff_in

router = page_router()
Form = Annotated[FormData, Depends(checked_form)]
Supervisor = Annotated[Principal, Depends(staff_in(Role.SUPERVISOR, Role.ADMIN))]
Officer = Annotated[Principal, Depends(staff_in(Role.COMPLIANCE, Role.ADMIN))]
MAX_PLAN_REF = 20


def share(part: int, whole: int) -> Decimal:
    """`part` of `whole` as a fraction (0 of nothing is 0)."""
    return Decimal(part) / whole if whole else Decimal(0)


def _supervisor_charts(board: dashboards.SupervisorBoard, _: Translator) -> dict[str, Any]:
    promised = [(c, c.promises_kept + c.promises_broken) for c in board.collectors]
    return {
        "buckets": charts.bars(
            "chart-buckets", _("Open cases by bucket"),
            _("One bar per delinquency bucket: how many open cases are in it."),
            [charts.Bar(label=b.bucket, value=b.cases, shown=str(b.cases))
             for b in board.buckets]),
        "load": charts.bars(
            "chart-load", _("Open cases per collector"),
            _("One bar per collector: open cases assigned, against the collector's capacity."),
            [charts.Bar(label=c.collector_ref, value=c.open_cases,
                        shown=_("{cases} of {capacity}", cases=c.open_cases,
                                capacity=c.capacity))
             for c in board.collectors]),
        "kept": charts.bars(
            "chart-kept", _("Promises kept"),
            _("One bar per collector: the share of promises settled in the window that "
              "were kept."),
            [charts.Bar(label=c.collector_ref, value=share(c.promises_kept, settled),
                        shown=_.percent(share(c.promises_kept, settled)))
             for c, settled in promised]),
        "placements": charts.bars(
            "chart-placements", _("Placements in force"),
            _("One bar per agency: cases placed with it today."),
            [charts.Bar(label=a.agency_ref, value=a.in_force, shown=str(a.in_force))
             for a in board.agencies]),
    }


def supervisor_page(request: Request, principal: Principal, *, decided: str = "",
                    assigned: str = "", recalled: str = "", placed: str = "", after: int = 0,
                    placed_after: int = 0, error: DomainError | None = None,
                    error_case: int | None = None) -> Response:
    """The supervisor's page with the cases after `after` and the placements after
    `placed_after`; at most one notice (`decided` a plan id, `assigned`, `recalled` or
    `placed` a case id) or one refusal (`error`, a 422; about the case `error_case` when an
    action on it was refused)."""
    ctx = web(request)
    board = dashboards.supervisor_board(uow_factory=ctx.uow_factory)
    work = supervision.assignments(principal, ctx.services.clock.now(), after=after,
                                   placed_after=placed_after, uow_factory=ctx.uow_factory)
    return render(request, "supervisor.html", {
        "principal": principal, "board": board, "decided": decided, "error": error,
        "assigned": assigned, "recalled": recalled, "placed": placed, "work": work,
        "cursors": {"after": after, "placed_after": placed_after}, "error_case": error_case,
        "loads": {c.collector_ref: c for c in board.collectors},
        "charts": _supervisor_charts(board, translator(request)),
        "balances": {b.bucket: money_text(b.balance, board.currency) for b in board.buckets},
        "money_text": money_text,
        "kept_share": {c.collector_ref: share(c.promises_kept,
                                              c.promises_kept + c.promises_broken)
                       for c in board.collectors}},
        status=422 if error else 200)


@router.get("/supervise")
def supervise(request: Request, principal: Supervisor, decided: str = "", assigned: str = "",
              recalled: str = "", placed: str = "", after: str = "", placed_after: str = ""
              ) -> Response:
    return supervisor_page(request, principal,
                           decided=decided if PLAN_REF.fullmatch(decided) else "",
                           assigned=assigned if CASE_ID.fullmatch(assigned) else "",
                           recalled=recalled if CASE_ID.fullmatch(recalled) else "",
                           placed=placed if CASE_ID.fullmatch(placed) else "",
                           after=cursor(after), placed_after=cursor(placed_after))


def cursor(value: object) -> int:
    """A page cursor (the last case id of the page before); anything else is the first."""
    return int(value) if isinstance(value, str) and CASE_ID.fullmatch(value) else 0


@router.get("/supervise/plans/{plan_id}")
def plan_page(request: Request, plan_id: str, principal: Supervisor) -> Response:
    """A plan with the preview it was proposed on (old and new schedules, totals, the APR
    against the cap), and the decision buttons while it awaits one."""
    ctx = web(request)
    try:
        plan = plan_documents.show_document(plan_id[:MAX_PLAN_REF],
                                            uow_factory=ctx.uow_factory)
    except DomainError:
        raise NotFound("plan_id", f"no plan {plan_id[:MAX_PLAN_REF]!r}") from None
    with ctx.uow_factory() as uow:
        currency = queries.book_currency(uow)
    return render(request, "supervisor_plan.html",
                  {"principal": principal, "plan": plan, "currency": currency})


def _decide(request: Request, principal: Principal, plan_id: str, form: FormData,
            approve: bool) -> Response:
    """Approve or reject as the signed-in supervisor; a refusal (the proposer deciding, a
    rule the loan now breaks) is shown on the dashboard, naming the rule."""
    ctx = web(request)
    by = principal.identity
    try:
        if approve:
            plans.approve(plan_id[:MAX_PLAN_REF], by=by, role=principal.role,
                          uow_factory=ctx.services.uow_factory, clock=ctx.services.clock)
        else:
            plans.reject(plan_id[:MAX_PLAN_REF], by=by,
                         reason=text(form, "reason", required=False,
                                     max_length=plans.MAX_REASON),
                         uow_factory=ctx.services.uow_factory, clock=ctx.services.clock)
    except DomainError as error:
        return supervisor_page(request, principal, error=error)
    return redirect(request, f"/supervise?decided={plan_id[:MAX_PLAN_REF]}")


@router.post("/supervise/plans/{plan_id}/approve")
def approve_plan(request: Request, plan_id: str, principal: Supervisor, form: Form
                 ) -> Response:
    return _decide(request, principal, plan_id, form, approve=True)


@router.post("/supervise/plans/{plan_id}/reject")
def reject_plan(request: Request, plan_id: str, principal: Supervisor, form: Form
                ) -> Response:
    return _decide(request, principal, plan_id, form, approve=False)


def _compliance_charts(board: dashboards.ComplianceBoard, _: Translator) -> dict[str, Any]:
    clocks = ((_("Complaints acknowledged"), board.acknowledge),
              (_("Complaints answered"), board.answer),
              (_("Objections answered (CN-23)"), board.objections))
    return {
        "days": charts.columns(
            "chart-days", _("Contact actions by day"),
            _("One column per business date: the actions strategies planned, and in red "
              "those a compliance rule held back."),
            [charts.Column(label=d.day.strftime("%m-%d"), total=d.planned,
                           part=d.rescheduled + d.cancelled) for d in board.days]),
        "rules": charts.bars(
            "chart-rules", _("Actions held back, by rule"),
            _("One bar per rule: the actions it held back in the window."),
            [charts.Bar(label=r.rule_id, value=r.total, shown=str(r.total))
             for r in board.rules]),
        "rates": charts.bars(
            "chart-rates", _("Complaints per 1,000 contacts"),
            _("One bar per collector and agency: complaints for every 1,000 contacts logged."),
            [charts.Bar(label=r["ref"], value=Decimal(r["complaints_per_1000_contacts"]),
                        shown=r["complaints_per_1000_contacts"]) for r in board.rates]),
        "portfolio": charts.bars(
            "chart-portfolio", _("Active loans by bucket"),
            _("One bar per delinquency bucket: active loans in it at the closed date."),
            [charts.Bar(label=name, value=b["loans"], shown=str(b["loans"]))
             for name, b in board.portfolio["buckets"].items()]),
        "rolls": charts.bars(
            "chart-rolls", _("Roll rates"),
            _("One bar per bucket: the share of loans entering it in the window that rolled "
              "on to the next bucket."),
            [charts.Bar(label=move, value=Decimal(rate), shown=_.percent(rate))
             for move, rate in board.roll_rates.items()]),
        "clocks": charts.bars(
            "chart-clocks", _("Answered in time"),
            _("One bar per clock: the share of items due so far that met it."),
            [charts.Bar(label=label, value=share(c.met, c.met + c.missed + c.overdue),
                        shown=_.percent(share(c.met, c.met + c.missed + c.overdue)))
             for label, c in clocks]),
        "clock_rows": clocks,
    }


@router.get("/compliance")
def compliance(request: Request, principal: Officer) -> Response:
    board = dashboards.compliance_board(uow_factory=web(request).uow_factory)
    return render(request, "compliance.html", {
        "principal": principal, "board": board,
        "charts": _compliance_charts(board, translator(request))})
