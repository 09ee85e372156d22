"""The HTTP API against the same work in-process, side by side in one run.

    python bench/api.py [--json] [--decisions N] [--payments N] [--clients C] [--workers W]

Starts `arrears serve`'s app under uvicorn (W worker processes, loopback, a throwaway SQLite
book) and measures, over keep-alive connections from C client threads:
- compliance decisions (`POST /api/v1/compliance/decisions` with action and facts given, the
  examples/compliance US call) per second with p50/p99 latency;
- payment posts (`POST /api/v1/loans/{id}/payments`, a new Idempotency-Key each) per second;
and the same work called in-process (codec → engine → decision document; the payment handler
and the payment document) in this process, single-threaded. Each figure is printed with its
ratio to the in-process one. Bounded: N requests each, so it stops by itself in seconds.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import date
from importlib import resources
from pathlib import Path

from arrears import bootstrap
from arrears.application import servicing_queries
from arrears.application.handlers import api_keys, payments, servicing
from arrears.compliance import codec, packs
from arrears.compliance import engine as compliance_engine
from arrears.config import Settings

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
OPEN = date(2026, 2, 2)
LOANS = ("WLD-1001", "WLD-1002", "PHN-2001", "PHN-2002")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def figures(latencies: list[float], seconds: float) -> dict[str, float]:
    return {"per_second": round(len(latencies) / seconds, 1),
            "p50_ms": round(percentile(latencies, 0.50) * 1000, 3),
            "p99_ms": round(percentile(latencies, 0.99) * 1000, 3)}


def in_process(work: Callable[[int], object], count: int) -> dict[str, float]:
    latencies = []
    start = time.perf_counter()
    for i in range(count):
        began = time.perf_counter()
        work(i)
        latencies.append(time.perf_counter() - began)
    return figures(latencies, time.perf_counter() - start)


def over_http(port: int, count: int, clients: int,
              request: Callable[[int], tuple[str, str, bytes, dict[str, str]]],
              expect: int) -> dict[str, float]:
    """`count` requests shared by `clients` threads, each on one keep-alive connection."""
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    counter = iter(range(count))

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            method, path, body, headers = request(i)
            began = time.perf_counter()
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
            mine.append(time.perf_counter() - began)
            if response.status != expect:
                failures.append(f"{response.status} {payload[:200]!r}")
        connection.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - start
    if failures:
        raise SystemExit(f"{len(failures)} requests failed, e.g. {failures[0]}")
    return figures(latencies, seconds)


def serve(url: str, workers: int) -> tuple[subprocess.Popen[bytes], int]:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    env = {**os.environ, "ARREARS_DB": url, "ARREARS_API_KEY_CACHE_SECONDS": "60",
           "ARREARS_API_PUBLIC_RATE": "100000"}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "arrears.entrypoints.api.app:app_from_env",
         "--factory", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
         "--no-access-log", "--log-level", "warning"], env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/openapi.json")
            if connection.getresponse().status == 200:
                time.sleep(0.5)  # let every worker finish starting
                return server, port
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("the API server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--decisions", type=int, default=1500)
    parser.add_argument("--payments", type=int, default=150)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    for name in ("decisions", "payments", "clients", "workers"):
        if not 1 <= getattr(args, name) <= 100_000:
            parser.error(f"--{name} must be from 1 to 100000")

    action = json.loads((EXAMPLES / "compliance" / "us-call-allowed.json").read_text())
    facts = json.loads((EXAMPLES / "compliance" / "us-facts.json").read_text())
    decision_body = json.dumps({"action": action, "facts": facts}).encode()

    def decide(_: int) -> object:
        document = json.loads(decision_body)
        parsed, at, pack = codec.parse_action_document(document["action"])
        decision = compliance_engine.decide(parsed, codec.parse_facts(document["facts"]),
                                            packs.get(pack or "us"), at)
        return json.dumps(codec.decision_to_json(decision))

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'book.db'}"
        built = bootstrap.build(Settings(database_url=url))
        built.migrate()
        products = json.loads((resources.files("arrears") / "default_products.json")
                              .read_text())
        servicing.init_book(OPEN, products, uow_factory=built.uow_factory)
        servicing.import_loans_csv((EXAMPLES / "loans.csv").read_text(),
                                   uow_factory=built.uow_factory, clock=built.clock)
        token = api_keys.create_key("bench", "admin", uow_factory=built.api_uow_factory(),
                                    clock=built.clock).key
        auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

        def pay_in_process(i: int) -> object:
            key = f"local-{i}"
            payments.post_payment(LOANS[i % len(LOANS)], 1, OPEN, key,
                                  uow_factory=built.uow_factory, clock=built.clock,
                                  is_duplicate_key_error=bootstrap.is_duplicate_key_error)
            return servicing_queries.payment_document(key, uow_factory=built.uow_factory)

        def pay_request(i: int) -> tuple[str, str, bytes, dict[str, str]]:
            body = json.dumps({"amount": "0.01", "on": OPEN.isoformat()}).encode()
            return ("POST", f"/api/v1/loans/{LOANS[i % len(LOANS)]}/payments", body,
                    auth | {"Idempotency-Key": f"http-{i}"})

        local_decisions = in_process(decide, args.decisions)
        local_payments = in_process(pay_in_process, args.payments)
        built.engine.dispose()
        server, port = serve(url, args.workers)
        try:
            http_decisions = over_http(
                port, args.decisions, args.clients,
                lambda _: ("POST", "/api/v1/compliance/decisions", decision_body, auth), 200)
            http_payments = over_http(port, args.payments, args.clients, pay_request, 201)
        finally:
            server.terminate()
            server.wait(timeout=30)

    def ratio(over: dict[str, float], local: dict[str, float]) -> float:
        return round(over["per_second"] / local["per_second"], 3)

    report = {
        "workers": args.workers, "clients": args.clients, "cpus": os.cpu_count(),
        "decisions": {"http": http_decisions, "in_process": local_decisions,
                      "ratio": ratio(http_decisions, local_decisions),
                      "goal": {"per_second": 3000, "p99_ms": 25}},
        "payments_sqlite": {"http": http_payments, "in_process": local_payments,
                            "ratio": ratio(http_payments, local_payments),
                            "goal": {"per_second": 500}},
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    for name in ("decisions", "payments_sqlite"):
        item = report[name]
        print(f"{name:16} http {item['http']['per_second']:>8,.0f}/s "
              f"p50 {item['http']['p50_ms']:.2f} ms p99 {item['http']['p99_ms']:.2f} ms | "
              f"in-process {item['in_process']['per_second']:>8,.0f}/s | "
              f"ratio {item['ratio']:.2f}")


if __name__ == "__main__":
    main()
