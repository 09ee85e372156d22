"""Loans under a hardship plan never take the vectorised fast path: pauses, settlement offers
and re-aged rows are the domain's alone, so the executor sends them to `close_loan_day`."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from arrears.batch.columns import day_number
from arrears.batch.executor import StateColumns, plan_batch
from arrears.batch.kernels import NEVER
from arrears.domain.delinquency import BUCKETS, Bucket

from builders import loan as make_loan

DAY = date(2026, 3, 1)
DUE = DAY - timedelta(days=10)  # ten days late: M1 yesterday and today, no transition


def _state(planned: list[bool]) -> StateColumns:
    """One overdue installment per loan, alike but for whether the loan holds a plan."""
    count = len(planned)

    def column(value: int, dtype: type) -> np.ndarray:
        return np.full(count, value, dtype=dtype)

    columns = {
        "loan_key": np.arange(1, count + 1, dtype=np.int64),
        "number": column(1, np.int16), "product": column(0, np.int16),
        "due_on": column(day_number(DUE), np.int32),
        "unpaid_principal": column(100_000, np.int64), "unpaid_interest": column(1_500, np.int64),
        "unpaid_fee": column(0, np.int64), "penalty_accrued": column(0, np.int64),
        "compound_accrued": column(0, np.int64), "penalty_paid": column(0, np.int64),
        "compound_paid": column(0, np.int64),
        "prev_bucket": column(BUCKETS.index(Bucket.M1), np.int8),
        "written_off_on": column(NEVER, np.int32), "behind": column(0, np.int8),
        "credit": column(0, np.int64), "state_on": column(day_number(DAY) - 1, np.int32),
        "planned": np.array(planned, dtype=np.int8), "due_since": column(0, np.int32),
        "next_due_on": column(NEVER, np.int32),
    }
    return StateColumns(columns=columns, products=(make_loan().product,), product_codes=("P",))


@given(st.lists(st.booleans(), min_size=1, max_size=40))
def test_a_loan_under_a_plan_takes_the_scalar_path_and_no_other_does(planned):
    write, scalar = plan_batch(_state(planned), DAY, write_off_dpd=180)
    fast = set(write.loan_ids.tolist())
    assert set(scalar) == {key for key, held in enumerate(planned, start=1) if held}
    assert fast == {key for key, held in enumerate(planned, start=1) if not held}
    assert set(write.rows["loan_id"].tolist()) <= fast
