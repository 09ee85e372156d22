"""Benchmark the monthly Metro 2 file: records formatted per second from columns, against a
bare write of the same number of 426-byte lines measured side by side in the same run.

    python bench/bureau.py [--records 1000000] [--json]

- build: `batch.bureau.metro2_file` over columns of `--records` loans (every base-segment
  field a snapshot fills: account number, dates, amounts, status, rating, 24-month profile,
  condition code, name, SSN, address), header and trailer included, then written to a file.
- bare: the same number of 427-byte lines (426 + newline) copied from one constant line into
  a buffer and written to a file — the floor of producing a file that size at all.
The columns are made with NumPy before the clock starts (they stand for the snapshot table
read columnarly); the ratio is build time ÷ bare time. The two are alternated ROUNDS times and
the best of each kept; the CPU time of the process is reported beside the wall time, as it
moves less when neighbours share the cores.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from datetime import UTC, date, datetime

import numpy as np

from arrears.batch import bureau as files
from arrears.domain.bureau import codes, layouts

MONTH_END = date(2026, 10, 31)
ROUNDS = 3


def columns(n: int, seed: int = 7) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    dpd = rng.choice([0, 0, 0, 0, 0, 0, 15, 45, 75, 100, 130, 160, 200], size=n)
    bands = np.array([low for low, _, _ in codes.METRO2_DPD_BANDS])
    band = np.searchsorted(bands, dpd, side="right") - 1
    statuses = np.array([s.encode() for _, s, _ in codes.METRO2_DPD_BANDS], dtype="S2")[band]
    profile_codes = np.frombuffer(b"0123456", dtype=np.uint8)
    profile = np.full((n, 24), ord("0"), dtype=np.uint8)
    profile[:, 0] = profile_codes[np.maximum(band - 1, 0)]
    opened = date(2025, 3, 15)
    delinquent = dpd >= 30
    numbers = np.char.add(b"L-", np.char.zfill(np.arange(n).astype("S9"), 9))
    names = np.array([b"SMITH", b"GARCIA", b"NGUYEN", b"JOHNSON"], dtype="S25")
    return {
        "consumer_account_number": numbers,
        "date_opened": np.full(n, files.mmddyyyy(opened), dtype=np.int64),
        "highest_credit": rng.integers(500, 20_000, size=n),
        "terms_duration": np.full(n, b"012", dtype="S3"),
        "scheduled_monthly_payment": rng.integers(50, 2_000, size=n),
        "actual_payment": rng.integers(0, 2_000, size=n),
        "account_status": statuses,
        "payment_history_profile": profile.view("S24").ravel(),
        "compliance_condition_code": np.where(rng.random(n) < 0.01, b"XB", b""),
        "current_balance": rng.integers(0, 20_000, size=n),
        "amount_past_due": np.where(delinquent, rng.integers(1, 3_000, size=n), 0),
        "date_of_account_information": np.full(n, files.mmddyyyy(MONTH_END), dtype=np.int64),
        "date_of_first_delinquency": np.where(delinquent, files.mmddyyyy(date(2026, 6, 14)), 0),
        "date_of_last_payment": np.full(n, files.mmddyyyy(date(2026, 10, 15)), dtype=np.int64),
        "surname": names[rng.integers(0, len(names), size=n)],
        "first_name": np.full(n, b"ALEX", dtype="S20"),
        "social_security_number": rng.integers(100_000_000, 999_999_999, size=n),
        "first_line_of_address": np.full(n, b"1 MAIN ST", dtype="S32"),
        "state": np.full(n, b"NY", dtype="S2"),
    }


def timed_write(make: object, path: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) to make the content and write it."""
    start, cpu = time.perf_counter(), time.process_time()
    content = make()  # type: ignore[operator]
    with open(path, "wb") as handle:
        handle.write(content)
    return time.perf_counter() - start, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    n = args.records
    cols = columns(n)
    line = np.frombuffer(b"0" * layouts.METRO2_LENGTH + b"\n", dtype=np.uint8)
    created = datetime(2026, 11, 1, 6, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as folder:
        built_path, bare_path = os.path.join(folder, "m2.txt"), os.path.join(folder, "bare.txt")

        def build() -> bytes:
            return files.metro2_file(cols, n, reporter=files.Reporter(), activity=MONTH_END,
                                     created=created)

        def bare() -> bytes:
            return np.broadcast_to(line, (n + 2, line.size)).tobytes()

        # Alternated, best of each: a neighbour's burst on the shared cores slows one run, not
        # one side of the ratio.
        builds, bares = [], []
        for _ in range(ROUNDS):
            builds.append(timed_write(build, built_path))
            bares.append(timed_write(bare, bare_path))
        (build_s, bare_s), (build_cpu, bare_cpu) = (
            (min(b[i] for b in builds), min(b[i] for b in bares)) for i in (0, 1))
        size = os.path.getsize(built_path)
        assert size == os.path.getsize(bare_path) == (n + 2) * (layouts.METRO2_LENGTH + 1)
    document = {
        "records": n, "bytes": size,
        "build_seconds": round(build_s, 3), "records_per_second": round(n / build_s),
        "bare_seconds": round(bare_s, 3), "bare_lines_per_second": round(n / bare_s),
        "ratio_to_bare": round(build_s / bare_s, 2),
        "build_cpu_seconds": round(build_cpu, 3), "bare_cpu_seconds": round(bare_cpu, 3),
        "cpu_ratio_to_bare": round(build_cpu / bare_cpu, 2),
    }
    if args.json:
        print(json.dumps(document, indent=2))
    else:
        for key, value in document.items():
            print(f"{key:24} {value}")


if __name__ == "__main__":
    main()
