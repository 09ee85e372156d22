"""Collections use cases: cases from EOD's buckets, strategies turned into actions and messages,
agencies and placements, promises to pay, contact logging.

Every action passes the compliance engine at the instant it is planned for. An allowed message
is rendered and committed to the outbox with its action row, in one transaction. A blocked
action is never dropped: it is rescheduled to `next_allowed_at` when the engine gives one
(the message waits in the outbox until then), or cancelled with the rule ids and reason; both
are recorded on the action row, and every action (with its message's text) is appended to the
borrower's evidence chain in the same transaction.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import chain
from typing import Any
from zoneinfo import ZoneInfo

from arrears.application.contact_decisions import (
    HISTORY_DAYS,
    CaseLoan,
    agency_whitelist,
    debt_of,
    debtor_of,
    loan_facts,
)
from arrears.application.contacts import (
    CHANNEL_KINDS,
    Debtor,
    compliance_document,
    compliance_facts_text,
    contact_action,
    outbound,
)
from arrears.application.contacts import reason as _reason
from arrears.application.contacts import rule_ids as _rule_ids
from arrears.application.handlers import casework, credentials, evidence, plans
from arrears.application.handlers.case_assignment import CaseNotFound
from arrears.application.loan_file import money_text
from arrears.application.notifications import PlannedDecisions, Standing
from arrears.application.ports import (
    AgencyRow,
    BookedLoan,
    CaseRow,
    Clock,
    Event,
    InProcess,
    OutgoingMessage,
    PlannedAction,
    PlanRow,
    ReadAhead,
    Renderer,
    UnitOfWork,
)
from arrears.application.strategy import (
    MAX_PLACEMENT_DAYS,
    MESSAGE_KINDS,
    PLACEMENT_DAYS,
    PLACEMENT_SCOPES,
    Step,
    StepKind,
    Strategy,
    default_strategies,
)
from arrears.compliance import engine as compliance_engine
from arrears.compliance import packs
from arrears.compliance.facts import Facts
from arrears.compliance.model import (
    ActionKind,
    Actor,
    ActorKind,
    Decision,
    Purpose,
)
from arrears.domain.delinquency import bucket as bucket_of
from arrears.domain.errors import DomainError
from arrears.domain.loan import due_on
from arrears.domain.money import parse_decimal
from arrears.domain.plans import Plan
from arrears.domain.product import Product

__all__ = ["default_strategies"]

ONE_DAY = timedelta(days=1)
BATCH_SIZE = 500
ELECTRONIC = frozenset({StepKind.SMS, StepKind.EMAIL, StepKind.APP_PUSH})
OPT_OUT_PACKS = {"cn": frozenset({StepKind.SMS}), "us": ELECTRONIC}
"""Channels whose messages carry an opt-out line, per pack (US-17 every electronic message;
in China the SMS convention 回复TD退订)."""
PURE_CONTINGENCY_FORBIDDEN = {"CN": True, "US": False}
"""Whether a pack forbids commission that is only a share of recoveries (CN: CBA 2026
guideline on agency management [U]; US: no such rule)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Lender:
    """How messages name the lender and where they send people to pay."""

    name_zh: str = "安睿消费金融"
    name_en: str = "Arrears Consumer Finance"
    service_phone: str = "400-800-1234"
    repayment_account: str = "ICBC-0001"


@dataclass(slots=True)
class StrategyReport:
    business_date: date
    loans: int = 0
    actions: Counter[str] = field(default_factory=Counter)
    messages: Counter[str] = field(default_factory=Counter)
    blocked: Counter[str] = field(default_factory=Counter)

    def document(self) -> dict[str, Any]:
        return {"business_date": self.business_date.isoformat(), "loans": self.loans,
                "actions": dict(sorted(self.actions.items())),
                "messages": dict(sorted(self.messages.items())),
                "blocked_by_rule": dict(sorted(self.blocked.items()))}

    def add(self, other: StrategyReport) -> None:
        self.loans += other.loans
        self.actions.update(other.actions)
        self.messages.update(other.messages)
        self.blocked.update(other.blocked)


def stable_id(prefix: str, key: str) -> str:
    return f"{prefix}-{hashlib.sha256(key.encode()).hexdigest()[:26]}"


def _recipient(kind: StepKind, row: PlanRow) -> tuple[str, str]:
    """(address on the channel, compliance contact point id)."""
    if kind in (StepKind.SMS, StepKind.CALL):
        return row.phone, "mobile"
    if kind is StepKind.EMAIL:
        return row.email, "email"
    if kind is StepKind.APP_PUSH:
        return row.borrower_ref, "app"
    return f"{row.name}\n{row.address}", "address"


def _context(row: PlanRow, booked: BookedLoan, step: Step, d: int, amount: int, day: date,
             lender: Lender, pack: str, offer: dict[str, Any] | None = None) -> dict[str, Any]:
    installment = next((i.number for i in booked.state.installments
                        if i.due_date == row.due_on), 1)
    english = row.language == "en"
    return _offer_context(offer) | {
        "lender": lender.name_en if english else lender.name_zh,
        "service_phone": lender.service_phone,
        "repayment_account": lender.repayment_account,
        "name": row.name, "loan_tail": row.loan_ref[-4:], "installment": installment,
        "amount": money_text(amount, row.currency), "currency": row.currency,
        "due_on": row.due_on.isoformat(), "days_to_due": -d, "dpd": max(d, 0),
        "disbursed_on": booked.loan.disbursed_on.isoformat(), "as_of": day.isoformat(),
        "opt_out": step.kind in OPT_OUT_PACKS.get(pack, ELECTRONIC),
        "debt_collector": False,
    }


