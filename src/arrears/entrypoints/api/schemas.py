"""Request and response shapes of the API. Money is a decimal string, dates ISO 8601; the
documents themselves come from the application's queries, so these models describe them
(extra members allowed) rather than rebuild them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from arrears.application.contact_decisions import CHANNELS
from arrears.application.contacts import CONTACT_OUTCOMES
from arrears.application.strategy import MAX_PLACEMENT_DAYS, PLACEMENT_DAYS
from arrears.application.webhooks import ALL_EVENTS, EVENT_TYPES, MAX_URL
from arrears.domain.dates import FIRST_DAY, LAST_DAY

MONEY = r"^-?\d{1,15}(\.\d{1,4})?$"
Money = Field(pattern=MONEY, examples=["916.80"], description="A decimal string")
Ref = Field(min_length=1, max_length=64)
Channel = Literal[CHANNELS]  # type: ignore[valid-type]
Outcome = Literal[tuple(CONTACT_OUTCOMES)]  # type: ignore[valid-type]


def _in_span(value: date) -> date:
    """Dates and instants from callers lie in the span `domain.dates` accepts: near years 1
    and 9999 the arithmetic behind them (a UTC instant, a window, a schedule) overflows."""
    day = value.date() if isinstance(value, datetime) else value
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"{day.isoformat()} is outside the years {FIRST_DAY.year}–"
                         f"{LAST_DAY.year}")
    return value


Day = Annotated[date, AfterValidator(_in_span)]
Instant = Annotated[datetime, AfterValidator(_in_span)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Document(BaseModel):
    model_config = ConfigDict(extra="allow")


class LoanCreate(Strict):
    """One loan with its borrower: the columns of the loans CSV."""

    loan_id: str = Ref
    borrower_id: str = Ref
    name: str = Field(min_length=1, max_length=200)
    national_id: str = Field(min_length=1, max_length=40)
    phone: str = Field(min_length=1, max_length=30)
    product: str = Field(min_length=1, max_length=40)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    principal: str = Money
    disbursed_on: Day
    terms: int = Field(ge=1, le=600)
    phone_time_zone: str = Field(default="", max_length=64)
    address: str = Field(default="", max_length=400)
    region: str = Field(default="", max_length=40)
    time_zone: str = Field(default="", max_length=64)
    language: str = Field(default="", max_length=10)
    contact_name: str = Field(default="", max_length=200)
    contact_relation: str = Field(default="", max_length=40)
    contact_phone: str = Field(default="", max_length=30)


class LoanBoard(Strict):
    loans: list[LoanCreate] = Field(min_length=1, max_length=1000)


class BoardRead(BaseModel):
    imported: int
    new_borrowers: int


class PaymentCreate(Strict):
    amount: str = Money
    on: Day


class CallbackPayment(PaymentCreate):
    loan_id: str = Ref


class PaymentRead(BaseModel):
    payment_id: int
    loan_id: str
    key: str
    on: date
    amount: str
    currency: str
    reverses: bool
    to_fee: str
    to_penalty: str
    to_compound: str
    to_interest: str
    to_principal: str
    to_credit: str


class LoanRead(Document):
    """The `arrears loan show --json` document."""

    loan_id: str
    as_of: date
    status: str
    dpd: int
    bucket: str
    total_due: str
    payoff_amount: str


class StatusRead(Document):
    """The `arrears loan status --json` document."""

    loan_id: str
    as_of: date
    status: str
    dpd: int
    bucket: str


class ScheduleRow(Document):
    number: int
    due_date: date
    payment: str


class ScheduleRead(BaseModel):
    loan_id: str
    currency: str
    installments: list[ScheduleRow]


class PayoffQuoteRead(BaseModel):
    loan_id: str
    on: date
    currency: str
    payoff_amount: str


class DecisionFromBook(Strict):
    loan_id: str = Ref
    channel: Channel
    at: Instant


class DecisionRead(Document):
    allowed: bool
    at: datetime
    pack: str
    pack_version: str
    next_allowed_at: datetime | None
    violations: list[dict[str, object]]
    flags: list[dict[str, object]]


class ContactCreate(Strict):
    outcome: Outcome
    at: Instant
    channel: Channel = "call"
    actor: str | None = Field(default=None, max_length=60,
                              description="Collector id; agency and collector keys act "
                                          "as themselves")
    notes: str = Field(default="", max_length=4000)
    recording_ref: str = Field(default="", max_length=200)
    complaint: bool = False


class ContactRead(BaseModel):
    loan_id: str
    contact_id: int
    pack: str
    pack_version: str


class PromiseCreate(Strict):
    amount: str = Money
    due_on: Day


class PromiseRead(BaseModel):
    loan_id: str
    promise_id: int
    amount: str
    due_on: date


class CaseRead(BaseModel):
    case_id: int
    borrower_id: str
    bucket: str
    queue: str
    collector_id: str | None
    agency_id: str | None
    balance: str
    opened_on: date
    loan_ids: list[str]


class CasePage(BaseModel):
    cases: list[CaseRead]
    next_cursor: str | None


class Assignment(Strict):
    collector_id: str = Field(min_length=1, max_length=40)


class PlacementRequest(Strict):
    agency_id: str = Field(min_length=1, max_length=40)
    days: int = Field(default=PLACEMENT_DAYS, ge=1, le=MAX_PLACEMENT_DAYS)
    scope: Literal["remote", "remote+visit"] = "remote"


class PlacementMade(BaseModel):
    case_id: int
    agency_id: str
    placed_on: date
    ends_on: date
    loan_ids: list[str]
    credentials_revoked: list[str]


class AgencyRead(BaseModel):
    agency_id: str
    name: str
    licence_no: str
    licence_valid_from: date
    licence_valid_until: date
    whitelisted: bool
    capacity: int


class AgencyPage(BaseModel):
    agencies: list[AgencyRead]
    next_cursor: str | None


class PlacementRead(BaseModel):
    case_id: int
    borrower_id: str
    bucket: str
    balance: str
    scope: str
    ends_on: date


class PlacementPage(BaseModel):
    placements: list[PlacementRead]
    next_cursor: str | None


class EodCreate(Strict):
    through: Day


class EodRunRead(BaseModel):
    business_date: date
    status: str
    loans_processed: int
    loans_failed: int


class Accepted(BaseModel):
    through: date
    status_url: str


class PortfolioRead(Document):
    as_of: date
    loans: int


EventType = Literal[(ALL_EVENTS, *EVENT_TYPES)]  # type: ignore[valid-type]


class SubscriptionCreate(Strict):
    url: str = Field(min_length=1, max_length=MAX_URL,
                     examples=["https://lender.example/arrears-events"],
                     description="https (plain http only to localhost)")
    event_types: list[EventType] = Field(min_length=1, max_length=len(EVENT_TYPES) + 1,
                                         description='Event types, or "*" for all')


class SubscriptionRead(BaseModel):
    id: str
    url: str
    event_types: list[str]
    created_at: datetime
    removed_at: datetime | None


class SubscriptionCreated(SubscriptionRead):
    secret: str = Field(description="The signing secret, shown only now")


class SubscriptionPage(BaseModel):
    subscriptions: list[SubscriptionRead]
    next_cursor: str | None


class DeliveryRead(BaseModel):
    id: str
    subscription_id: str
    event_id: str
    event_type: str
    status: Literal["pending", "sending", "delivered", "dead"]
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


class DeliveryPage(BaseModel):
    deliveries: list[DeliveryRead]
    next_cursor: str | None


class Redelivery(BaseModel):
    id: str
    next_attempt_at: datetime
