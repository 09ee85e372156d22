"""`arrears webhooks` end to end on a SQLite book: subscribe (the secret shown once), a
payment raises an event, `deliver --until-idle` POSTs it signed to a receiver on loopback,
`remove` stops the subscription; without ARREARS_WEBHOOK_SECRET nothing is subscribed."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from arrears.application.webhooks import SIGNATURE_HEADER, verify_signature
from arrears.entrypoints.cli.main import run

EXAMPLES = Path(__file__).parents[2] / "examples"


def invoke(capsys, *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        run(list(argv))
    captured = capsys.readouterr()
    return int(exit_info.value.code or 0), captured.out, captured.err


@pytest.fixture
def received() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    """A receiver on 127.0.0.1 that accepts everything: its URL and what it got."""
    got: list[tuple[dict[str, str], bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server hook's name
            got.append((dict(self.headers), self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", got
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def test_subscribe_deliver_and_remove(capsys, tmp_path, monkeypatch, received) -> None:
    url, got = received
    monkeypatch.setenv("ARREARS_WEBHOOK_ALLOW_PRIVATE", "1")  # the receiver is on loopback
    db = f"sqlite:///{tmp_path / 'book.db'}"
    for argv in (("init", "--business-date", "2026-02-02"),
                 ("import", "loans", str(EXAMPLES / "loans.csv"))):
        assert invoke(capsys, *argv, "--db", db)[0] == 0

    code, _, err = invoke(capsys, "webhooks", "add", url, "--db", db)
    assert (code, err.strip()) == (2, "error: ARREARS_WEBHOOK_SECRET: set it to at least 32 "
                                      "random bytes: webhook signing secrets derive from it")
    monkeypatch.setenv("ARREARS_WEBHOOK_SECRET", "x" * 32)
    code, _, err = invoke(capsys, "webhooks", "add", url, "--event", "payment.lost", "--db", db)
    assert code == 2 and err.startswith("error: event_types: unknown event type 'payment.lost'")
    code, out, err = invoke(capsys, "webhooks", "add", url, "--event", "payment.posted",
                            "--db", db, "--json")
    assert code == 0, err
    subscription = json.loads(out)
    code, out, _ = invoke(capsys, "webhooks", "list", "--db", db, "--json")
    assert [s["id"] for s in json.loads(out)["subscriptions"]] == [subscription["id"]]
    assert "secret" not in out

    assert invoke(capsys, "pay", "WLD-1001", "10.00", "--on", "2026-02-02", "--key", "cli-1",
                  "--db", db)[0] == 0
    code, out, err = invoke(capsys, "webhooks", "deliver", "--until-idle", "--db", db, "--json")
    assert code == 0, err
    assert json.loads(out) == {"dispatched": 1, "batches": 1, "claimed": 1, "delivered": 1,
                               "failed": 0, "dead": 0}
    ((headers, body),) = got
    assert json.loads(body)["id"] == "payment.posted:cli-1"
    stamp = int(headers[SIGNATURE_HEADER].split(",")[0].removeprefix("t="))
    assert verify_signature(subscription["secret"], headers[SIGNATURE_HEADER], body, now=stamp)

    assert invoke(capsys, "webhooks", "remove", subscription["id"], "--db", db)[0] == 0
    code, _, err = invoke(capsys, "webhooks", "remove", subscription["id"], "--db", db)
    assert code == 2 and err.startswith("error: id: no subscription")