def _offer_context(offer: dict[str, Any] | None) -> dict[str, Any]:
    """What a plan offer tells the borrower: the plan, its first payment and what it costs in
    all (the preview's figures, so the offer and the plan agree), against what settles the
    loan now: the preview's total before also holds interest not yet earned."""
    if offer is None:
        return {}
    unpaid = offer["new_schedule"]  # the installments still asking for money
    first = unpaid[0] if unpaid else None
    return {"offer_plan": offer["plan_id"], "offer_kind": offer["kind"],
            "offer_payments": len(unpaid),
            "offer_first_amount": first["payment"] if first else "0",
            "offer_first_due": first["due_date"] if first else "",
            "offer_total": offer["borrower_total_after"],
            "owed_now": offer["payoff_now"]}


def _draft_offer(uow: UnitOfWork, booked: BookedLoan, step: Step
                 ) -> tuple[Plan | None, dict[str, Any] | None, str]:
    """(plan, preview, "") for a step's plan offer, or (None, None, why none is offered)."""
    if plans.open_proposal(uow, booked) is not None:
        return None, None, "a plan offer is already open for this loan"
    try:
        plan, shown = plans.draft(uow, booked, step.offer_terms)
    except DomainError as refusal:
        return None, None, f"no plan to offer: {refusal.field}: {refusal.reason}"
    return plan, shown, ""


@dataclass(slots=True, kw_only=True)
class _KnownFacts:
    """A borrower's facts as a strategy run holds them, and their JSON text once a message
    carries them: the same facts stand for each step of the loan until the run adds an
    attempt (a planned call) to the debtor."""

    debtor: Debtor
    facts: Facts
    _text: str | None = None

    def text(self) -> str:
        if self._text is None:
            self._text = compliance_facts_text(self.facts)
        return self._text


@dataclass(slots=True)
class _LoanPlan:
    actions: list[PlannedAction] = field(default_factory=list)
    messages: list[OutgoingMessage] = field(default_factory=list)


@dataclass(slots=True)
class _Planned:
    """A chunk's plans, by loan in the chunk's order, with the decisions of the messages
    allowed as planned (for `PlannedDecisions`); `deferred` are the loans left for a unit of
    work that writes."""

    report: StrategyReport
    loans: dict[int, _LoanPlan] = field(default_factory=dict)
    decisions: list[tuple[str, datetime, Standing, Decision]] = field(default_factory=list)
    deferred: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True, kw_only=True)
class _Planning:
    """What planning a chunk needs besides the book: picklable, so that a chunk can be
    planned in another process (`ReadAhead`)."""

    day: date
    now: datetime
    renderer: Renderer
    strategies: dict[str, Strategy]
    lender: Lender

    def ahead(self, readers: Callable[[], UnitOfWork], rows: Sequence[PlanRow]) -> _Planned:
        """The chunk planned on a unit of work that only reads: the loans with a step that
        writes as it is planned (a plan offer, an escalation) are deferred."""
        with readers() as uow:
            return _plan_batch(rows, self, uow, writes=False)


LEGAL_QUEUE = "legal"
"""The queue of cases a legal-review step took out of collection."""

READ_AHEAD_ROWS = 100
"""Rows per chunk planned ahead: small, so the writer starts soon and the planners stay
ahead of it."""


def run_strategies(
    day: date,
    *,
    uow_factory: Callable[[], UnitOfWork],
    clock: Clock,
    renderer: Renderer,
    strategies: dict[str, Strategy] | None = None,
    lender: Lender = Lender(),
    batch_size: int = BATCH_SIZE,
    decided: PlannedDecisions | None = None,
    read_ahead: ReadAhead | None = None,
) -> StrategyReport:
    """Plan the contacts and escalations of the business date after `day` (run after EOD of
    `day`). Idempotent per (date, loan, step): a re-run adds nothing it already added.
    `decided` keeps the decisions of the messages scheduled, for a worker in this process.
    With `read_ahead`, chunks of the loans are planned ahead (in other processes) while this
    one writes; what they plan reads nothing an earlier chunk writes, and the loans whose
    steps write as they are planned are planned here, in order, so the result is the same."""
    chosen = default_strategies() if strategies is None else strategies
    report = StrategyReport(business_date=day)
    planned_day = day + ONE_DAY
    with uow_factory() as uow:
        products = uow.book.products()
        # A loan has a step on the planned date only if its earliest unpaid installment fell
        # due a number of days before it at which its strategy has one: only those loans are
        # read, and of them only those whose arm has such a step are chunked, so each
        # chunk's reads of the book serve loans with something to do.
        due_on = {code: sorted(planned_day - timedelta(days=d)
                               for d in strategy.fire_days(products[code].reminders.days))
                  for code, strategy in chosen.items() if code in products}
        candidates = uow.collections.planning_rows(due_on)
    rows = [row for row in candidates
            if _fires(row, chosen[row.product_code], products, planned_day)]
    planning = _Planning(day=day, now=clock.now(), renderer=renderer, strategies=chosen,
                         lender=lender)
    size = batch_size if read_ahead is None else min(batch_size, READ_AHEAD_ROWS)
    chunks = [rows[start:start + size] for start in range(0, len(rows), size)]
    ahead = (read_ahead or InProcess(uow_factory)).map(planning.ahead, chunks)
    planned_chunks = iter(zip(chunks, ahead, strict=True))
    for first in planned_chunks:
        # Chunks planned ahead are small, so that the writer starts soon; they are committed
        # `batch_size` rows at a time: each commit writes every page its rows touched, and the
        # indexes by loan, borrower and message id are touched all over.
        with uow_factory() as uow:
            rows_written = 0
            for chunk, planned in chain((first,), planned_chunks):
                _write_planned(uow, chunk, planned, planning, report, decided, clock.now())
                rows_written += len(chunk)
                if rows_written >= batch_size:
                    break
            uow.commit()
    return report


