"""Collection strategies as data: one TOML file per product, validated at load with errors that
name the field (`strategy.champion[2].day: …`).

A step fires for a loan when `d`, the days from the due date of its earliest unpaid installment
to the planned date, equals `day`, or lies in `[from, to]` on an `every`-day rhythm (negative
`d` = before the due date, 0 = on it, positive = days past due). The product's reminder offsets
(`Product.reminders.days`) become steps of the `[reminders]` channels. A stable hash of the loan
id (with the strategy's `salt`) puts `challenger_percent` % of loans in the challenger arm.

    name = "wld-daily-v1"
    product = "WLD-DAILY"
    send_time = "10:00"          # the recipient's local time
    challenger_percent = 20
    salt = "2026"
    [reminders]
    channels = ["sms"]
    [[champion]]
    name = "call-d3"
    kind = "call"
    day = 3
    template = "call"
    [[champion]]                 # a message that offers a hardship plan (proposed for approval)
    name = "offer-d20"
    kind = "sms"
    day = 20
    offer = { kind = "reage", terms = 6 }
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass
from datetime import time
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

from arrears.application.loan_file import parse_plan
from arrears.domain.errors import DomainError

ARMS = ("champion", "challenger")
STEP_FIELDS = {"name", "kind", "day", "from", "to", "every", "template", "scope", "days",
               "offer"}
# A plan offer's terms are a plan object (`plan_file`) the book completes: its id and date.
# The offer states the new schedule's payments and total; a settlement asks one discounted
# sum by a deadline, which that message would misstate, so no step offers one.
PLACEMENT_DAYS = 90  # how long an agency holds a case unless a strategy or its step says
MAX_PLACEMENT_DAYS = 3650
PLACEMENT_SCOPES = ("remote", "remote+visit")  # field visits only under the second
OFFER_KINDS = ("reage", "deferral", "reamortize", "holiday", "waiver", "rate_reduction")
# Placeholders that let the terms be checked as a plan when the strategy is read.
_CHECK_DAY = "2000-01-01"
_CHECK_FIRST_DUE = "2000-02-01"
TOP_FIELDS = {"name", "product", "send_time", "challenger_percent", "salt", "reminders",
              "champion", "challenger", "placement_days", "description"}


class StrategyError(DomainError):
    """A strategy file is not valid; `field` is the path in the file."""


class StepKind(StrEnum):
    SMS = "sms"
    EMAIL = "email"
    APP_PUSH = "app_push"
    CALL = "call"
    LETTER = "letter"
    AGENCY_PLACEMENT = "agency_placement"
    LEGAL_REVIEW = "legal_review"
    FIELD_VISIT = "field_visit"


MESSAGE_KINDS = frozenset({StepKind.SMS, StepKind.EMAIL, StepKind.APP_PUSH, StepKind.CALL,
                           StepKind.LETTER})
DEFAULT_TEMPLATES = {StepKind.SMS: "overdue", StepKind.EMAIL: "notice",
                     StepKind.APP_PUSH: "overdue", StepKind.CALL: "call",
                     StepKind.LETTER: "notice"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    name: str
    kind: StepKind
    first: int
    last: int
    every: int = 1
    template: str = ""
    scope: str = "remote"
    """For agency placements: what the agency may do."""
    days: int = 0
    """For agency placements: how long the placement lasts (0 = the strategy's default)."""
    reminder: bool = False
    """A due-date reminder from the product's offsets: the one contact a hardship plan being
    kept still gets."""
    offer: str = ""
    """For a message that offers a hardship plan: its terms, as canonical JSON."""

    @property
    def offer_terms(self) -> dict[str, Any]:
        return json.loads(self.offer) if self.offer else {}

    def fires(self, d: int) -> bool:
        return self.first <= d <= self.last and (d - self.first) % self.every == 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Strategy:
    name: str
    product: str
    send_time: time
    challenger_percent: int
    salt: str
    reminder_channels: tuple[StepKind, ...]
    arms: dict[str, tuple[Step, ...]]
    placement_days: int = PLACEMENT_DAYS

    def arm_of(self, loan_ref: str) -> str:
        """Champion or challenger, by a stable hash of the loan id (same loan, same arm)."""
        digest = hashlib.sha256(f"{self.salt}:{loan_ref}".encode()).digest()
        return "challenger" if int.from_bytes(digest[:8], "big") % 100 < \
            self.challenger_percent else "champion"

    def steps_for(self, arm: str, d: int, reminder_days: tuple[int, ...]) -> list[Step]:
        """The steps that fire at `d` in `arm`, reminders (from the product) first."""
        fired: list[Step] = []
        if d in reminder_days:
            template = "reminder" if d <= 0 else "overdue"
            for channel in self.reminder_channels:
                fired.append(Step(name=f"reminder{d:+d}-{channel.value}", kind=channel,
                                  first=d, last=d, template=template, reminder=True))
        fired.extend(step for step in self.arms[arm] if step.fires(d))
        return fired

    def fire_days(self, reminder_days: tuple[int, ...]) -> frozenset[int]:
        """Every `d` at which some step of either arm, or a reminder, fires."""
        days = {d for arm in self.arms.values() for step in arm
                for d in range(step.first, step.last + 1, step.every)}
        if self.reminder_channels:
            days.update(reminder_days)
        return frozenset(days)


def _int(value: Any, field: str, *, minimum: int | None = None,
         maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise StrategyError(field, f"must be a whole number (got {value!r})")
    if minimum is not None and value < minimum:
        raise StrategyError(field, f"must be at least {minimum} (got {value})")
    if maximum is not None and value > maximum:
        raise StrategyError(field, f"must be at most {maximum} (got {value})")
    return value


def _str(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise StrategyError(field, "must be a non-empty string")
    return value.strip()


def _kind(value: Any, field: str) -> StepKind:
    try:
        return StepKind(value)
    except ValueError:
        known = ", ".join(k.value for k in StepKind)
        raise StrategyError(field, f"unknown kind {value!r} (expected one of {known})") from None


def _step(raw: Any, field: str) -> Step:
    if not isinstance(raw, dict):
        raise StrategyError(field, "must be a table")
    for key in raw:
        if key not in STEP_FIELDS:
            raise StrategyError(f"{field}.{key}", "unknown field")
    name = _str(raw.get("name"), f"{field}.name")
    kind = _kind(raw.get("kind"), f"{field}.kind")
    if "day" in raw:
        if "from" in raw or "to" in raw:
            raise StrategyError(f"{field}.day", "give either day or from/to, not both")
        first = last = _int(raw["day"], f"{field}.day", minimum=-60, maximum=3650)
    elif "from" in raw:
        first = _int(raw["from"], f"{field}.from", minimum=-60, maximum=3650)
        last = _int(raw.get("to", first), f"{field}.to", minimum=first, maximum=3650)
    else:
        raise StrategyError(f"{field}.day", "missing (or give from/to)")
    every = _int(raw.get("every", 1), f"{field}.every", minimum=1, maximum=365)
    offer = _offer(raw["offer"], f"{field}.offer", kind) if "offer" in raw else ""
    template = raw.get("template", "plan_offer" if offer else DEFAULT_TEMPLATES.get(kind, ""))
    if kind in MESSAGE_KINDS:
        template = _str(template, f"{field}.template")
    elif "template" in raw:
        raise StrategyError(f"{field}.template", f"a {kind.value} step sends no message")
    if kind in (StepKind.AGENCY_PLACEMENT, StepKind.LEGAL_REVIEW, StepKind.FIELD_VISIT) \
            and first < 1:
        raise StrategyError(f"{field}.day", f"a {kind.value} needs the loan past due (day ≥ 1)")
    scope = raw.get("scope", "remote")
    if scope not in PLACEMENT_SCOPES:
        raise StrategyError(f"{field}.scope", "must be 'remote' or 'remote+visit'")
    days = _int(raw.get("days", 0), f"{field}.days", minimum=0, maximum=MAX_PLACEMENT_DAYS)
    return Step(name=name, kind=kind, first=first, last=last, every=every, template=template,
                scope=scope, days=days, offer=offer)


def _offer(raw: Any, field: str, kind: StepKind) -> str:
    """A plan offer's terms, checked for shape here; the plan policy and the cost cap judge
    them for each loan when the step fires."""
    if kind not in MESSAGE_KINDS:
        raise StrategyError(field, f"a {kind.value} step sends no message to offer a plan in")
    if not isinstance(raw, dict):
        raise StrategyError(field, "must be a table, e.g. { kind = \"reage\", terms = 6 }")
    if raw.get("kind") not in OFFER_KINDS:
        raise StrategyError(f"{field}.kind", f"must be one of {', '.join(OFFER_KINDS)} "
                                             f"(got {raw.get('kind')!r})")
    for key in ("plan_id", "effective_on", "proposed_by", "approved_by"):
        if key in raw:
            raise StrategyError(f"{field}.{key}", "is chosen by the book when the step fires")
    try:
        text = json.dumps(raw, sort_keys=True, default=str)
    except (TypeError, ValueError) as error:
        raise StrategyError(field, f"cannot be read as plan terms: {error}") from None
    # The terms as the book will read them (a TOML float rate or share is refused here, not
    # on every firing); the policy and the cap still judge each loan's plan.
    terms = {"first_due_on": _CHECK_FIRST_DUE} if raw["kind"] == "reage" else {}
    try:
        parse_plan({**terms, **json.loads(text), "plan_id": "offer",
                    "effective_on": _CHECK_DAY}, "CNY")
    except DomainError as error:
        raise StrategyError(error.field.replace("plan", field, 1), error.reason) from None
    return text


def parse_strategy(document: Any, source: str = "strategy") -> Strategy:
    """A validated strategy from a parsed TOML document."""
    field = "strategy"
    if not isinstance(document, dict):
        raise StrategyError(field, f"{source} must be a table")
    for key in document:
        if key not in TOP_FIELDS:
            raise StrategyError(f"{field}.{key}", "unknown field")
    name = _str(document.get("name"), f"{field}.name")
    product = _str(document.get("product"), f"{field}.product")
    raw_time = document.get("send_time", "10:00")
    try:
        send_time = time.fromisoformat(raw_time) if isinstance(raw_time, str) else raw_time
    except ValueError:
        raise StrategyError(f"{field}.send_time", f"{raw_time!r} is not HH:MM") from None
    if not isinstance(send_time, time):
        raise StrategyError(f"{field}.send_time", f"{raw_time!r} is not HH:MM")
    percent = _int(document.get("challenger_percent", 0), f"{field}.challenger_percent",
                   minimum=0, maximum=100)
    salt = str(document.get("salt", name))
    reminders = document.get("reminders", {})
    if not isinstance(reminders, dict):
        raise StrategyError(f"{field}.reminders", "must be a table")
    for key in reminders:
        if key != "channels":
            raise StrategyError(f"{field}.reminders.{key}", "unknown field")
    channels_raw = reminders.get("channels", [])
    if not isinstance(channels_raw, list):
        raise StrategyError(f"{field}.reminders.channels", "must be a list")
    channels = tuple(_kind(c, f"{field}.reminders.channels[{i}]")
                     for i, c in enumerate(channels_raw))
    for i, channel in enumerate(channels):
        if channel not in MESSAGE_KINDS - {StepKind.CALL, StepKind.LETTER}:
            raise StrategyError(f"{field}.reminders.channels[{i}]",
                                "reminders go by sms, email or app_push")
    arms: dict[str, tuple[Step, ...]] = {}
    for arm in ARMS:
        raw_steps = document.get(arm, [])
        if not isinstance(raw_steps, list):
            raise StrategyError(f"{field}.{arm}", "must be an array of tables ([[…]])")
        steps = tuple(_step(raw, f"{field}.{arm}[{i}]") for i, raw in enumerate(raw_steps))
        names = [s.name for s in steps]
        for i, step_name in enumerate(names):
            if names.index(step_name) != i:
                raise StrategyError(f"{field}.{arm}[{i}].name", f"duplicate step {step_name!r}")
        arms[arm] = steps
    if percent and not arms["challenger"]:
        raise StrategyError(f"{field}.challenger", "challenger_percent > 0 needs challenger steps")
    if not arms["challenger"]:
        arms["challenger"] = arms["champion"]
    placement_days = _int(document.get("placement_days", PLACEMENT_DAYS),
                          f"{field}.placement_days", minimum=1, maximum=MAX_PLACEMENT_DAYS)
    return Strategy(name=name, product=product, send_time=send_time, challenger_percent=percent,
                    salt=salt, reminder_channels=channels, arms=arms,
                    placement_days=placement_days)


def parse_strategy_text(text: str, source: str = "strategy") -> Strategy:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise StrategyError("strategy", f"{source} is not valid TOML: {error}") from None
    except RecursionError:  # tomllib recurses once per level of nested arrays or tables
        raise StrategyError("strategy", f"{source} is nested too deeply") from None
    return parse_strategy(document, source)


def load_strategy_file(path: Path) -> Strategy:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise StrategyError("strategy", f"cannot read {path}: {error.strerror}") from None
    except UnicodeDecodeError as error:
        raise StrategyError("strategy", f"{path} is not UTF-8 text (byte {error.start})"
                            ) from None
    return parse_strategy_text(text, str(path))


def default_strategies() -> dict[str, Strategy]:
    """The shipped strategies, one per default product, by product code."""
    folder = resources.files("arrears.application") / "strategies"
    found: dict[str, Strategy] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            strategy = parse_strategy_text(entry.read_text(encoding="utf-8"), entry.name)
            found[strategy.product] = strategy
    return found
