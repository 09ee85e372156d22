"""Errors the domain raises, each naming the offending field and the reason."""

from __future__ import annotations

from typing import Any, TypeVar

Error = TypeVar("Error", bound=BaseException)


class DomainError(ValueError):
    """A rule of the domain refused an input. `field` names what was wrong."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason

    def __reduce__(self) -> tuple[Any, ...]:
        return pickled(self)


def pickled(error: BaseException) -> tuple[Any, ...]:
    """`__reduce__` for an error whose `__init__` does not take its own `args` back (here
    `args` holds the message alone): rebuilt from its state, so that one raised in a worker
    process reaches the caller as itself."""
    return (restored, (type(error), error.args, error.__dict__))


def restored(kind: type[Error], args: tuple[Any, ...], state: dict[str, Any]) -> Error:
    error = kind.__new__(kind)
    error.args = args
    error.__dict__.update(state)
    return error


class InvalidProduct(DomainError):
    """A product definition breaks a rule (unknown method, APR over the cap, ...)."""


class InvalidLoan(DomainError):
    """A loan, its terms or one of its payments is malformed."""


class PaymentRejected(DomainError):
    """A payment cannot be applied (before disbursement, conflicting idempotency key, ...)."""
