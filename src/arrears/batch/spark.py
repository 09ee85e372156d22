"""The end-of-day kernel on Apache Spark: the same Arrow-batch function, partition by partition.

For lenders beyond one machine (DESIGN §6). Loans are independent within a business date, so
the book is split by a hash of the loan key and each partition runs `kernels.eod_arrays`
unchanged through `DataFrame.mapInArrow`; nothing is coordinated between partitions.

Steps (`run_eod_spark`):
1. `export_state`: the installment rows (`columns.INSTALLMENT_SCHEMA`) are written as Parquet,
   hive-partitioned by `part = hash(loan_key) mod partitions`, so a loan's rows sit together.
2. Spark reads the dataset, shuffles by `part` (a loan's rows land in one task) and sorts within
   each partition by (loan_key, due_on).
3. `mapInArrow` runs the kernel over each task's Arrow batches. A batch boundary may cut a loan,
   so the tail loan of each batch is carried into the next one.
4. The output has one row per input row: the row results (`ROW_RESULT_SCHEMA`) plus the loan
   results (`LOAN_RESULT_SCHEMA`) on each loan's first row (null on the others). It is
   collected as Arrow (`toArrow`) and split, or written as Parquet to `result_path`.

Only this module imports pyspark; `import arrears.batch` does not.

Running on a cluster (YARN, Kubernetes or standalone) with object storage:

    # 1. An environment for the executors: arrears with numpy, pyarrow and pandas (< 3, which
    #    PySpark's Arrow UDFs still require).
    python -m venv eod-env && eod-env/bin/pip install . 'pyspark[sql]>=4.0,<5' 'pandas<3' venv-pack
    eod-env/bin/venv-pack -o eod-env.tar.gz
    # 2. Export the state of the business date to object storage, e.g. from the database
    #    executor: export_state(batches, "s3://lender-eod/2026-06-15/state", partitions=512)
    #    (pyarrow writes s3://, gs:// and abfs:// URIs itself).
    # 3. Submit; Spark reads the same files through s3a:// (hadoop-aws on the classpath).
    spark-submit --master k8s://https://k8s.example:6443 --deploy-mode cluster \
        --archives eod-env.tar.gz#env \
        --conf spark.pyspark.python=./env/bin/python \
        --conf spark.sql.execution.arrow.maxRecordsPerBatch=1000000 \
        --packages org.apache.hadoop:hadoop-aws:3.4.1 \
        --conf spark.hadoop.fs.s3a.aws.credentials.provider=\
    com.amazonaws.auth.WebIdentityTokenCredentialsProvider \
        --files products.json \
        src/arrears/batch/spark.py --day 2026-06-15 --products products.json \
        --state s3a://lender-eod/2026-06-15/state --result s3a://lender-eod/2026-06-15/result
    # 4. Load the result Parquet back through the same write path as the local executor
    #    (`split_results(pyarrow.parquet.read_table(result))` gives the local kernel's tables).

Tried here with `spark-submit --master 'local[2]' --conf spark.pyspark.python=.venv/bin/python`
(with `.venv/bin` on PATH so that spark-submit finds its Spark home).

`products.json` is a JSON list of product documents (the `product` object of LOAN.json), in the
order of the codes in the `product` column. Size partitions so a task holds a few million rows
(about 80 bytes a row in memory); `--partitions` defaults to the number of files.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.pandas.types import from_arrow_schema

from arrears.batch.columns import INSTALLMENT_SCHEMA, LOAN_RESULT_SCHEMA, ROW_RESULT_SCHEMA
from arrears.batch.kernels import (
    NEVER,
    EodResult,
    ProductTable,
    _record_batch,
    eod_batch,
)
from arrears.domain.delinquency import WRITE_OFF_DPD
from arrears.domain.product import Product

PART = "part"
LOAN_FIELDS = [f for f in LOAN_RESULT_SCHEMA if f.name != "loan_key"]
# What each Spark task returns: row results, plus loan results on a loan's first row.
SPARK_RESULT_SCHEMA = pa.schema(
    [f.with_nullable(True) for f in ROW_RESULT_SCHEMA]
    + [f.with_nullable(True) for f in LOAN_FIELDS]
)


def partition_of(loan_key: np.ndarray, partitions: int) -> np.ndarray:
    """A stable hash of each loan key (splitmix64 finaliser) mod `partitions`, as int32."""
    x = loan_key.astype(np.uint64)
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return (x % np.uint64(partitions)).astype(np.int32)


def export_state(batches: Iterable[pa.RecordBatch], path: str, *, partitions: int) -> str:
    """Write the installment rows as Parquet under `path` (a local path or a pyarrow
    filesystem URI), hive-partitioned by `part` = hash(loan_key) mod `partitions`."""
    if partitions < 1:
        raise ValueError("partitions: must be at least 1")

    def with_part() -> Iterator[pa.RecordBatch]:
        for batch in batches:
            keys = batch.column("loan_key").to_numpy()
            yield batch.append_column(PART, pa.array(partition_of(keys, partitions)))

    schema = INSTALLMENT_SCHEMA.append(pa.field(PART, pa.int32(), nullable=False))
    ds.write_dataset(
        with_part(), path, schema=schema, format="parquet",
        partitioning=ds.partitioning(pa.schema([schema.field(PART)]), flavor="hive"),
        existing_data_behavior="delete_matching",
    )
    return path


def _spark_result(result: EodResult) -> pa.RecordBatch:
    """Row results with the loan results placed on each loan's first row."""
    rows = result.rows
    n = rows.num_rows
    first = np.zeros(n, dtype=bool)
    if n:
        keys = rows.column("loan_key").to_numpy()
        first[0] = True
        first[1:] = keys[1:] != keys[:-1]
    position = np.cumsum(first) - 1
    index = pa.array(position, mask=~first)
    columns = [rows.column(f.name) for f in ROW_RESULT_SCHEMA]
    columns += [result.loans.column(f.name).take(index) for f in LOAN_FIELDS]
    return pa.RecordBatch.from_arrays(columns, schema=SPARK_RESULT_SCHEMA)


