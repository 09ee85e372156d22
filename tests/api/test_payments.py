"""Payments over HTTP: once per Idempotency-Key (201, then 200 with the same document, 409 for
another body), signed callbacks (a bad signature or a stale timestamp posts nothing), and 20
simultaneous deliveries of one callback posting once — on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import sqlalchemy as sa

from arrears.adapters.db import tables
from arrears.entrypoints.api.deps import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature

from api_support import OPEN, SECRET, app_for, key
from loopback import LiveServer

PAY = "/api/v1/loans/WLD-1001/payments"


def payment_rows(services) -> list[sa.Row]:
    with services.engine.connect() as connection:
        return list(connection.execute(sa.select(tables.payment)))


def signed(body: dict[str, str], *, stamp: int | None = None, secret: bytes = SECRET,
           idempotency_key: str = "cb-1") -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body).encode()
    when = str(int(time.time()) if stamp is None else stamp)
    return raw, {TIMESTAMP_HEADER: when,
                 SIGNATURE_HEADER: signature(secret, when, idempotency_key, raw),
                 "Idempotency-Key": idempotency_key, "Content-Type": "application/json"}


def test_a_payment_posts_once_per_key(client, small_book) -> None:
    headers = key(small_book, "system", scopes=["payments:write"]) | {"Idempotency-Key": "k-1"}
    body = {"amount": "916.80", "on": OPEN.isoformat()}
    first = client.post(PAY, json=body, headers=headers)
    assert first.status_code == 201, first.text
    assert first.json()["amount"] == "916.80" and first.json()["loan_id"] == "WLD-1001"
    again = client.post(PAY, json=body, headers=headers)
    assert (again.status_code, again.json()) == (200, first.json())
    other = client.post(PAY, json={**body, "amount": "916.81"}, headers=headers)
    assert other.status_code == 409
    assert other.headers["content-type"] == "application/problem+json"
    assert other.json()["field"] == "Idempotency-Key"
    assert len(payment_rows(small_book)) == 1


def test_bad_payment_input_is_a_problem_naming_the_field(client, small_book) -> None:
    headers = key(small_book, "admin")
    cases = [
        ({"amount": "916.80", "on": OPEN.isoformat()}, {}, "Idempotency-Key"),
        ({"amount": "9.999", "on": OPEN.isoformat()}, {"Idempotency-Key": "a"}, "amount"),
        ({"amount": "-1.00", "on": OPEN.isoformat()}, {"Idempotency-Key": "b"}, "amount"),
        ({"amount": "1.00", "on": "2026-13-01"}, {"Idempotency-Key": "c"}, "on"),
        ({"amount": "1.00", "on": "2030-01-01"}, {"Idempotency-Key": "d"}, "on"),
        ({"amount": 1.5, "on": OPEN.isoformat()}, {"Idempotency-Key": "e"}, "amount"),
    ]
    for body, extra, field in cases:
        response = client.post(PAY, json=body, headers=headers | extra)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["field"] == field, (body, response.json())
    assert payment_rows(small_book) == []


def test_a_key_without_the_scope_or_no_key_posts_nothing(client, small_book) -> None:
    body = {"amount": "916.80", "on": OPEN.isoformat()}
    assert client.post(PAY, json=body, headers={"Idempotency-Key": "x"}).status_code == 401
    bad = {"Authorization": "Bearer arr_nothere_secret", "Idempotency-Key": "x"}
    assert client.post(PAY, json=body, headers=bad).status_code == 401
    reader = key(small_book, "compliance") | {"Idempotency-Key": "x"}
    assert client.post(PAY, json=body, headers=reader).status_code == 403
    assert payment_rows(small_book) == []


def test_a_revoked_key_is_refused(client, small_book) -> None:
    from arrears.application.handlers import api_keys

    headers = key(small_book, "admin")
    assert client.get("/api/v1/loans/WLD-1001/status", headers=headers).status_code == 200
    key_ref = headers["Authorization"].split("_")[1]
    api_keys.revoke_key(key_ref, uow_factory=small_book.api_uow_factory(),
                        clock=small_book.clock)
    assert client.get("/api/v1/loans/WLD-1001/status", headers=headers).status_code == 401


def test_a_bad_signature_or_a_replayed_timestamp_is_401_and_posts_nothing(client,
                                                                          small_book) -> None:
    body = {"loan_id": "WLD-1001", "amount": "100.00", "on": OPEN.isoformat()}
    raw, headers = signed(body, secret=b"x" * 32)
    assert client.post("/api/v1/callbacks/payments", content=raw,
                       headers=headers).status_code == 401
    raw, headers = signed(body, stamp=int(time.time()) - 3600)
    assert client.post("/api/v1/callbacks/payments", content=raw,
                       headers=headers).status_code == 401
    raw, headers = signed(body)
    tampered = raw.replace(b"100.00", b"900.00")
    assert client.post("/api/v1/callbacks/payments", content=tampered,
                       headers=headers).status_code == 401
    assert payment_rows(small_book) == []
    assert client.post("/api/v1/callbacks/payments", content=raw,
                       headers=headers).status_code == 201
    assert len(payment_rows(small_book)) == 1


def test_a_captured_callback_replayed_under_another_key_posts_nothing(client,
                                                                      small_book) -> None:
    """The signature covers the Idempotency-Key: a callback seen on the wire cannot be sent
    again within the replay window under a fresh key to post the payment twice."""
    raw, headers = signed({"loan_id": "WLD-1001", "amount": "100.00", "on": OPEN.isoformat()})
    assert client.post("/api/v1/callbacks/payments", content=raw,
                       headers=headers).status_code == 201
    for other in ("cb-2", "cb-1 ", ""):
        replayed = client.post("/api/v1/callbacks/payments", content=raw,
                               headers=headers | {"Idempotency-Key": other})
        assert replayed.status_code in (401, 422), (other, replayed.text)
    assert len(payment_rows(small_book)) == 1


def test_twenty_simultaneous_deliveries_of_one_callback_post_once(small_book) -> None:
    server = LiveServer(app_for(small_book))
    try:
        raw, headers = signed({"loan_id": "WLD-1001", "amount": "250.00",
                               "on": OPEN.isoformat()})
        with httpx.Client(base_url=server.url, timeout=30) as http, \
                ThreadPoolExecutor(max_workers=20) as pool:
            responses = list(pool.map(
                lambda _: http.post("/api/v1/callbacks/payments", content=raw,
                                    headers=headers), range(20)))
    finally:
        server.stop()
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 19 + [201], [r.text for r in responses if r.status_code >= 300]
    assert len({r.text for r in responses}) == 1
    rows = payment_rows(small_book)
    assert len(rows) == 1 and rows[0].amount == 25_000


def test_simultaneous_reversals_reverse_once_and_answer_without_a_server_error(
        small_book) -> None:
    """Eight deliveries of one reversal (one key), then eight reversals of another payment
    under eight keys: each payment is reversed once; the rest are retries (200) or refused
    as already reversed (422), none a 500."""
    headers = key(small_book, "admin")
    server = LiveServer(app_for(small_book))
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http, \
                ThreadPoolExecutor(max_workers=8) as pool:
            for paid in ("p-1", "p-2"):
                assert http.post(PAY, json={"amount": "100.00", "on": OPEN.isoformat()},
                                 headers=headers | {"Idempotency-Key": paid}
                                 ).status_code == 201
            same = sorted(pool.map(lambda _: http.post(
                "/api/v1/payments/p-1/reversals",
                headers=headers | {"Idempotency-Key": "r-1"}).status_code, range(8)))
            other = sorted(pool.map(lambda n: http.post(
                "/api/v1/payments/p-2/reversals",
                headers=headers | {"Idempotency-Key": f"r-2-{n}"}).status_code, range(8)))
    finally:
        server.stop()
    assert same == [200] * 7 + [201]
    assert other == [201] + [422] * 7
    assert sorted(r.amount for r in payment_rows(small_book)) == [-10_000, -10_000,
                                                                  10_000, 10_000]


def test_a_reversal_answers_the_same_document_when_retried(client, small_book) -> None:
    headers = key(small_book, "admin")
    assert client.post(PAY, json={"amount": "100.00", "on": OPEN.isoformat()},
                       headers=headers | {"Idempotency-Key": "p-1"}).status_code == 201
    first = client.post("/api/v1/payments/p-1/reversals",
                        headers=headers | {"Idempotency-Key": "r-1"})
    again = client.post("/api/v1/payments/p-1/reversals",
                        headers=headers | {"Idempotency-Key": "r-1"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    assert (first.json()["amount"], first.json()["reverses"], first.json()["key"]) == (
        "-100.00", True, "r-1")
