"""Collections commands: `arrears worker`, `arrears strategies …`, `arrears cases …`,
`arrears agencies …`, `arrears contacts log`, `arrears promises …`, `arrears visits …`,
`arrears collectors credential`.

`python -m arrears.entrypoints.cli.collections` runs the `arrears` command (the reliability
tests start and kill the worker that way).
"""

from __future__ import annotations

import math
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from arrears import bootstrap
from arrears.adapters.channels.config import MESSAGE_CHANNELS, ChannelSettings, build_channels
from arrears.adapters.channels.render import LANGUAGES, TEMPLATES, JinjaRenderer
from arrears.application import collections_demo, loan_file, notifications
from arrears.application.access import open_business_date
from arrears.application.handlers import casework, credentials
from arrears.application.handlers import collections as handlers
from arrears.application.ports import Clock
from arrears.application.strategy import PLACEMENT_DAYS, Strategy, load_strategy_file
from arrears.config import Settings
from arrears.domain.dates import check_instant
from arrears.domain.errors import DomainError
from arrears.domain.money import MAX_MINOR_UNITS
from arrears.entrypoints.cli.output import console, emit_json, fail, user_errors

DbOption = Annotated[str | None, typer.Option("--db", help="Database URL (default: ARREARS_DB "
                                                             "or sqlite:///./arrears.db)")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
AtOption = Annotated[str | None, typer.Option(
    "--at", help="Run with the clock frozen at this ISO instant (replays and tests)")]

# A retry waits at most the policy's backoff cap, so a longer first delay would mean nothing; 30
# attempts already retry for about two days at that cap.
BACKOFF_CAP_SECONDS = notifications.DeliveryPolicy().backoff_cap.total_seconds()
MAX_ATTEMPTS = 30
# Messages one lease claims: more than a worker could send before its lease runs out.
MAX_BATCH = 100_000
# Cases one collector or agency may hold at once.
MAX_CAPACITY = 1_000_000
# A day is past any lease, poll interval or gateway timeout, and within what a timedelta holds.
LONGEST_WAIT_SECONDS = 86_400.0

strategies_app = typer.Typer(help="Collection strategies.", no_args_is_help=True)
cases_app = typer.Typer(help="Collection cases and queues.", no_args_is_help=True)
agencies_app = typer.Typer(help="Collection agencies and placements.", no_args_is_help=True)
contacts_app = typer.Typer(help="Contacts with borrowers.", no_args_is_help=True)
promises_app = typer.Typer(help="Promises to pay.", no_args_is_help=True)
visits_app = typer.Typer(help="Field-visit authorizations and requests.", no_args_is_help=True)
collectors_app = typer.Typer(help="Collectors and their credentials.", no_args_is_help=True)


class FrozenClock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


def _instant(text: str, field: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        fail(field, f"{text!r} is not an ISO instant")
    if value.tzinfo is None:
        fail(field, f"{text!r} has no UTC offset")
    with user_errors():
        return check_instant(value, field)


def _day(text: str, field: str) -> date:
    with user_errors():
        return loan_file.parse_date(text, field)


def _services(db: str | None, at: str | None) -> bootstrap.Services:
    clock: Clock | None = FrozenClock(_instant(at, "--at")) if at else None
    with user_errors():
        return bootstrap.build(Settings.from_env(database_url=db), clock=clock)


def _rates(specs: list[str]) -> dict[str, notifications.RateLimit]:
    limits: dict[str, notifications.RateLimit] = {}
    for spec in specs:
        channel, _, number = spec.partition("=")
        per, _, unit = number.partition("/")
        seconds = {"": 1, "s": 1, "m": 60, "h": 3600}.get(unit)
        if channel not in MESSAGE_CHANNELS or not per.isdigit() or int(per) < 1 or not seconds:
            fail("--rate", f"{spec!r} is not CHANNEL=N[/s|/m|/h] with a known channel "
                           f"({', '.join(MESSAGE_CHANNELS)})")
        limits[channel] = notifications.RateLimit(per_window=int(per),
                                                  window=_seconds(seconds))
    return limits


def worker(
    db: DbOption = None,
    worker_id: Annotated[str | None, typer.Option(help="Name of this worker")] = None,
    batch_size: Annotated[int, typer.Option(help="Messages leased per batch")] = 100,
    lease_seconds: Annotated[int, typer.Option(help="Lease per batch")] = 300,
    max_attempts: Annotated[int, typer.Option(help="Attempts before dead-letter")] = 6,
    backoff_seconds: Annotated[float, typer.Option(help="First retry delay")] = 30.0,
    rate: Annotated[list[str] | None, typer.Option(
        help="Rate limit per channel, e.g. sms=50/s (repeatable)")] = None,
    until_idle: Annotated[bool, typer.Option(
        "--until-idle", help="Exit when nothing is due now")] = False,
    poll: Annotated[float, typer.Option(help="Seconds between polls when idle")] = 2.0,
    sink_dir: Annotated[Path | None, typer.Option(help="Local sinks directory")] = None,
    smtp: Annotated[str | None, typer.Option(help="SMTP server HOST:PORT")] = None,
    sms_webhook: Annotated[str | None, typer.Option(help="SMS gateway JSON webhook URL")]
    = None,
    http_timeout: Annotated[float, typer.Option(help="Gateway timeout, seconds")] = 10.0,
    at: AtOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Deliver the notification outbox: at least once, with retries, backoff, dead-letter,
    rate limits, and a compliance check at the instant of sending."""
    if not 1 <= batch_size <= MAX_BATCH:
        fail("--batch-size", f"must be from 1 to {MAX_BATCH:,} (got {batch_size})")
    if not 1 <= max_attempts <= MAX_ATTEMPTS:
        fail("--max-attempts", f"must be a whole number from 1 to {MAX_ATTEMPTS} "
                               f"(got {max_attempts})")
    policy = notifications.DeliveryPolicy(
        batch_size=batch_size, max_attempts=max_attempts,
        lease=_seconds(_wait(lease_seconds, "--lease-seconds", LONGEST_WAIT_SECONDS)),
        backoff_base=_seconds(_wait(backoff_seconds, "--backoff-seconds", BACKOFF_CAP_SECONDS)))
    _wait(poll, "--poll", LONGEST_WAIT_SECONDS)
    _wait(http_timeout, "--http-timeout", LONGEST_WAIT_SECONDS)
    built = _services(db, at)
    channel_settings = ChannelSettings.from_env(
        sink_dir=sink_dir, smtp=smtp, sms_webhook=sms_webhook, http_timeout=http_timeout)
    channels = build_channels(channel_settings, built.engine, built.clock)
    limiter = notifications.RateLimiter(_rates(rate or []))
    name = worker_id or f"{socket.gethostname()}-{os.getpid()}"
    totals: dict[str, int] = {"batches": 0, "claimed": 0, "delivered": 0, "failed": 0,
                              "deferred": 0, "blocked": 0, "dead": 0}
    try:
        while True:
            reports = notifications.drain(uow_factory=built.uow_factory, channels=channels,
                                          clock=built.clock, worker=name, policy=policy,
                                          limiter=limiter)
            for report in reports:
                totals["batches"] += 1
                for key in ("claimed", "delivered", "failed", "deferred", "blocked", "dead"):
                    totals[key] += getattr(report, key)
            if until_idle:
                break
            if not reports:
                time.sleep(poll)
    except KeyboardInterrupt:
        pass
    finally:
        for channel in channels.values():
            channel.close()
    if as_json:
        emit_json(totals)
    else:
        console().print(totals)


def _at_most(value: int, field: str, most: int) -> None:
    # The store holds 64-bit integers; a larger count or fee is a typo, not a business.
    if value > most:
        fail(field, f"must be at most {most:,} (got {value})")


def _seconds(value: float) -> timedelta:
    return timedelta(seconds=value)


def _wait(value: float, field: str, most: float) -> float:
    """`value` if it is a wait in seconds the worker can keep; NaN, an infinity, zero or a
    negative would make every retry immediate (so dead-letter at once) or overflow."""
    if not (math.isfinite(value) and 0 < value <= most):
        fail(field, f"must be a number of seconds above 0 and at most {most:g} (got {value})")
    return value


@strategies_app.command("run")
def strategies_run(
    day: Annotated[str, typer.Option("--day", help="The closed business date")],
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Settle promises to pay and recount agency recoveries for --day, sync cases with the
    buckets EOD left for it, then plan the next business date's collection actions for every
    overdue or due loan."""
    business_date = _day(day, "--day")
    built = _services(db, None)
    with user_errors():
        casework.evaluate_promises(business_date, uow_factory=built.uow_factory,
                                   clock=built.clock)
        casework.refresh_recoveries(business_date, uow_factory=built.uow_factory)
        handlers.sync_cases(business_date, uow_factory=built.uow_factory, clock=built.clock)
        report = handlers.run_strategies(
            business_date, uow_factory=built.uow_factory, clock=built.clock,
            renderer=JinjaRenderer(), strategies=handlers.default_strategies())
    document = report.document()
    emit_json(document) if as_json else console().print(document)


@strategies_app.command("check")
def strategies_check(
    path: Annotated[Path, typer.Argument(metavar="STRATEGY.toml")],
    as_json: JsonFlag = False,
) -> None:
    """Validate a strategy file (errors name the field)."""
    with user_errors():
        strategy = load_strategy_file(path)
    _check_templates(strategy)
    document = {"strategy": strategy.name, "product": strategy.product,
                "steps": {arm: len(steps) for arm, steps in strategy.arms.items()}}
    emit_json(document) if as_json else console().print(document)


def _check_templates(strategy: Strategy) -> None:
    # A step naming a missing template would pass here and then fail at every send.
    for arm, steps in strategy.arms.items():
        for index, step in enumerate(steps):
            missing = [language for language in LANGUAGES if step.template and not (
                TEMPLATES / language / f"{step.template}.txt.j2").is_file()]
            if missing:
                fail(f"strategy.{arm}[{index}].template",
                     f"no template {step.template!r} in {', '.join(missing)}")


@cases_app.command("list")
def cases_list(
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Open cases by queue and agency."""
    built = _services(db, None)
    with built.uow_factory() as uow:
        document = collections_demo.collections_summary_in(uow)
    emit_json(document) if as_json else console().print(document)


@agencies_app.command("add")
def agencies_add(
    agency_ref: Annotated[str, typer.Argument(metavar="AGENCY_ID")],
    name: Annotated[str, typer.Option(help="Registered name")],
    licence: Annotated[str, typer.Option(help="Licence number")],
    valid_from: Annotated[str, typer.Option(help="Licence valid from (YYYY-MM-DD)")],
    valid_until: Annotated[str, typer.Option(help="Licence valid until (YYYY-MM-DD)")],
    capacity: Annotated[int, typer.Option(help="Cases it may hold at once")],
    commission_rate: Annotated[str, typer.Option(help="Share of recoveries, e.g. 0.15")],
    fixed_fee: Annotated[int, typer.Option(help="Fixed fee per case, minor units")] = 0,
    whitelisted: Annotated[bool, typer.Option(help="On the published whitelist")] = True,
    jurisdiction: Annotated[str, typer.Option(help="CN or US")] = "CN",
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Add a licensed agency (checked: licence dates, capacity, commission terms)."""
    _at_most(capacity, "--capacity", MAX_CAPACITY)
    _at_most(fixed_fee, "--fixed-fee", MAX_MINOR_UNITS)
    built = _services(db, None)
    with user_errors():
        agency = handlers.Agency(
            agency_ref=agency_ref, name=name, licence_no=licence,
            licence_valid_from=_day(valid_from, "--valid-from"),
            licence_valid_until=_day(valid_until, "--valid-until"), whitelisted=whitelisted,
            capacity=capacity, commission_rate=handlers.parse_rate(commission_rate),
            fixed_fee=fixed_fee)
        handlers.add_agency(agency, jurisdiction=jurisdiction, uow_factory=built.uow_factory)
    document = {"agency": agency_ref, "added": True}
    emit_json(document) if as_json else console().print(document)


@agencies_app.command("performance")
def agencies_performance(
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Recovery rate and complaints per 1,000 contacts for each agency."""
    built = _services(db, None)
    with built.uow_factory() as uow:
        rows = uow.collections.agency_performance()
    document = {"agencies": rows}
    emit_json(document) if as_json else console().print(document)


CaseArgument = Annotated[int, typer.Argument(metavar="CASE_ID", min=1, max=2**62)]
OPERATOR = "cli"  # who placed or recalled, as the events name it


@agencies_app.command("place")
def agencies_place(
    case_id: CaseArgument,
    agency: Annotated[str, typer.Option(help="The agency id to place the case with")],
    days: Annotated[int, typer.Option(help="Days the placement lasts")] = PLACEMENT_DAYS,
    scope: Annotated[str, typer.Option(help="remote, or remote+visit to allow field "
                                            "visits")] = "remote",
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Place an open case with an agency on the open business date (checked: whitelisted,
    licensed, under capacity, its first letter allowed); the case's collector stops holding
    it and their credentials on it are revoked."""
    built = _services(db, None)
    with user_errors(), _placement_options():
        with built.uow_factory() as uow:
            on = open_business_date(uow)
        placed = handlers.place_case(case_id, agency, on, by=OPERATOR, scope=scope, days=days,
                                     uow_factory=built.uow_factory, clock=built.clock)
    document = {"case_id": case_id, "agency": placed.agency_ref, "placed_on": on.isoformat(),
                "ends_on": placed.ends_on.isoformat(), "loans": list(placed.loan_refs),
                "credentials_revoked": list(placed.credentials_revoked)}
    emit_json(document) if as_json else console().print(document)


@contextmanager
def _placement_options() -> Iterator[None]:
    """A placement's refusal named as the command's argument or option."""
    try:
        yield
    except DomainError as error:
        named = {"case_id": "CASE_ID", "agency_id": "--agency", "days": "--days",
                 "scope": "--scope"}.get(error.field, error.field)
        raise DomainError(named, error.reason) from None


@agencies_app.command("recall")
def agencies_recall(
    case_id: CaseArgument,
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Recall a case from its agency on the open business date: the agency's credentials on it
    are revoked at once and the case returns to an internal queue at the next case sync."""
    built = _services(db, None)
    with user_errors():
        with built.uow_factory() as uow:
            on = open_business_date(uow)
        if not handlers.recall_case(case_id, on, by=OPERATOR, uow_factory=built.uow_factory,
                                    clock=built.clock):
            raise DomainError("CASE_ID", f"case {case_id} is not an open case placed with an "
                                         "agency")
    document = {"case_id": case_id, "recalled_on": on.isoformat()}
    emit_json(document) if as_json else console().print(document)


LoanArgument = Annotated[str, typer.Argument(metavar="LOAN_ID")]


@contacts_app.command("log")
def contacts_log(
    loan: LoanArgument,
    actor: Annotated[str, typer.Option(help="Collector id, or agency:<AGENCY_ID>")],
    outcome: Annotated[str, typer.Option(
        help="no_answer, busy, voicemail, conversation, refused or wrong_party")],
    at: Annotated[str, typer.Option("--at", help="When, an ISO instant with UTC offset")],
    channel: Annotated[str, typer.Option(help="call, sms, email, app_push or letter")] = "call",
    notes: Annotated[str, typer.Option(help="What was said or done")] = "",
    recording: Annotated[str, typer.Option(help="Reference of the call recording")] = "",
    complaint: Annotated[bool, typer.Option(help="The borrower complained")] = False,
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Log a contact and its outcome. The compliance engine decides it first: a contact it
    would block is refused (exit 2, the rule ids on stderr) and nothing is logged."""
    instant = _instant(at, "--at")
    built = _services(db, None)
    with user_errors():
        logged = casework.log_contact(loan, actor=actor, channel=channel, outcome=outcome,
                                      at=instant, notes=notes, recording_ref=recording,
                                      complaint=complaint, uow_factory=built.uow_factory)
    document = {"loan_id": loan, "contact_id": logged.contact_id, "logged": True,
                "pack": logged.decision.pack, "pack_version": logged.decision.pack_version}
    emit_json(document) if as_json else console().print(document)


@promises_app.command("add")
def promises_add(
    loan: LoanArgument,
    amount: Annotated[str, typer.Option(help="Promised amount, e.g. 300.00")],
    due: Annotated[str, typer.Option(help="Promised by this date (YYYY-MM-DD)")],
    collector: Annotated[str, typer.Option(
        help="Collector id or agency:<AGENCY_ID> who took it")] = "",
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Record a promise to pay; EOD settles it as kept or broken."""
    due_on = _day(due, "--due")
    built = _services(db, None)
    with built.uow_factory() as uow:
        booked = uow.book.get(loan)
    if booked is None:
        fail("LOAN_ID", f"no loan {loan!r}")
    with user_errors():
        units = loan_file.parse_amount(amount, booked.loan.currency, "--amount")
        promise_id = casework.record_promise(loan, units, due_on, collector=collector,
                                             uow_factory=built.uow_factory, clock=built.clock)
    document = {"loan_id": loan, "promise_id": promise_id,
                "amount": loan_file.money_text(units, booked.loan.currency),
                "due_on": due_on.isoformat()}
    emit_json(document) if as_json else console().print(document)


@promises_app.command("evaluate")
def promises_evaluate(
    day: Annotated[str, typer.Option("--day", help="The closed business date")],
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Settle open promises after EOD of --day (kept, broken, still open)."""
    business_date = _day(day, "--day")
    built = _services(db, None)
    with user_errors():
        report = casework.evaluate_promises(business_date, uow_factory=built.uow_factory,
                                            clock=built.clock)
    document = {"business_date": business_date.isoformat(), "kept": report.kept,
                "broken": report.broken, "open": report.open}
    emit_json(document) if as_json else console().print(document)


@collectors_app.command("add")
def collectors_add(
    collector: Annotated[str, typer.Argument(metavar="COLLECTOR_ID")],
    name: Annotated[str, typer.Option(help="Name")],
    bucket: Annotated[list[str], typer.Option(help="Bucket worked, e.g. M1 (repeat)")],
    language: Annotated[list[str] | None, typer.Option(
        help="Language spoken, e.g. zh-CN (repeat; none = any)")] = None,
    capacity: Annotated[int, typer.Option(help="Open cases at once")] = 300,
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Put a collector on file (cases are assigned at the next case sync)."""
    _at_most(capacity, "--capacity", MAX_CAPACITY)
    built = _services(db, None)
    with user_errors():
        casework.add_collector(collector, name, languages=tuple(language or ()),
                               buckets=tuple(bucket), capacity=capacity,
                               uow_factory=built.uow_factory)
    document = {"collector": collector, "added": True}
    emit_json(document) if as_json else console().print(document)


@collectors_app.command("deactivate")
def collectors_deactivate(
    collector: Annotated[str, typer.Argument(metavar="COLLECTOR_ID")],
    reason: Annotated[str, typer.Option(help="Why, kept with each credential revoked")],
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Take a collector off the floor: their open cases go back to the next case sync, every
    credential they hold is revoked (a borrower checking it reads it as revoked), their API
    keys are revoked and web users disabled, and field visits ahead naming them cancelled."""
    built = _services(db, None)
    with user_errors():
        done = casework.deactivate_collector(collector, reason=reason,
                                             uow_factory=built.web_uow_factory(),
                                             clock=built.clock,
                                             zone=built.settings.business_time_zone)
    document = {"collector": collector, "deactivated": True,
                "cases_released": done.cases_released,
                "credentials_revoked": list(done.credentials_revoked),
                "api_keys_revoked": list(done.api_keys_revoked),
                "web_users_disabled": list(done.web_users_disabled),
                "visits_cancelled": done.visits_cancelled}
    emit_json(document) if as_json else console().print(document)


@collectors_app.command("credential")
def collectors_credential(
    collector: Annotated[str, typer.Argument(metavar="COLLECTOR_ID")],
    credential: Annotated[str, typer.Argument(metavar="CREDENTIAL_ID")],
    valid_from: Annotated[str, typer.Option(help="ISO instant with UTC offset")],
    valid_until: Annotated[str, typer.Option(help="ISO instant with UTC offset (exclusive)")],
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Issue a collector's signed general badge (field visits need credentialed collectors);
    `arrears credentials issue` signs one for a debt and scope."""
    start = _instant(valid_from, "--valid-from")
    end = _instant(valid_until, "--valid-until")
    built = _services(db, None)
    with user_errors():
        issued = credentials.issue_badge(collector, credential, start, end,
                                         uow_factory=built.uow_factory, keys=built.keys,
                                         clock=built.clock, issuer=handlers.Lender().name_en)
    document = {"collector": collector, "credential": credential, "added": True,
                "token": issued.token, "kid": issued.kid}
    emit_json(document) if as_json else console().print(document)


@visits_app.command("authorize")
def visits_authorize(
    authorization: Annotated[str, typer.Argument(metavar="AUTHORIZATION_ID")],
    loan: Annotated[str, typer.Option(help="The loan the visit is about")],
    collector: Annotated[list[str], typer.Option(help="Collector who may attend (repeat)")],
    issued_at: Annotated[str, typer.Option(help="ISO instant with UTC offset")],
    valid_until: Annotated[str, typer.Option(help="ISO instant with UTC offset (exclusive)")],
    written: Annotated[bool, typer.Option(help="A written authorization")] = True,
    recording: Annotated[bool, typer.Option(help="The whole visit is recorded")] = True,
    legal_reviewer: Annotated[str, typer.Option(help="Who reviewed it for legal")] = "",
    legal_review_at: Annotated[str | None, typer.Option(
        help="When the legal review was done (ISO instant)")] = None,
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Record a creditor's field-visit authorization; the engine judges it at visit time."""
    request = casework.VisitAuthorizationRequest(
        authorization_ref=authorization, loan_ref=loan, collectors=tuple(collector),
        issued_at=_instant(issued_at, "--issued-at"),
        valid_until=_instant(valid_until, "--valid-until"), written=written,
        recording=recording, legal_reviewer=legal_reviewer,
        legal_review_at=_instant(legal_review_at, "--legal-review-at")
        if legal_review_at else None)
    built = _services(db, None)
    with user_errors():
        casework.authorize_visit(request, uow_factory=built.uow_factory)
    document = {"authorization": authorization, "loan_id": loan, "added": True}
    emit_json(document) if as_json else console().print(document)


VISIT_REFUSED_EXIT = 1


@visits_app.command("request")
def visits_request(
    loan: LoanArgument,
    at: Annotated[str, typer.Option("--at", help="When, an ISO instant with UTC offset")],
    authorization: Annotated[str, typer.Option(
        help="Authorization id (default: the latest valid one on file)")] = "",
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Ask for a field visit: it is recorded only when the compliance engine allows it.
    Exit 0 when allowed, 1 when refused (the rule ids say why)."""
    instant = _instant(at, "--at")
    built = _services(db, None)
    with user_errors():
        outcome = casework.request_visit(loan, instant, authorization_ref=authorization,
                                         uow_factory=built.uow_factory)
    document = {"loan_id": loan, "allowed": outcome.allowed,
                "authorization": outcome.authorization_ref, "recorded": outcome.recorded,
                "rule_ids": list(outcome.rule_ids), "reason": outcome.reason,
                "next_allowed_at": outcome.next_allowed_at.isoformat()
                if outcome.next_allowed_at else None}
    emit_json(document) if as_json else console().print(document)
    if not outcome.allowed:
        raise typer.Exit(VISIT_REFUSED_EXIT)


def main() -> None:
    from arrears.entrypoints.cli.main import run  # the module is `__main__` when run with -m

    run()


if __name__ == "__main__":
    main()
