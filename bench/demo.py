"""The demo as a new user runs it (`arrears demo`: a seasoned book, then `--days` business dates
with collections), timed by phase, against the bare end-of-day kernel over the same book.

    python bench/demo.py [--loans 10000] [--days 120] [--season-months 18] [--db URL] [--json]

Timed: the whole demo on a fresh SQLite book (or `--db`), and each phase it names
(`demo.PHASES`: boarding the seasoned book and each day's new loans, payments, end-of-day,
strategies, the collectors' calls, the worker), wall-clock and CPU (on a shared machine the
CPU seconds are the steadier figure; `planners_cpu_seconds` is what the strategies' planning
processes used beside them). Baseline: the vectorised
kernel alone, over the book's loans as the demo leaves them, once for each business date of
the run (no I/O). The ratio says how many times the bare arithmetic of the run the demo takes.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from arrears import bootstrap

# The demo's planning processes are spawned: each imports this script as its main module, as
# under `arrears demo` it imports the light launcher. The book's modules are imported where
# they are used, so that those processes start here as they start under the command.

START = date(2026, 1, 1)


class PhaseTimer:
    """Seconds spent in each phase, wall-clock and CPU: a phase lasts until the next one is
    named."""

    def __init__(self) -> None:
        from arrears.application import demo

        self.seconds: dict[str, float] = dict.fromkeys(demo.PHASES, 0.0)
        self.cpu: dict[str, float] = dict.fromkeys(demo.PHASES, 0.0)
        self.current: str | None = None
        self.since = (time.perf_counter(), time.process_time())

    def __call__(self, phase: str) -> None:
        now = (time.perf_counter(), time.process_time())
        if self.current is not None:
            self.seconds[self.current] += now[0] - self.since[0]
            self.cpu[self.current] += now[1] - self.since[1]
        self.current, self.since = phase, now


def kernel_baseline(built: bootstrap.Services, days: int, through: date) -> float:
    """Seconds the kernel takes for `days` dates over the active loans' rows."""
    from arrears.adapters.db.columns import SqlColumnStore
    from arrears.application import demo
    from arrears.batch.columns import day_number
    from arrears.batch.kernels import ProductTable, eod_arrays

    with built.uow_factory() as uow:
        ids = sorted(row.id for row in uow.reports.loan_list(
            status=None, bucket=None, product=None, borrower=None, limit=10_000_000))
        state = SqlColumnStore().read_state(uow, ids, through + timedelta(days=1))
    table = ProductTable.build(state.products, demo.WRITE_OFF_DPD)
    started = time.perf_counter()
    for offset in range(days):
        eod_arrays(state.columns, table, day_number(through + timedelta(days=1 + offset)))
    return time.perf_counter() - started


def _children_cpu() -> float:
    """CPU seconds of this process's finished children: the strategies' planning processes,
    which the demo stops before it returns."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def main() -> None:
    from arrears import bootstrap
    from arrears.application import demo
    from arrears.config import Settings
    from arrears.entrypoints.cli.book import run_demo

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--season-months", type=int, default=demo.SEASON_MONTHS)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--db", help="database URL (default: a new SQLite file)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.db or f"sqlite:///{Path(folder) / 'demo.db'}"
        built = bootstrap.build(Settings.from_env(database_url=url))
        phases = PhaseTimer()
        cpu, started = time.process_time(), time.perf_counter()
        planners_cpu = _children_cpu()
        document = run_demo(built, loans=args.loans, days=args.days, seed=args.seed,
                            first=START, collections=True, sinks=Path(folder) / "sinks",
                            engine="vectorised", season_months=args.season_months,
                            on_phase=phases)
        phases("done")
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        planners_cpu = _children_cpu() - planners_cpu
        through = START + timedelta(days=args.days - 1)
        baseline = kernel_baseline(built, args.days, through)
        built.engine.dispose()
    result: dict[str, Any] = {
        "seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2),
        "planners_cpu_seconds": round(planners_cpu, 2),
        "phases": {name: round(value, 2) for name, value in phases.seconds.items()},
        "phases_cpu": {name: round(value, 2) for name, value in phases.cpu.items()},
        "loans": args.loans, "days": args.days, "season_months": args.season_months,
        "baseline_seconds": round(baseline, 3),
        "ratio": round(seconds / baseline, 1) if baseline else None,
        "messages": sum(sum(statuses.values()) for statuses
                        in document.get("messages_by_channel", {}).values()),
    }
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        print()
        return
    print(f"demo: {args.loans:,} loans ({args.season_months} months seasoned), {args.days} "
          f"business dates: {seconds:.1f} s wall, {cpu:.1f} s CPU (and {planners_cpu:.1f} s "
          f"in the planning processes), "
          f"{result['messages']:,} messages")
    for name, value in phases.seconds.items():
        print(f"  {name:<11} {value:7.1f} s  ({phases.cpu[name]:.1f} s CPU)")
    print(f"baseline: the kernel over the same book for {args.days} dates: {baseline:.3f} s "
          f"(the demo takes {result['ratio']}×)")


if __name__ == "__main__":
    main()