def _write_planned(uow: UnitOfWork, chunk: Sequence[PlanRow], planned: _Planned,
                   planning: _Planning, report: StrategyReport,
                   decided: PlannedDecisions | None, now: datetime) -> None:
    """Write a chunk planned ahead, its deferred loans planned now, on `uow`."""
    deferred = [row for row in chunk if row.loan_id in planned.deferred]
    late = _plan_batch(deferred, planning, uow, writes=True) if deferred else None
    actions: list[PlannedAction] = []
    messages: list[OutgoingMessage] = []
    for part in (planned, late):
        if part is not None:
            report.add(part.report)
            if decided is not None:
                for message_id, at, standing, decision in part.decisions:
                    decided.record(message_id, at, standing, decision)
    for loan_id in dict.fromkeys(row.loan_id for row in chunk):
        loan = planned.loans.get(loan_id) or (late.loans.get(loan_id) if late else None)
        if loan is not None:
            actions += loan.actions
            messages += loan.messages
    uow.collections.add_actions(actions)
    uow.messages.enqueue(messages)
    evidence.actions_planned(uow, chunk, actions, messages, now)


def _fires(row: PlanRow, strategy: Strategy, products: Mapping[str, Product],
           planned_day: date) -> bool:
    """Whether any step of the row's arm fires on the planned date (before the book is read:
    a hardship plan being kept may still silence it)."""
    return bool(strategy.steps_for(strategy.arm_of(row.loan_ref),
                                   (planned_day - row.due_on).days,
                                   products[row.product_code].reminders.days))


def _writes_as_planned(step: Step) -> bool:
    return bool(step.offer) or step.kind not in MESSAGE_KINDS


