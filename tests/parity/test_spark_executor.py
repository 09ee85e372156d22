"""The Spark executor gives exactly the local kernel's results (`local[2]`, a small book)."""

from __future__ import annotations

from datetime import timedelta

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings

from arrears.batch.columns import LOAN_RESULT_SCHEMA, BookLoan, ProductCodes, installment_batch
from arrears.batch.kernels import ProductTable, eod_batch

pytest.importorskip("pyspark", reason="pyspark is not installed (CI installs it with the dev "
                    "dependencies)")

from arrears.batch import spark as spark_executor  # noqa: E402  (needs pyspark)

from parity_books import books  # noqa: E402


@pytest.fixture(scope="module")
def session():
    # Tiny Arrow batches so that loans straddle batch boundaries inside a task.
    spark = spark_executor.spark_session(
        "local[2]", config={"spark.sql.execution.arrow.maxRecordsPerBatch": "5",
                            "spark.sql.shuffle.partitions": "3"})
    yield spark
    spark.stop()


def _local(batch: pa.RecordBatch, table: ProductTable, day) -> tuple[pa.Table, pa.Table]:
    result = eod_batch(batch, table, day)
    rows = pa.Table.from_batches([result.rows]).sort_by([("loan_key", "ascending"),
                                                        ("number", "ascending")])
    return rows, pa.Table.from_batches([result.loans])


@settings(max_examples=3, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(book=books(max_loans=60, min_loans=20))
def test_spark_equals_the_local_kernel(session, tmp_path_factory, book):
    start, days, accounts = book
    day = start + timedelta(days=days)
    codes = ProductCodes()
    entries = [BookLoan(key=a.key, loan=a.loan, state=a.state, prev_bucket=a.prev_bucket)
               for a in accounts]
    batch = installment_batch(entries, codes)
    table = ProductTable.build(codes.products)
    # Export in several batches, as an executor streaming from the database would.
    pieces = [batch.slice(i, 17) for i in range(0, batch.num_rows, 17)]
    rows, loans = spark_executor.run_eod_spark(
        pieces, codes.products, day, workdir=tmp_path_factory.mktemp("eod"), spark=session,
        partitions=4)
    want_rows, want_loans = _local(batch, table, day)
    assert rows.equals(want_rows)
    assert loans.equals(want_loans)
    assert loans.schema == LOAN_RESULT_SCHEMA


def test_a_loan_cut_by_a_batch_boundary_is_kept_whole():
    from arrears.domain.loan import initial_state

    from builders import loan as make_loan

    loans = [make_loan(terms=12), make_loan(terms=6, disbursed_on=make_loan().disbursed_on)]
    codes = ProductCodes()
    entries = [BookLoan(key=k + 1, loan=ln, state=initial_state(ln)) for k, ln in enumerate(loans)]
    batch = installment_batch(entries, codes, all_rows=True)
    table = ProductTable.build(codes.products)
    day = loans[0].disbursed_on + timedelta(days=400)
    cut = [batch.slice(0, 5), batch.slice(5, 9), batch.slice(14)]
    out = pa.Table.from_batches(list(spark_executor.kernel_over_partition(iter(cut), table, day)))
    rows, got_loans = spark_executor.split_results(out)
    want_rows, want_loans = _local(batch, table, day)
    assert rows.equals(want_rows)
    assert got_loans.equals(want_loans)
