"""Reliability: the `arrears worker` process is killed (SIGKILL) in the middle of a batch and
started again. Every message is delivered; a message delivered twice carries the same id;
and the repeats are bounded by the batch that was in flight."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import timedelta

from arrears.adapters.channels.loopback import HttpGatewaySink

from outbox_support import enqueue, local, message, statuses

BATCH = 10
TOTAL = 35
KILL_AT = 17  # the 7th request of the second batch


def _worker(database_url: str, gateway: str, at: str, sink_dir) -> subprocess.Popen:  # noqa: ANN001
    return subprocess.Popen(
        [sys.executable, "-m", "arrears.entrypoints.cli.collections", "worker",
         "--db", database_url, "--sms-webhook", gateway, "--batch-size", str(BATCH),
         "--lease-seconds", "60", "--until-idle", "--at", at, "--sink-dir", str(sink_dir),
         "--http-timeout", "5", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_worker_killed_mid_batch_then_restarted_delivers_everything_once_or_twice(
    services, database_url, tmp_path
) -> None:
    start = local("2026-03-12T10:00")
    enqueue(services, [message(i, at=start) for i in range(TOTAL)])
    process: list[subprocess.Popen] = []

    def kill_mid_batch(_received, count: int) -> None:  # noqa: ANN001
        if count == KILL_AT and len(process) == 1:
            os.kill(process[0].pid, signal.SIGKILL)

    with HttpGatewaySink(on_request=kill_mid_batch) as gateway:
        process.append(_worker(database_url, gateway.url, start.isoformat(), tmp_path))
        process[0].communicate(timeout=120)
        assert process[0].returncode == -signal.SIGKILL
        first_run = [r.message_id for r in gateway.received]
        assert len(first_run) == KILL_AT
        # Restarted after the dead worker's lease ran out (the clock is the test's).
        later = (start + timedelta(seconds=61)).isoformat()
        process.append(_worker(database_url, gateway.url, later, tmp_path))
        out, err = process[1].communicate(timeout=120)
        assert process[1].returncode == 0, err
        received = [r.message_id for r in gateway.received]
    counts = Counter(received)
    everything = {f"msg-sms-{i:05d}" for i in range(TOTAL)}
    assert set(counts) == everything, "a message was lost"
    repeats = {mid for mid, n in counts.items() if n > 1}
    assert all(n <= 2 for n in counts.values())
    # Only the batch in flight when the worker died is delivered again.
    in_flight = set(first_run[(KILL_AT - 1) // BATCH * BATCH:])
    assert repeats <= in_flight
    assert len(repeats) <= BATCH
    assert len(repeats) == KILL_AT - (KILL_AT - 1) // BATCH * BATCH
    assert all(status == "delivered" for status, _ in statuses(services).values())