def _plan_batch(rows: Sequence[PlanRow], planning: _Planning, uow: UnitOfWork, *,
                writes: bool) -> _Planned:
    """Plan the rows' steps; unless `writes`, the loans with a step that writes as it is
    planned are left out and named in `deferred`."""
    day, strategies, renderer, lender, now = (planning.day, planning.strategies,
                                              planning.renderer, planning.lender, planning.now)
    planned_day = day + ONE_DAY
    products = uow.book.products()
    # While a hardship plan is being kept, dunning stops: only its due-date reminders go out.
    under_plan = {plan.loan_id for plan in uow.plans.watched([r.loan_id for r in rows])}
    wanted: list[tuple[PlanRow, Strategy, str, Step, int, str]] = []
    for row in rows:
        strategy = strategies[row.product_code]
        d = (planned_day - row.due_on).days
        arm = strategy.arm_of(row.loan_ref)
        for step in strategy.steps_for(arm, d, products[row.product_code].reminders.days):
            if row.loan_id in under_plan and not step.reminder:
                continue
            wanted.append((row, strategy, arm, step, d, f"{day.isoformat()}:{row.loan_ref}:"
                                                        f"{step.name}"))
    existing = uow.collections.existing_action_keys([w[5] for w in wanted])
    todo = [w for w in wanted if w[5] not in existing]
    deferred = frozenset() if writes else frozenset(
        w[0].loan_id for w in todo if _writes_as_planned(w[3]))
    todo = [w for w in todo if w[0].loan_id not in deferred]
    escalating = sorted({w[0].borrower_id for w in todo if w[3].kind not in MESSAGE_KINDS})
    if writes and escalating:
        # Every case a step may change (a placement, the legal queue) held before any is, in
        # id order as the case sync holds them all: taken one by one as the steps come, two
        # cases of a chunk could be taken in the other order and wait on a sync for good.
        uow.collections.lock_cases(
            [case.id for case in uow.collections.cases_of_borrowers(escalating).values()])
    result = _Planned(report=StrategyReport(business_date=day), deferred=deferred)
    report = result.report
    report.loans += len({w[0].loan_id for w in todo})
    # Only the loans with a step to take today are read in full.
    booked_by_id = {b.id: b for b in uow.book.get_many(sorted({w[0].loan_id for w in todo}))}
    # The book's facts for the whole batch, read once and assembled per borrower by the same
    # functions contact logging, the worker and the API use (`contact_decisions`). Every
    # planned instant falls within a day of UTC midnight of the planned date.
    store = uow.collections
    borrowers = sorted({w[0].borrower_id for w in todo})
    since = datetime.combine(planned_day, datetime.min.time(), ZoneInfo("UTC")) - timedelta(
        days=HISTORY_DAYS + 1)
    history = store.call_history(borrowers, since)
    preferences = store.contact_preferences(borrowers)
    disputes = uow.disputes.of_loans(sorted({w[0].loan_ref for w in todo}))
    refusals = store.last_refusals(borrowers)
    whitelist = agency_whitelist(uow)
    closed = uow.book.closed_through()
    debtors: dict[int, Debtor] = {}
    facts_of: dict[int, _KnownFacts] = {}
    for row, strategy, arm, step, d, key in todo:
        booked = booked_by_id[row.loan_id]
        planned = result.loans.setdefault(row.loan_id, _LoanPlan())
        pack_code = products[row.product_code].jurisdiction.lower()
        pack = packs.get(pack_code)
        amount = due_on(booked.loan, booked.state, max(row.due_on, planned_day))
        planned_at = datetime.combine(planned_day, strategy.send_time,
                                      ZoneInfo(row.time_zone))
        debtor = debtors.get(row.loan_id) or debtor_of(
            row, debt_of(booked, row, closed), at=planned_at,
            history=history.get(row.borrower_id, ()),
            preferences=preferences.get(row.borrower_id, ()),
            disputes=disputes.get(row.loan_ref, ()))
        known = facts_of.get(row.loan_id)
        if known is None or known.debtor is not debtor:
            known = facts_of[row.loan_id] = _KnownFacts(debtor=debtor, facts=debtor.facts(
                agency_whitelist=whitelist, refused_to_pay_at=refusals.get(row.borrower_id)))
        facts = known.facts
        base: dict[str, Any] = dict(
            action_key=key, loan_id=row.loan_id, business_date=day, strategy=strategy.name,
            arm=arm, step=step.name, kind=step.kind.value, planned_at=planned_at)
        offer = None
        if step.offer:
            plan, offer, refusal = _draft_offer(uow, booked, step)
            if offer is None:
                planned.actions.append(PlannedAction(**base, status="cancelled",
                                                     reason=refusal))
                report.actions[f"{step.kind.value}:cancelled"] += 1
                continue
        if step.kind in MESSAGE_KINDS:
            action, message, decision = _plan_message(
                row, booked, step, d, amount, day, debtor, known, planned_at, key, pack_code,
                pack, renderer, lender, now, base, offer)
            if message is not None and decision is not None and decision.allowed:
                result.decisions.append((message.message_id, planned_at, Standing(
                    preferences=tuple(preferences.get(row.borrower_id, ())),
                    disputes=tuple(disputes.get(row.loan_ref, ()))), decision))
            if offer is not None and message is not None and \
                    message.next_attempt_at.astimezone(planned_at.tzinfo).date() != planned_day:
                # A plan is approved on its business date only: no offer reaches a later day.
                action, message = replace(action, status="cancelled", scheduled_at=None,
                                          message_id=None, reason="the plan offer cannot go "
                                          "out on its business date"), None
            if message is not None and offer is not None and plan is not None:
                plans.record_proposal(
                    uow, booked, plan, offer,
                    proposed_by=f"{plans.STRATEGY_PROPOSER}{strategy.name}", at=now)
            if message is not None and step.kind is StepKind.CALL:
                debtor = replace(debtor, attempts=(*debtor.attempts, outbound(
                    ActionKind.CALL, debtor, message.next_attempt_at, "mobile",
                    Purpose.COLLECTION)))
            if message is not None:
                planned.messages.append(message)
                report.messages[message.channel] += 1
        else:
            action = _escalate(uow, row, step, strategy, debtor, facts, amount, max(d, 0),
                               planned_day, planned_at, pack, base, now)
        debtors[row.loan_id] = debtor
        planned.actions.append(action)
        report.actions[f"{step.kind.value}:{action.status}"] += 1
        for rule_id in action.rule_ids:
            report.blocked[rule_id] += 1
    return result


def _plan_message(row: PlanRow, booked: BookedLoan, step: Step, d: int, amount: int, day: date,
                  debtor: Debtor, known: _KnownFacts, planned_at: datetime, key: str,
                  pack_code: str,
                  pack: Any,
                  renderer: Renderer, lender: Lender, now: datetime, base: dict[str, Any],
                  offer: dict[str, Any] | None = None,
                  ) -> tuple[PlannedAction, OutgoingMessage | None, Decision | None]:
    address, point = _recipient(step.kind, row)
    if not address.strip():
        return PlannedAction(**base, status="cancelled",
                             reason=f"no {step.kind.value} address on file"), None, None
    rendered = renderer.render(step.template, row.language,
                               _context(row, booked, step, d, amount, day, lender, pack_code,
                                        offer))
    kind = CHANNEL_KINDS[step.kind.value]
    purpose = Purpose.REMINDER if d <= 0 else Purpose.COLLECTION
    content = f"{rendered.subject}\n{rendered.body}" if rendered.subject else rendered.body
    action = contact_action(kind, debtor, point=point, content=content, purpose=purpose)
    decision = compliance_engine.decide(action, known.facts, pack, planned_at)
    message_id = stable_id("msg", key)
    if not decision.allowed and decision.next_allowed_at is None:
        return PlannedAction(**base, status="cancelled", rule_ids=_rule_ids(decision),
                             reason=_reason(decision)), None, decision
    send_at = planned_at if decision.allowed else decision.next_allowed_at
    assert send_at is not None
    message = OutgoingMessage(
        message_id=message_id, channel=step.kind.value, loan_id=row.loan_id,
        borrower_id=row.borrower_id, business_date=day, template=step.template,
        language=row.language, recipient=address, subject=rendered.subject,
        body=rendered.body, pack=pack_code,
        compliance=compliance_document(action, known.facts, facts_text=known.text()),
        next_attempt_at=send_at,
        created_at=now)
    if decision.allowed:
        return PlannedAction(**base, status="scheduled", scheduled_at=send_at,
                             message_id=message_id), message, decision
    return PlannedAction(**base, status="rescheduled", scheduled_at=send_at,
                         rule_ids=_rule_ids(decision), reason=_reason(decision),
                         message_id=message_id), message, decision


