"""Bureau files never cut a value to fit its field: an amount wider than a Metro 2 money field
or a loan id wider than (or outside) the ASCII account-number field is a user error naming the
field and the loan — cut, it would report another amount or, worse, another account."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from arrears.application.bureau import BureauRecord, Format, Subject
from arrears.batch import bureau as files
from arrears.domain.bureau.snapshot import Month, build_snapshot
from arrears.domain.errors import DomainError

from builders import loan

JANUARY = Month(2026, 1)
SUBJECT = Subject(name="Pat Q Doe", national_id="123-45-6789", address="1 Main St",
                  region="NY", phone="")


def _record(ref: str, **changes: object) -> BureauRecord:
    snapshot, _ = build_snapshot(loan(), [], JANUARY, None)
    assert snapshot is not None
    return BureauRecord(snapshot=replace(snapshot, loan_ref=ref, **changes), subject=SUBJECT)


def _build(kind: Format, *records: BureauRecord) -> bytes:
    return files.build_file(kind, list(records), reporter=files.Reporter(),
                            month_end=JANUARY.last, created=datetime(2026, 2, 1, tzinfo=UTC))


def test_an_amount_wider_than_its_metro2_field_is_a_user_error_naming_the_loan() -> None:
    # 10,000,000,000.00 yuan: boardable (below MAX_MINOR_UNITS), 11 whole digits in a 9.
    big = _record("L-BIG", principal=10**12)
    with pytest.raises(DomainError) as refused:
        _build(Format.METRO2, _record("L-OK"), big)
    assert refused.value.field == "highest_credit"
    assert "L-BIG" in refused.value.reason
    _build(Format.PBOC, _record("L-OK"), big)  # 15 digits of minor units: it fits


@pytest.mark.parametrize(("kind", "field"), [(Format.METRO2, "consumer_account_number"),
                                             (Format.PBOC, "account_id")])
@pytest.mark.parametrize("ref", ["L-" + "7" * 29, "贷款-0001"])
def test_a_loan_id_the_account_number_cannot_hold_is_refused_not_cut(kind, field, ref) -> None:
    """Two loans whose ids share 30 characters, or differ only outside ASCII, would be one
    account to the bureau."""
    with pytest.raises(DomainError) as refused:
        _build(kind, _record("L-OK"), _record(ref))
    assert refused.value.field == field
    assert ref in refused.value.reason
    assert _build(kind, _record("L-" + "7" * 28))  # exactly 30 characters fit
