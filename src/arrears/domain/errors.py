"""Errors the domain raises, each naming the offending field and the reason."""

from __future__ import annotations


class DomainError(ValueError):
    """A rule of the domain refused an input. `field` names what was wrong."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class InvalidProduct(DomainError):
    """A product definition breaks a rule (unknown method, APR over the cap, ...)."""


class InvalidLoan(DomainError):
    """A loan, its terms or one of its payments is malformed."""


class PaymentRejected(DomainError):
    """A payment cannot be applied (before disbursement, conflicting idempotency key, ...)."""