def _escalate(uow: UnitOfWork, row: PlanRow, step: Step, strategy: Strategy, debtor: Debtor,
              facts: Facts, amount: int, dpd: int, planned_day: date, planned_at: datetime,
              pack: Any, base: dict[str, Any], now: datetime) -> PlannedAction:
    case = uow.collections.case_of_borrower(row.borrower_id)
    if case is None:
        return PlannedAction(**base, status="cancelled", reason="no open collection case")
    if step.kind is StepKind.AGENCY_PLACEMENT:
        return _place(uow, case, row, step, strategy, debtor, facts, amount, dpd,
                      planned_day, planned_at, pack, base, now)
    if step.kind is StepKind.LEGAL_REVIEW:
        action = contact_action(ActionKind.LEGAL_ACTION, debtor, point="address")
        decision = compliance_engine.decide(action, facts, pack, planned_at)
        if not decision.allowed:
            return _blocked(base, decision)
        uow.collections.update_case(case.id, case.bucket, LEGAL_QUEUE, case.collector_id,
                                    planned_day, amount)
        return PlannedAction(**base, status="done", reason="case moved to the legal queue")
    # A field-visit request becomes a visit only when the engine allows it (CN-9: two
    # credentialed collectors, recording, written authorization with legal review …), under
    # the authorization on file for the loan.
    holder = _collector_ref(uow, case.collector_id)
    collectors = (holder,) if holder else ()
    outcome = casework.decide_visit(uow, row.loan_ref, planned_at,
                                    visit_key=base["action_key"],
                                    fallback_collectors=collectors)
    if not outcome.allowed:
        status = "rescheduled" if outcome.next_allowed_at is not None else "cancelled"
        return PlannedAction(**base, status=status, scheduled_at=outcome.next_allowed_at,
                             rule_ids=outcome.rule_ids, reason=outcome.reason)
    return PlannedAction(**base, status="done",
                         reason=f"visit scheduled under {outcome.authorization_ref}")


def _blocked(base: dict[str, Any], decision: Decision) -> PlannedAction:
    if decision.next_allowed_at is not None:
        return PlannedAction(**base, status="rescheduled", scheduled_at=decision.next_allowed_at,
                             rule_ids=_rule_ids(decision), reason=_reason(decision))
    return PlannedAction(**base, status="cancelled", rule_ids=_rule_ids(decision),
                         reason=_reason(decision))


def _place(uow: UnitOfWork, case: CaseRow, row: PlanRow, step: Step, strategy: Strategy,
           debtor: Debtor, facts: Facts, minor: int, dpd: int, planned_day: date,
           planned_at: datetime, pack: Any, base: dict[str, Any], now: datetime
           ) -> PlannedAction:
    """Place the case with the least loaded eligible agency; `minor` is the amount due placed
    with it. The case leaves the lender's collectors at once (`now`, `_off_the_floor`)."""
    store = uow.collections
    case_id = case.id
    # The case held to the commit and read again: a supervisor placing or recalling it
    # meanwhile takes turns. The agencies are not locked here: a run's chunk places several
    # cases in one transaction, and a case locked after agencies could deadlock with a hand
    # placement (case, then agencies).
    store.lock_cases([case_id])
    found = store.case_of_borrower(row.borrower_id)
    if found is None or found.id != case_id or found.queue == LEGAL_QUEUE:
        return PlannedAction(**base, status="cancelled",
                             reason="the case is under legal review or no longer open")
    case = found
    agencies = store.agencies()
    placements = store.active_placements(planned_day)
    if case_id in placements:
        # Another loan of the same borrower: the placement covers it from now on.
        added = store.add_placement_loan(placements[case_id][0], row.loan_id, minor)
        return PlannedAction(**base, status="done",
                             reason="already placed" + ("; loan added" if added else ""))
    load: Counter[int] = Counter(agency_id for _, agency_id in placements.values())
    reasons = []
    candidates = []
    for agency in agencies:
        refusal = _cannot_take(agency, load[agency.id], planned_day)
        if refusal is None:
            candidates.append(agency)
        else:
            reasons.append(f"{agency.agency_ref}: {refusal}")
    candidates.sort(key=lambda a: (load[a.id] / a.capacity, a.id))
    for agency in candidates:
        decision = _first_letter(agency, debtor, facts, pack, planned_at)
        if not decision.allowed:
            reasons.append(f"{agency.agency_ref}: {_reason(decision)}")
            continue
        days = step.days or strategy.placement_days
        placement_id = store.place(case_id, agency.id, step.scope, planned_day,
                                   planned_day + timedelta(days=days), 0)
        store.add_placement_loan(placement_id, row.loan_id, minor)
        store.update_case(case_id, bucket_of(dpd).value,
                          f"agency:{agency.agency_ref}", None, planned_day, minor)
        _off_the_floor(uow, case, now, agency.agency_ref)
        return PlannedAction(**base, status="done", reason=f"placed with {agency.agency_ref}")
    return PlannedAction(**base, status="cancelled", rule_ids=("agency.none_eligible",),
                         reason="; ".join(reasons) or "no agency on file")