def kernel_over_partition(batches: Iterator[pa.RecordBatch], table: ProductTable, day: date
                          ) -> Iterator[pa.RecordBatch]:
    """The kernel over one Spark task's batches (sorted by loan_key, due_on). The last loan of
    a batch may continue in the next batch, so it is held back until the next one arrives."""
    carry: pa.RecordBatch | None = None
    for incoming in batches:
        batch = incoming.select(INSTALLMENT_SCHEMA.names).cast(INSTALLMENT_SCHEMA, safe=True) \
            if incoming.schema != INSTALLMENT_SCHEMA else incoming
        if carry is not None and carry.num_rows:
            batch = pa.Table.from_batches([carry, batch]).combine_chunks().to_batches()[0]
        if batch.num_rows == 0:
            continue
        keys = batch.column("loan_key").to_numpy()
        tail = int(np.searchsorted(keys, keys[-1], side="left"))
        carry = batch.slice(tail)
        if tail:
            yield _spark_result(eod_batch(batch.slice(0, tail), table, day))
    if carry is not None and carry.num_rows:
        yield _spark_result(eod_batch(carry, table, day))


def spark_session(master: str = "local[2]", app_name: str = "arrears-eod",
                  config: dict[str, str] | None = None) -> SparkSession:
    """A Spark session for EOD (the caller stops it)."""
    builder = SparkSession.builder.master(master).appName(app_name)
    settings = {"spark.ui.enabled": "false", "spark.sql.shuffle.partitions": "8",
                "spark.sql.execution.arrow.maxRecordsPerBatch": "1000000",
                "spark.sql.session.timeZone": "UTC"}
    if master.startswith("local"):
        # Local workers must run this interpreter (the one with arrears on its path); a new
        # SparkContext takes the workers' interpreter from PYSPARK_PYTHON.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    settings.update(config or {})
    for key, value in settings.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def eod_dataframe(spark: SparkSession, state_path: str, products: Sequence[Product], day: date,
                  *, partitions: int | None = None, write_off_dpd: int = WRITE_OFF_DPD
                  ) -> DataFrame:
    """The Spark plan: read the exported state, group loans by `part`, run the kernel."""
    table = ProductTable.build(products, write_off_dpd)
    state = spark.read.parquet(state_path)
    count = partitions or max(1, state.select(PART).distinct().count())
    columns = list(INSTALLMENT_SCHEMA.names)
    prepared = (state.repartition(count, PART)
                .sortWithinPartitions("loan_key", "due_on")
                .select(*columns))

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        return kernel_over_partition(batches, table, day)

    return prepared.mapInArrow(run, from_arrow_schema(SPARK_RESULT_SCHEMA))


