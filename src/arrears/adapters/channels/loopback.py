"""Receiving ends on 127.0.0.1 for development, tests and benchmarks: an HTTP gateway that
records requests (and can fail on purpose: status codes, or hanging until released so the
client times out) and an SMTP server (aiosmtpd, a development dependency) that records mail.

Both de-duplicate on the message id the way a real receiver would and count the repeats.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

HANG = -1
"""A response plan value: hold the request until the sink is closed (the client times out)."""


@dataclass(slots=True)
class Received:
    message_id: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    at: Any = None
    """What the sink's `now` callable said when the request arrived (a test clock)."""


@dataclass(slots=True)
class _State:
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class HttpGatewaySink:
    """A JSON/form SMS gateway on loopback. `plan(received, n)` returns the status code for
    the n-th request (1-based) or `HANG`; `on_request` runs before answering."""

    def __init__(
        self,
        *,
        plan: Callable[[Received, int], int] = lambda _r, _n: 200,
        now: Callable[[], Any] = lambda: None,
        on_request: Callable[[Received, int], None] = lambda _r, _n: None,
    ) -> None:
        self.plan = plan
        self.now = now
        self.on_request = on_request
        self.state = _State()
        self.release = threading.Event()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: Any) -> None:
                return

            def setup(self) -> None:
                super().setup()
                # Answer in one segment without waiting for the client's delayed ACK.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                kind = self.headers.get("Content-Type", "")
                if "json" in kind:
                    body = json.loads(raw or b"{}")
                else:
                    body = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                message_id = (self.headers.get("Idempotency-Key")
                              or self.headers.get("I-Twilio-Idempotency-Token")
                              or str(body.get("message_id", "")))
                received = Received(message_id=message_id, path=self.path,
                                    headers=dict(self.headers), body=body, at=sink.now())
                with sink.state.lock:
                    sink.state.received.append(received)
                    count = len(sink.state.received)
                sink.on_request(received, count)
                status = sink.plan(received, count)
                if status == HANG:
                    sink.release.wait()
                    status = 503
                payload = json.dumps({"id": message_id}).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the client gave up (timeout)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> HttpGatewaySink:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    @property
    def received(self) -> list[Received]:
        with self.state.lock:
            return list(self.state.received)

    def accepted(self) -> list[Received]:
        """Requests answered with success (what the gateway would pass on)."""
        return [r for n, r in enumerate(self.received, 1) if 200 <= self.plan(r, n) < 300]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SmtpSink:
    """An SMTP server on loopback (aiosmtpd) recording each message's id, recipients, body."""

    def __init__(self, *, now: Callable[[], Any] = lambda: None) -> None:
        from aiosmtpd.controller import Controller

        self.now = now
        self.state = _State()
        sink = self

        class Handler:
            async def handle_DATA(self, _server: Any, session: Any, envelope: Any) -> str:
                message = message_from_bytes(envelope.content, policy=default_policy)
                body = message.get_body(preferencelist=("plain",))
                received = Received(
                    message_id=str(message.get("X-Arrears-Message-Id", "")),
                    path="smtp", headers={k: str(v) for k, v in message.items()},
                    body={"to": list(envelope.rcpt_tos),
                          "text": body.get_content() if body is not None else ""},
                    at=sink.now())
                with sink.state.lock:
                    sink.state.received.append(received)
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SmtpSink:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()

    @property
    def received(self) -> list[Received]:
        with self.state.lock:
            return list(self.state.received)