def _off_the_floor(uow: UnitOfWork, case: CaseRow, at: datetime, agency_ref: str
                   ) -> list[str]:
    """The case leaves the lender's collectors for an agency at `at`: every credential any of
    them holds on its loans is revoked (its collector's, a visit team's notices) and every
    field visit ahead on them is cancelled, each on the borrower's evidence with the agency
    as the reason. The credentials revoked, by id."""
    reason = f"placed with agency {agency_ref}"
    revoked = credentials.revoke_held(uow, case.id, at, reason=reason, every_collector=True)
    for visit in uow.collections.cancel_visits(at, borrower_id=case.borrower_id):
        evidence.visit_cancelled(uow, visit.borrower_id, visit.loan_ref, visit.authorization_ref,
                                 visit.planned_at, at, reason)
    return revoked


def _cannot_take(agency: AgencyRow, load: int, day: date) -> str | None:
    """Why the agency may not take a case on `day` (CN-11: only whitelisted agencies, within
    their licence and capacity), or None."""
    if not agency.whitelisted:
        return "not whitelisted"
    if not agency.licence_valid_from <= day <= agency.licence_valid_until:
        return f"licence not valid on {day}"
    if load >= agency.capacity:
        return f"at capacity ({agency.capacity})"
    return None


def _first_letter(agency: AgencyRow, debtor: Debtor, facts: Facts, pack: Any,
                  at: datetime) -> Decision:
    """The rule pack's decision on the agency's first contact, a letter to the borrower's
    address: a placement is made only where the agency may begin work at once."""
    actor = Actor(actor_id=f"agency:{agency.agency_ref}", kind=ActorKind.AGENCY,
                  organisation=agency.agency_ref)
    action = contact_action(ActionKind.LETTER, debtor, point="address", actor=actor)
    return compliance_engine.decide(action, facts, pack, at)


# --- cases ------------------------------------------------------------------------------


def queue_name(bucket: str, language: str, region: str) -> str:
    return f"{bucket}/{language}/{region or '-'}"


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseReport:
    opened: int
    escalated: int
    de_escalated: int
    closed: int


def sync_cases(day: date, *, uow_factory: Callable[[], UnitOfWork], clock: Clock
               ) -> CaseReport:
    """Open, escalate, de-escalate and close cases from the buckets EOD left for `day`; assign
    collectors (least loaded with the skills, sticky while the bucket stays). A collector who
    loses a case (to another on a bucket change, or as it closes) stops holding credentials
    on its loans, as does the agency of a closed placed case. Promises to pay are settled by
    `casework.evaluate_promises`."""
    order = ["C", "M1", "M2", "M3", "M4", "M5", "M6", "M7+"]
    opened = escalated = de_escalated = closed = 0
    at = clock.now()
    with uow_factory() as uow:
        store = uow.collections
        # The collectors first, their rows held to the commit: a deactivation committing
        # while the sync runs would otherwise miss the cases the sync gives them.
        collectors = store.collectors(lock=True)
        # Then the open cases, held as well: a placement or an assignment of one meanwhile
        # commits before they are read here, or waits for this sync.
        cases = store.open_cases(lock=True)
        placed = store.active_placements(day)
        collector_refs = {c.id: c.collector_ref for c in collectors}
        agency_refs = {a.id: a.agency_ref for a in store.agencies()}
        # Placements that ran out (or were recalled) send the case back to an internal queue.
        load: Counter[int] = Counter(c.collector_id for c in cases.values() if c.collector_id)
        seen: set[int] = set()
        for borrower_id, dpd, balance, language, region in store.overdue_borrowers():
            seen.add(borrower_id)
            bucket = bucket_of(dpd).value
            case = cases.get(borrower_id)
            if case is not None and (case.id in placed or case.queue == LEGAL_QUEUE):
                store.update_case(case.id, bucket, case.queue, case.collector_id, day, balance)
                continue
            # Sticky while the bucket stays, and while the collector is on the floor.
            collector_id = case.collector_id if case is not None and case.bucket == bucket \
                and case.collector_id in collector_refs else None
            if collector_id is None:
                if case is not None and case.collector_id:
                    load[case.collector_id] -= 1
                eligible = [c for c in collectors
                            if bucket in c.buckets and (not c.languages or language in c.languages)
                            and load[c.id] < c.capacity]
                if eligible:
                    chosen = min(eligible, key=lambda c: (load[c.id], c.id))
                    collector_id = chosen.id
                    load[chosen.id] += 1
            queue = queue_name(bucket, language, region)
            if case is None:
                store.open_case(borrower_id, bucket, queue, collector_id, day, balance)
                opened += 1
            else:
                if order.index(bucket) > order.index(case.bucket):
                    escalated += 1
                elif order.index(bucket) < order.index(case.bucket):
                    de_escalated += 1
                if (bucket, queue, collector_id) != (case.bucket, case.queue, case.collector_id):
                    store.update_case(case.id, bucket, queue, collector_id, day, balance)
                if case.collector_id and collector_id != case.collector_id:
                    _revoke_collector(uow, case.id, collector_refs.get(case.collector_id), at,
                                      "reassigned")
        for borrower_id, case in cases.items():
            if borrower_id not in seen:
                store.close_case(case.id, day)
                closed += 1
                _revoke_collector(uow, case.id, collector_refs.get(case.collector_id or 0), at,
                                  "case closed")
                if case.id in placed:
                    credentials.revoke_held(uow, case.id, at, reason="case closed",
                                            agency_ref=agency_refs[placed[case.id][1]])
        uow.commit()
    return CaseReport(opened=opened, escalated=escalated, de_escalated=de_escalated,
                      closed=closed)


