"""An error raised in a worker process (`read_ahead`: a payment file's chunks priced ahead, a
day's strategies planned ahead) reaches the caller by pickle: it must come back as itself,
not as a `TypeError` from calling its `__init__` with the message alone, which would leave
the caller a broken process pool instead of the reason."""

from __future__ import annotations

import pickle

import pytest

from arrears.adapters.db.engine import StoreUnavailable
from arrears.application.handlers.payments import KeyReused
from arrears.application.loan_import import ImportRejected, RowError
from arrears.domain.errors import DomainError, PaymentRejected


@pytest.mark.parametrize("error", [
    DomainError("amount", "must be positive"),
    PaymentRejected("on", "the book has no business date yet; run `arrears init`"),
    KeyReused("key", "'k-1' names another payment"),
    ImportRejected([RowError(line=3, field="principal", reason="not a number")]),
    StoreUnavailable("--db", "cannot open sqlite:///gone.db: unable to open database file"),
], ids=type)
def test_an_error_pickles_back_to_itself(error: Exception) -> None:
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is type(error)
    assert str(back) == str(error) and back.args == error.args
    assert vars(back) == vars(error)  # field, reason, and what a subclass adds (`errors`)
