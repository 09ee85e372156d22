"""How long the `arrears` command takes to start, against a bare interpreter in the same run.

    python bench/startup.py [--json] [--runs N]

Times fresh processes, each run N times (median reported): `arrears --help`, and
`arrears compliance check` on the shipped example (a US call allowed by the rules), next to
`python -c pass` as the baseline. Each figure is printed with its ratio to the baseline, which
is what the interpreter costs before arrears imports anything, and with the CPU seconds each
used (steadier than the wall clock when other work shares the machine). Goal (issue 15):
both ≤ 0.3 s on an idle two-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "compliance"
# The console script's code, run by this interpreter so the venv need not be on PATH.
ARREARS = [sys.executable, "-c",
           "import sys; from arrears.entrypoints.cli.main import run; sys.argv[0] = 'arrears'; "
           "run()"]
COMMANDS: dict[str, list[str]] = {
    "baseline_s": [sys.executable, "-c", "pass"],
    "help_s": [*ARREARS, "--help"],
    "compliance_check_s": [*ARREARS, "compliance", "check",
                           str(EXAMPLES / "us-call-allowed.json"),
                           "--facts", str(EXAMPLES / "us-facts.json")],
}


def seconds(command: list[str]) -> tuple[float, float]:
    """Wall-clock and CPU (user + system) seconds of one run of `command`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--runs", type=int, default=7, help="runs of each command")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    for command in COMMANDS.values():  # warm the file cache and the bytecode
        seconds(command)
    walls: dict[str, list[float]] = {name: [] for name in COMMANDS}
    cpus: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(args.runs):  # interleaved, so a busy moment hits every command alike
        for name, command in COMMANDS.items():
            wall, cpu = seconds(command)
            walls[name].append(wall)
            cpus[name].append(cpu)
    medians = {name: round(statistics.median(values), 4) for name, values in walls.items()}
    baseline = medians["baseline_s"]
    document = {**medians, "runs": args.runs,
                "ratios": {name: round(value / baseline, 1) for name, value in medians.items()
                           if name != "baseline_s"},
                # CPU time is what the start costs on a machine busy with other work too.
                "cpu_s": {name: round(statistics.median(values), 4)
                          for name, values in cpus.items()},
                "load_average": round(os.getloadavg()[0], 2)}
    if args.json:
        print(json.dumps(document, indent=2))
        return
    print(f"python -c pass            {baseline:.3f} s (baseline; load average "
          f"{document['load_average']})")
    for name, label in (("help_s", "arrears --help"),
                        ("compliance_check_s", "arrears compliance check")):
        print(f"{label:<25} {medians[name]:.3f} s  ({document['ratios'][name]}× baseline, "
              f"{document['cpu_s'][name]:.3f} s of CPU; goal ≤ 0.3 s)")


if __name__ == "__main__":
    main()