def _collector_ref(uow: UnitOfWork, collector_id: int | None) -> str | None:
    """The ref of the active collector with this id, if any."""
    return next((c.collector_ref for c in uow.collections.collectors() if c.id == collector_id),
                None)


def _revoke_collector(uow: UnitOfWork, case_id: int, collector_ref: str | None, at: datetime,
                      reason: str) -> None:
    # A collector no longer on file (`collectors()` lists those active) holds nothing new.
    if collector_ref:
        credentials.revoke_held(uow, case_id, at, collector_ref=collector_ref, reason=reason)


# --- agencies, promises, contacts ----------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Agency:
    agency_ref: str
    name: str
    licence_no: str
    licence_valid_from: date
    licence_valid_until: date
    whitelisted: bool
    capacity: int
    commission_rate: Decimal
    fixed_fee: int = 0


def parse_rate(text: str) -> Decimal:
    return parse_decimal(text, "agency.commission_rate")


def add_agency(agency: Agency, *, jurisdiction: str, uow_factory: Callable[[], UnitOfWork]
               ) -> int:
    """Put a licensed agency on file; refuses bad licence dates, capacity or commission."""
    if not agency.agency_ref.strip():
        raise DomainError("agency.agency_ref", "must not be empty")
    if not agency.licence_no.strip():
        raise DomainError("agency.licence_no", "a licence number is required")
    if agency.licence_valid_until < agency.licence_valid_from:
        raise DomainError("agency.licence_valid_until", "is before licence_valid_from")
    if agency.capacity < 1:
        raise DomainError("agency.capacity", "must be at least 1")
    if not Decimal(0) <= agency.commission_rate <= Decimal("0.5"):
        raise DomainError("agency.commission_rate", "must be between 0 and 0.5")
    if agency.fixed_fee < 0:
        raise DomainError("agency.fixed_fee", "must not be negative")
    if PURE_CONTINGENCY_FORBIDDEN.get(jurisdiction.upper(), False) and agency.fixed_fee == 0 \
            and agency.commission_rate > 0:
        raise DomainError("agency.fixed_fee", f"the {jurisdiction.upper()} pack forbids "
                          "commission that is only a share of recoveries")
    with uow_factory() as uow:
        agency_id = uow.collections.add_agency(AgencyRow(
            id=0, agency_ref=agency.agency_ref, name=agency.name, licence_no=agency.licence_no,
            licence_valid_from=agency.licence_valid_from,
            licence_valid_until=agency.licence_valid_until, whitelisted=agency.whitelisted,
            capacity=agency.capacity, commission_rate=str(agency.commission_rate),
            fixed_fee=agency.fixed_fee))
        uow.commit()
    return agency_id


def recall_case(case_id: int, on: date, *, by: str, uow_factory: Callable[[], UnitOfWork],
                clock: Clock) -> bool:
    """Recall a case from its agency on `on` (it returns to an internal queue at the next
    case sync), as `by` (`Principal.identity`). The delegation ends with it: the agency's
    credentials on the borrower's loans are revoked at once, and `placement.recalled` names
    who recalled it. False if the case is not placed."""
    at = clock.now()
    with uow_factory() as uow:
        uow.collections.lock_cases([case_id])  # a placement or recall of it meanwhile waits
        found = uow.collections.active_placements(on).get(case_id)
        if found is None:
            return False
        placement_id, agency_id = found
        agency = next(a.agency_ref for a in uow.collections.agencies() if a.id == agency_id)
        uow.collections.recall(placement_id, on)
        revoked = credentials.revoke_held(uow, case_id, at, agency_ref=agency,
                                          reason=f"recalled from agency {agency}")
        uow.events.emit([Event(
            message_id=f"placement.recalled:{placement_id}", topic="placement.recalled",
            loan_id=None, business_date=on, created_at=at,
            payload={"case_id": case_id, "agency": agency, "by": by,
                     "credentials_revoked": revoked})])
        uow.commit()
    return True




