"""A lender's hardship-plan policy per product, as data (`default_plan_policies.json` beside
the products, stored with them): which kinds may be offered, who is eligible, the limits of a
plan, who may approve it, and what a broken plan does.

    {"WLD-DAILY": {
       "kinds": ["reage", "deferral", ...],       plan kinds the product allows
       "dpd": [1, 90],                              eligible days past due, inclusive
       "plans_per_year": 2,                         plans a loan may take in 365 days
       "max_extra_terms": 12,                       months a plan may extend the last due date
       "max_waiver_share": "0.5",                   of what the borrower owes, at most forgiven
       "min_first_payment": "100.00",               the first installment under a plan asks at
                                                    least this (no token first payments)
       "collector_waiver_limit": "500.00",          above it a supervisor approves
       "broken_after_days": 15,                     days past due under the plan that break it
       "kept_after_payments": 3,                    installments paid under it that keep it
       "on_break": "keep"}}                         keep the concessions, or "revert" the plan

Amounts are decimal strings in the loan's currency. Interpretations: a settlement's waiver is
what it forgives (owed less the offer); "revert" rescinds the plan from its date (the loan is
restated without it, so what it waived or moved is owed again, with the penalty since).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from arrears.application.loan_file import parse_amount, parse_enum
from arrears.domain.errors import DomainError
from arrears.domain.money import parse_decimal
from arrears.domain.plans import PlanKind

FIELDS = {"kinds", "dpd", "plans_per_year", "max_extra_terms", "max_waiver_share",
          "min_first_payment", "collector_waiver_limit", "broken_after_days",
          "kept_after_payments", "on_break"}
ON_BREAK = ("keep", "revert")
MAX_DPD = 3650


class InvalidPolicy(DomainError):
    """A plan policy breaks a rule of its format."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanPolicy:
    kinds: frozenset[PlanKind]
    min_dpd: int
    max_dpd: int
    plans_per_year: int
    max_extra_terms: int
    max_waiver_share: Decimal
    min_first_payment: str  # decimal text: minor units depend on the loan's currency
    collector_waiver_limit: str
    broken_after_days: int
    kept_after_payments: int
    on_break: str

    def first_payment(self, currency: str) -> int:
        return parse_amount(self.min_first_payment, currency, "policy.min_first_payment",
                            positive=False)

    def waiver_limit(self, currency: str) -> int:
        return parse_amount(self.collector_waiver_limit, currency,
                            "policy.collector_waiver_limit", positive=False)


def _count(doc: Mapping[str, Any], key: str, path: str, low: int, high: int) -> int:
    value = doc.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidPolicy(f"{path}.{key}", f"must be a whole number from {low} to {high}")
    return value


def _amount_text(doc: Mapping[str, Any], key: str, path: str) -> str:
    value = doc.get(key)
    if not isinstance(value, str):
        raise InvalidPolicy(f"{path}.{key}", "must be a decimal string such as \"100.00\"")
    if parse_decimal(value, f"{path}.{key}") < 0:
        raise InvalidPolicy(f"{path}.{key}", "must not be negative")
    return value


def parse_policy(value: Any, path: str = "policy") -> PlanPolicy:
    """One product's policy, or `InvalidPolicy` naming the field."""
    if not isinstance(value, Mapping):
        raise InvalidPolicy(path, "must be a JSON object")
    for key in value:
        if key not in FIELDS:
            raise InvalidPolicy(f"{path}.{key}", "is not a known field")
    for key in FIELDS:
        if key not in value:
            raise InvalidPolicy(f"{path}.{key}", "is required")
    kinds = value["kinds"]
    if not isinstance(kinds, list):
        raise InvalidPolicy(f"{path}.kinds", "must be a list of plan kinds")
    dpd = value["dpd"]
    if not (isinstance(dpd, list) and len(dpd) == 2
            and all(isinstance(d, int) and not isinstance(d, bool) for d in dpd)
            and 0 <= dpd[0] <= dpd[1] <= MAX_DPD):
        raise InvalidPolicy(f"{path}.dpd", f"must be [lowest, highest] DPD within 0..{MAX_DPD}")
    share = parse_decimal(_amount_text(value, "max_waiver_share", path),
                          f"{path}.max_waiver_share")
    if share > 1:
        raise InvalidPolicy(f"{path}.max_waiver_share", "must be a share from 0 to 1")
    if value["on_break"] not in ON_BREAK:
        raise InvalidPolicy(f"{path}.on_break", f"must be one of {', '.join(ON_BREAK)}")
    return PlanPolicy(
        kinds=frozenset(parse_enum(PlanKind, kind, f"{path}.kinds") for kind in kinds),
        min_dpd=dpd[0], max_dpd=dpd[1],
        plans_per_year=_count(value, "plans_per_year", path, 0, 12),
        max_extra_terms=_count(value, "max_extra_terms", path, 0, 360),
        max_waiver_share=share,
        min_first_payment=_amount_text(value, "min_first_payment", path),
        collector_waiver_limit=_amount_text(value, "collector_waiver_limit", path),
        broken_after_days=_count(value, "broken_after_days", path, 1, 365),
        kept_after_payments=_count(value, "kept_after_payments", path, 1, 360),
        on_break=value["on_break"],
    )
