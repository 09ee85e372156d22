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

Beside the rates, the CPU time per request — of the server's processes over HTTP, of this
process in-process — shows the cost of the work itself, which other load on a shared machine
changes little while it changes the rates a lot.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
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
WARM_UP = 100


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def figures(latencies: list[float], seconds: float) -> dict[str, float]:
    return {"per_second": round(len(latencies) / seconds, 1),
            "p50_ms": round(percentile(latencies, 0.50) * 1000, 3),
            "p99_ms": round(percentile(latencies, 0.99) * 1000, 3)}


def in_process(work: Callable[[int], object], count: int) -> dict[str, float | None]:
    latencies = []
    cpu = time.process_time()
    start = time.perf_counter()
    for i in range(count):
        began = time.perf_counter()
        work(i)
        latencies.append(time.perf_counter() - began)
    return {**figures(latencies, time.perf_counter() - start),
            "cpu_ms": round((time.process_time() - cpu) / count * 1000, 3)}


class KeepAlive:
    """One HTTP/1.1 keep-alive connection, as lean as a client can be (requests written as
    bytes, answers read by their Content-Length): the load generator shares the two cores
    with the server, and `http.client`'s header parsing cost about as much as the server's
    work on a decision."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.pending = b""

    def send(self, method: str, path: str, body: bytes, headers: dict[str, str]
             ) -> tuple[int, bytes]:
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        self.sock.sendall(f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{head}"
                          f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        while b"\r\n\r\n" not in self.pending:
            self.pending += self._read()
        answer, _, rest = self.pending.partition(b"\r\n\r\n")
        lines = answer.decode("latin-1").split("\r\n")
        length = next(int(line.split(":", 1)[1]) for line in lines[1:]
                      if line.lower().startswith("content-length:"))
        while len(rest) < length:
            rest += self._read()
        self.pending = rest[length:]
        return int(lines[0].split()[1]), rest[:length]

    def _read(self) -> bytes:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        return chunk

    def close(self) -> None:
        self.sock.close()


def server_cpu_seconds(pid: int) -> float | None:
    """CPU time used so far by the server and its worker processes (Linux /proc), or None."""
    try:
        pids = [pid] + [int(child) for task in Path(f"/proc/{pid}/task").iterdir()
                        for child in (task / "children").read_text().split()]
        ticks = sum(sum(int(field) for field in
                        Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()[11:13])
                    for p in pids)
    except (OSError, ValueError):
        return None
    return ticks / os.sysconf("SC_CLK_TCK")


def over_http(port: int, count: int, clients: int,
              request: Callable[[int], tuple[str, str, bytes, dict[str, str]]],
              expect: int, server_pid: int) -> dict[str, float | None]:
    """`count` requests shared by `clients` threads, each on one keep-alive connection; and
    the server's CPU time per request, which other load on the machine hardly changes."""
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    counter = iter(range(count))

    def client() -> None:
        connection = KeepAlive(port)
        mine = []
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            began = time.perf_counter()
            status, payload = connection.send(*request(i))
            mine.append(time.perf_counter() - began)
            if status != expect:
                failures.append(f"{status} {payload[:200]!r}")
        connection.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    cpu_before = server_cpu_seconds(server_pid)
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - start
    cpu_after = server_cpu_seconds(server_pid)
    if failures:
        raise SystemExit(f"{len(failures)} requests failed, e.g. {failures[0]}")
    server_cpu = None if cpu_before is None or cpu_after is None else round(
        (cpu_after - cpu_before) / count * 1000, 3)
    return {**figures(latencies, seconds), "server_cpu_ms": server_cpu}


def serve(url: str, workers: int) -> tuple[subprocess.Popen[bytes], int]:
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

        def pay_in_process(i: int, prefix: str = "local") -> object:
            key = f"{prefix}-{i}"
            payments.post_payment(LOANS[i % len(LOANS)], 1, OPEN, key,
                                  uow_factory=built.uow_factory, clock=built.clock,
                                  is_duplicate_key_error=bootstrap.is_duplicate_key_error)
            return servicing_queries.payment_document(key,
                                                      uow_factory=built.api_uow_factory())

        def pay_request(i: int, prefix: str = "http") -> tuple[str, str, bytes, dict[str, str]]:
            body = json.dumps({"amount": "0.01", "on": OPEN.isoformat()}).encode()
            return ("POST", f"/api/v1/loans/{LOANS[i % len(LOANS)]}/payments", body,
                    auth | {"Idempotency-Key": f"{prefix}-{i}"})

        def decision_request(_: int) -> tuple[str, str, bytes, dict[str, str]]:
            return "POST", "/api/v1/compliance/decisions", decision_body, auth

        # Each side first warms up uncounted (lazy imports, caches, the first connections).
        in_process(decide, WARM_UP)
        local_decisions = in_process(decide, args.decisions)
        in_process(lambda i: pay_in_process(i, "local-warm"), WARM_UP)
        local_payments = in_process(pay_in_process, args.payments)
        built.engine.dispose()
        server, port = serve(url, args.workers)
        try:
            over_http(port, WARM_UP, args.clients, decision_request, 200, server.pid)
            http_decisions = over_http(port, args.decisions, args.clients, decision_request,
                                       200, server.pid)
            over_http(port, WARM_UP, args.clients, lambda i: pay_request(i, "http-warm"), 201,
                      server.pid)
            http_payments = over_http(port, args.payments, args.clients, pay_request, 201,
                                      server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)

    def ratio(over: dict[str, float | None], local: dict[str, float | None]) -> float:
        return round(float(over["per_second"] or 0) / float(local["per_second"] or 1), 3)

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
              f"ratio {item['ratio']:.2f} | CPU per request: server "
              f"{item['http']['server_cpu_ms']} ms, in-process "
              f"{item['in_process']['cpu_ms']} ms")


if __name__ == "__main__":
    main()