def split_results(table: pa.Table) -> tuple[pa.Table, pa.Table]:
    """(row results, loan results) from the Spark output, each sorted by loan_key (and number),
    with the schemas of the local kernel."""
    rows = table.select(ROW_RESULT_SCHEMA.names).sort_by([("loan_key", "ascending"),
                                                          ("number", "ascending")])
    loans = table.filter(table.column("dpd").is_valid()).select(LOAN_RESULT_SCHEMA.names)
    loans = loans.sort_by([("loan_key", "ascending")])
    return rows.cast(ROW_RESULT_SCHEMA), loans.cast(LOAN_RESULT_SCHEMA)


def run_eod_spark(
    batches: Iterable[pa.RecordBatch],
    products: Sequence[Product],
    day: date,
    *,
    workdir: str | Path,
    spark: SparkSession | None = None,
    master: str = "local[2]",
    partitions: int = 8,
    result_path: str | None = None,
    write_off_dpd: int = WRITE_OFF_DPD,
) -> tuple[pa.Table, pa.Table] | str:
    """EOD for `day` on Spark: export `batches` under `workdir`, run the kernel per partition.

    Returns (row results, loan results) as Arrow tables sorted by loan_key, or, when
    `result_path` is given, writes the Spark output there as Parquet and returns the path.
    `spark` defaults to a new session on `master`, stopped at the end.
    """
    state_path = str(Path(workdir) / f"state-{day.isoformat()}")
    export_state(batches, state_path, partitions=partitions)
    own = spark is None
    session = spark_session(master) if spark is None else spark
    try:
        frame = eod_dataframe(session, state_path, products, day, partitions=partitions,
                              write_off_dpd=write_off_dpd)
        if result_path is not None:
            frame.write.mode("overwrite").parquet(result_path)
            return result_path
        return split_results(frame.toArrow())
    finally:
        if own:
            session.stop()


def _arrays(table: pa.Table) -> dict[str, np.ndarray]:
    """A result table's columns as NumPy arrays, dates as day numbers (none as NEVER)."""
    out: dict[str, np.ndarray] = {}
    for name in table.column_names:
        column = table.column(name).combine_chunks()
        if column.type == pa.date32():
            column = column.view(pa.int32()).fill_null(NEVER)
        out[name] = column.to_numpy(zero_copy_only=False)
    return out


# Loans per end-of-day batch on Spark: each batch is a Spark job, whose start costs more than
# a larger batch's rows.
SPARK_BATCH_LOANS = 50_000


class SparkKernel:
    """The executor's kernel on Spark: each batch of the database executor is exported,
    computed partition by partition, and collected back in input order (loan key, number).
    One session serves every date of a run; `stop()` ends it."""

    def __init__(self, *, master: str, workdir: str | Path, partitions: int = 8) -> None:
        self.master = master
        self.workdir = Path(workdir)
        self.partitions = partitions
        self._session: SparkSession | None = None

    def __call__(self, cols: dict[str, np.ndarray], table: ProductTable, day: date
                 ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        if self._session is None:
            self._session = spark_session(self.master)
        batch = _record_batch(cols, INSTALLMENT_SCHEMA)
        result = run_eod_spark([batch], table.products, day, workdir=self.workdir,
                               spark=self._session, partitions=self.partitions,
                               write_off_dpd=int(table.write_off_dpd[0]))
        assert not isinstance(result, str)
        rows, loans = result
        return _arrays(rows), _arrays(loans)

    def stop(self) -> None:
        if self._session is not None:
            self._session.stop()
            self._session = None


def main(argv: list[str] | None = None) -> int:
    """`spark-submit arrears/batch/spark.py --day D --products F --state URI --result URI`."""
    from arrears.application.loan_file import parse_product

    parser = argparse.ArgumentParser(description="Run the EOD kernel on Spark")
    parser.add_argument("--day", type=date.fromisoformat, required=True)
    parser.add_argument("--products", required=True, help="JSON list of product documents")
    parser.add_argument("--state", required=True, help="exported state (export_state)")
    parser.add_argument("--result", required=True, help="where to write the result Parquet")
    parser.add_argument("--partitions", type=int, default=None)
    args = parser.parse_args(argv)
    documents = json.loads(Path(args.products).read_text(encoding="utf-8"))
    products = [parse_product(doc) for doc in documents]
    spark = SparkSession.builder.appName(f"arrears-eod-{args.day}").getOrCreate()
    try:
        frame = eod_dataframe(spark, args.state, products, args.day, partitions=args.partitions)
        frame.write.mode("overwrite").parquet(args.result)
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