@dataclass(frozen=True, slots=True, kw_only=True)
class Placed:
    placement_id: int
    agency_ref: str
    ends_on: date
    loan_refs: tuple[str, ...]
    credentials_revoked: tuple[str, ...]


def place_case(case_id: int, agency_ref: str, on: date, *, by: str, scope: str = "remote",
               days: int = PLACEMENT_DAYS, uow_factory: Callable[[], UnitOfWork],
               clock: Clock) -> Placed:
    """Place an open case with an agency by hand on `on` (the open business date), as `by`
    (`Principal.identity`), for `days` days. The checks a strategy's placement makes, each
    refusal naming its field: the agency whitelisted, licensed on `on` and under capacity
    (CN-11), its first letter to the borrower allowed by the rule pack now. The borrower's
    overdue loans are placed, each with what it has due; the case leaves the lender's
    collectors (`_off_the_floor`); `placement.made` names who placed it."""
    if scope not in PLACEMENT_SCOPES:
        raise DomainError("scope", f"must be one of {', '.join(PLACEMENT_SCOPES)}")
    if not 1 <= days <= MAX_PLACEMENT_DAYS:
        raise DomainError("days", f"must be 1 to {MAX_PLACEMENT_DAYS} (got {days})")
    at = clock.now()
    with uow_factory() as uow:
        store = uow.collections
        # Held to the commit, the case and then the agencies, as a strategy's placement holds
        # them, before either is read: a sync, an assignment or another placement of the case
        # meanwhile takes turns with this one, and no agency's load changes underneath.
        store.lock_cases([case_id])
        case = next((c for c in store.open_cases().values() if c.id == case_id), None)
        if case is None:
            raise CaseNotFound("case_id", f"no open case {case_id}")
        if case.queue == LEGAL_QUEUE:
            raise DomainError("case_id", f"case {case_id} is in the legal queue; an agency "
                                         "does not take a case under legal review")
        agencies = store.agencies(lock=True)
        placements = store.active_placements(on)
        if case_id in placements:
            held = next(a.agency_ref for a in agencies if a.id == placements[case_id][1])
            raise DomainError("case_id", f"case {case_id} is already placed with {held}; "
                                         "recall it first")
        agency = next((a for a in agencies if a.agency_ref == agency_ref), None)
        if agency is None:
            raise DomainError("agency_id", f"no agency {agency_ref!r}")
        load = sum(1 for _, placed_with in placements.values() if placed_with == agency.id)
        refusal = _cannot_take(agency, load, on)
        if refusal is not None:
            raise DomainError("agency_id", f"{agency_ref}: {refusal}")
        rows = store.plan_rows(store.overdue_loans_of(case.borrower_id))
        if not rows:
            raise DomainError("case_id", f"case {case_id} has no overdue loan to place")
        booked = {b.id: b for b in uow.book.get_many(sorted(rows))}
        products = uow.book.products()
        # The most overdue loan speaks for the borrower, as the loan whose step places a case.
        worst = max(rows.values(), key=lambda r: (booked[r.loan_id].dpd, -r.loan_id))
        found = CaseLoan(booked=booked[worst.loan_id], row=worst, case=case, pack=packs.get(
            products[worst.product_code].jurisdiction.lower()))
        known = loan_facts(uow, found, at)
        decision = _first_letter(agency, known.debtor, known.facts, found.pack, at)
        if not decision.allowed:
            raise DomainError("agency_id", f"{agency_ref}: {_reason(decision)}")
        ends_on = on + timedelta(days=days)
        placement_id = store.place(case_id, agency.id, scope, on, ends_on, 0)
        placed_balance = 0
        for loan_id in sorted(rows):
            due = due_on(booked[loan_id].loan, booked[loan_id].state, on)
            store.add_placement_loan(placement_id, loan_id, due)
            placed_balance += due
        store.update_case(case_id, case.bucket, f"agency:{agency_ref}", None, on,
                          placed_balance)
        holder = _collector_ref(uow, case.collector_id)
        revoked = _off_the_floor(uow, case, at, agency_ref)
        loan_refs = tuple(sorted(row.loan_ref for row in rows.values()))
        uow.events.emit([Event(
            message_id=f"placement.made:{placement_id}", topic="placement.made",
            loan_id=None, business_date=on, created_at=at,
            payload={"case_id": case_id, "agency": agency_ref, "by": by, "scope": scope,
                     "ends_on": ends_on.isoformat(), "loan_ids": list(loan_refs),
                     "collector": holder, "credentials_revoked": revoked})])
        uow.commit()
    return Placed(placement_id=placement_id, agency_ref=agency_ref, ends_on=ends_on,
                  loan_refs=loan_refs, credentials_revoked=tuple(revoked))


def agency_cases(agency_ref: str, on: date, *, uow_factory: Callable[[], UnitOfWork]
                 ) -> list[dict[str, Any]]:
    """What an agency may see: only the cases placed with it, only while placed."""
    with uow_factory() as uow:
        return uow.collections.cases_for_agency(agency_ref, on)


def group_rules(actions: Sequence[PlannedAction]) -> dict[str, int]:
    counts: defaultdict[str, int] = defaultdict(int)
    for action in actions:
        for rule_id in action.rule_ids:
            counts[rule_id] += 1
    return dict(counts)
