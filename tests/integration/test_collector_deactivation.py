"""`casework.deactivate_collector` on a migrated book (SQLite, and PostgreSQL when configured):
in the one transaction that takes a collector off the floor, every way they had of acting dies
— credentials, API keys, web sign-ins — each field visit ahead that names them is cancelled
with its team's visit notices, no case reads as theirs, and a case sync running at the same
moment cannot give them a case the deactivation misses."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from arrears import bootstrap
from arrears.adapters.db import collections_tables as ct
from arrears.adapters.db import tables
from arrears.adapters.db.collections_store import SqlCollections
from arrears.application.access import Principal, Role, loan_in_scope
from arrears.application.handlers import api_keys, case_assignment, casework, credentials, users
from arrears.application.handlers import collections as handlers
from arrears.domain.credential import Verdict
from arrears.domain.errors import DomainError
from arrears.domain.evidence import instant_text
from arrears.entrypoints.api.app import create_app
from arrears.entrypoints.api.settings import ApiSettings

from lock_races import race, until_a_lock_is_awaited
from trust_book import CLOSED, ISSUER, TODAY, at, open_book

ZONE = "Asia/Shanghai"
PASSWORD = "a long enough password"
API = ApiSettings(key_cache_seconds=0, public_rate_per_second=1000, public_burst=1000)


@pytest.fixture(autouse=True)
def cheap_password_hashes() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(users, "_hasher", lambda: PasswordHasher(time_cost=1, memory_cost=8,
                                                               parallelism=1))
        yield


@pytest.fixture
def book(services: bootstrap.Services) -> bootstrap.Services:
    return open_book(services)


def _deactivate(services: bootstrap.Services, ref: str, reason: str = "left the company"
                ) -> casework.Deactivated:
    return casework.deactivate_collector(ref, reason=reason,
                                         uow_factory=services.web_uow_factory(),
                                         clock=services.clock, zone=ZONE)


def _holder_of(services: bootstrap.Services, loan_ref: str) -> str:
    with services.api_uow_factory()() as uow:
        booked = uow.book.get(loan_ref)
        assert booked is not None
        holder = uow.api.case_holder(booked.borrower_id, TODAY)
    assert holder is not None and holder.collector_ref is not None
    return holder.collector_ref


def _key(services: bootstrap.Services, collector: str) -> api_keys.CreatedKey:
    return api_keys.create_key(f"key of {collector}", "collector", collector=collector,
                               uow_factory=services.api_uow_factory(), clock=services.clock)


def _user(services: bootstrap.Services, name: str, collector: str) -> None:
    users.create_user(name, "collector", PASSWORD, collector=collector,
                      uow_factory=services.web_uow_factory(), clock=services.clock)


def _verdict(services: bootstrap.Services, token: str, on: date | None = None) -> Verdict:
    question = credentials.question_on(on, services.clock.now(), ZONE, debt=None, scope=None)
    return credentials.verify(token, question, uow_factory=services.uow_factory,
                              keys=services.keys).verdict


def _badge(services: bootstrap.Services, ref: str) -> str:
    return credentials.issue_badge(ref, f"BADGE-{ref}", at(TODAY, 0), at(date(2027, 1, 1), 0),
                                   uow_factory=services.uow_factory, keys=services.keys,
                                   clock=services.clock, issuer=ISSUER).token


def _issue(services: bootstrap.Services, ref: str, debt: str, scope: str,
           visit_on: date | None = None) -> str:
    return credentials.issue(
        credentials.IssueRequest(collector=ref, debt=debt, scope=scope, visit_on=visit_on),
        uow_factory=services.uow_factory, keys=services.keys, clock=services.clock, zone=ZONE,
        issuer=ISSUER).token


def _authorize(services: bootstrap.Services, ref: str, loan: str, team: tuple[str, ...]
               ) -> None:
    casework.authorize_visit(casework.VisitAuthorizationRequest(
        authorization_ref=ref, loan_ref=loan, collectors=team, issued_at=at(TODAY, 8),
        valid_until=at(TODAY + timedelta(days=10), 0), legal_reviewer="法务部 赵律师",
        legal_review_at=at(TODAY, 9)), uow_factory=services.uow_factory)


def test_every_way_a_deactivated_collector_had_of_acting_dies_with_them(book) -> None:
    """Each kind of credential the collector held — API keys (two), a web user, a badge, a
    credential for a debt, a visit notice — is dead after the deactivation, an API request with
    their key refused exactly as a revoked key is; another collector's keep working; the
    event says what was revoked, the operator's reason with it."""
    gone = _holder_of(book, "WLD-1001")
    other = next(ref for ref in ("C-01", "C-02", "C-03", "C-04") if ref != gone)
    keys = [_key(book, gone), _key(book, gone)]
    kept_key, revoked_key = _key(book, other), _key(book, other)
    _user(book, "gone.user", gone)
    _user(book, "kept.user", other)
    _authorize(book, "VA-1", "WLD-1001", (gone, other))
    tokens = [_badge(book, gone), _issue(book, gone, "WLD-1001", "call"),
              _issue(book, gone, "WLD-1001", "visit", visit_on=TODAY + timedelta(days=2))]
    client = TestClient(create_app(book.settings, api_settings=API, services=book),
                        raise_server_exceptions=False)
    cases = "/api/v1/cases"
    for created in (*keys, kept_key):
        assert client.get(cases, headers=_bearer(created)).status_code == 200

    done = _deactivate(book, gone)

    assert sorted(done.api_keys_revoked) == sorted(k.key_ref for k in keys)
    assert done.web_users_disabled == ("gone.user",)
    assert len(done.credentials_revoked) == 3
    api_keys.revoke_key(revoked_key.key_ref, uow_factory=book.api_uow_factory(),
                        clock=book.clock)
    refused = client.get(cases, headers=_bearer(revoked_key))
    assert refused.status_code == 401
    for created in keys:
        response = client.get(cases, headers=_bearer(created))
        assert (response.status_code, response.json(), response.headers["WWW-Authenticate"]) \
            == (401, refused.json(), refused.headers["WWW-Authenticate"])
    assert client.get(cases, headers=_bearer(kept_key)).status_code == 200
    listed = {k["id"]: k["revoked_at"] for k in
              api_keys.list_keys(uow_factory=book.api_uow_factory())}
    assert {datetime.fromisoformat(listed[k.key_ref]) for k in keys} == {book.clock.now()}

    web = book.web_uow_factory()
    assert users.sign_in("gone.user", PASSWORD, uow_factory=web) is None
    assert users.signed_in_user("gone.user", uow_factory=web) is None  # sessions end
    assert users.sign_in("kept.user", PASSWORD, uow_factory=web) is not None
    for token in tokens:
        assert _verdict(book, token, TODAY + timedelta(days=2)) is Verdict.REVOKED

    with book.engine.connect() as connection:
        (payload,) = connection.execute(sa.select(tables.outbox.c.payload).where(
            tables.outbox.c.topic == "collector.deactivated")).scalars().all()
    event = json.loads(payload)
    assert event["reason"] == "left the company"
    assert sorted(event["api_keys_revoked"]) == sorted(done.api_keys_revoked)
    assert event["web_users_disabled"] == ["gone.user"]


def _bearer(created: api_keys.CreatedKey) -> dict[str, str]:
    return {"Authorization": f"Bearer {created.key}"}


def test_a_second_deactivation_is_a_clean_error_that_changes_nothing(book) -> None:
    gone = _holder_of(book, "WLD-1001")
    _deactivate(book, gone)
    later = _key(book, "C-05")  # made after: a second attempt must not reach past the check
    with pytest.raises(DomainError, match="already deactivated") as refused:
        _deactivate(book, gone, reason="again")
    assert refused.value.field == "collector"
    assert later.key_ref not in [k["id"] for k in api_keys.list_keys(
        uow_factory=book.api_uow_factory()) if k["revoked_at"]]
    with book.engine.connect() as connection:
        assert connection.scalar(sa.select(sa.func.count()).where(
            tables.outbox.c.topic == "collector.deactivated")) == 1


def _visit(services: bootstrap.Services, loan: str, hour: int, authorization: str) -> None:
    outcome = casework.request_visit(loan, at(TODAY, hour), authorization_ref=authorization,
                                     uow_factory=services.uow_factory)
    assert outcome.recorded, outcome.reason


def test_visits_ahead_naming_the_collector_are_cancelled_with_their_team_s_notices(book
                                                                                 ) -> None:
    """Each scheduled visit still ahead that names the collector is cancelled, and every visit
    notice for it — theirs and their partner's — reads revoked to a borrower at the door; a
    visit naming other collectors stays scheduled and its notices genuine. The borrower's
    evidence chain keeps the cancellation in general terms."""
    for ref in ("C-02", "C-03", "C-04", "C-05"):
        _badge(book, ref)
    casework.log_contact("WLD-1001", actor="C-02", channel="call", outcome="refused",
                         at=at(TODAY, 9), uow_factory=book.uow_factory)
    _authorize(book, "VA-1", "WLD-1001", ("C-02", "C-05"))
    _authorize(book, "VA-2", "WLD-1001", ("C-03", "C-04"))
    _visit(book, "WLD-1001", 15, "VA-1")
    _visit(book, "WLD-1001", 16, "VA-2")
    notices = {ref: _issue(book, ref, "WLD-1001", "visit", visit_on=TODAY)
               for ref in ("C-02", "C-05", "C-03", "C-04")}
    assert all(_verdict(book, token, TODAY) is Verdict.GENUINE for token in notices.values())

    done = _deactivate(book, "C-02")

    assert done.visits_cancelled == 1
    with book.engine.connect() as connection:
        statuses = dict(connection.execute(
            sa.select(ct.field_visit.c.collectors, ct.field_visit.c.status)).all())
    assert statuses == {"C-02,C-05": "cancelled", "C-03,C-04": "scheduled"}
    verdicts = {ref: _verdict(book, token, TODAY) for ref, token in notices.items()}
    assert verdicts == {"C-02": Verdict.REVOKED, "C-05": Verdict.REVOKED,
                        "C-03": Verdict.GENUINE, "C-04": Verdict.GENUINE}
    with book.uow_factory() as uow:
        booked = uow.book.get("WLD-1001")
        assert booked is not None
        entries = uow.evidence.entries(booked.borrower_id)
    (cancelled,) = [e for e in entries if e.kind == "visit_cancelled"]
    assert cancelled.payload == {"loan_id": "WLD-1001", "authorization": "VA-1",
                                 "planned_at": instant_text(at(TODAY, 15)),
                                 "reason": "collector deactivated"}
    assert "left the company" not in json.dumps([e.payload for e in entries])


def test_a_collector_deactivated_holds_no_case_even_one_left_assigned(book) -> None:
    """A case still naming a deactivated collector (left by a sync that raced the deactivation
    before collector rows were locked, or by any path): the case reads as nobody's — the
    collector's scope is empty, the case list shows no collector, and a supervisor's
    reassignment revokes nothing in their name."""
    gone = _holder_of(book, "WLD-1001")
    with book.engine.begin() as connection:
        connection.execute(ct.collector.update().where(ct.collector.c.collector_ref == gone)
                           .values(active=False))  # the case keeps collector_id
    principal = Principal(key_ref="k", role=Role.COLLECTOR, scopes=frozenset(),
                          agency_ref=None, collector_ref=gone)
    with book.api_uow_factory()() as uow:
        booked = uow.book.get("WLD-1001")
        assert booked is not None
        holder = uow.api.case_holder(booked.borrower_id, TODAY)
        assert holder is not None and holder.collector_ref is None
        assert loan_in_scope(uow, principal, "WLD-1001") is None
        rows = uow.api.case_page(after=0, limit=50, on=TODAY, queue=None,
                                 collector_ref=None, agency_ref=None)
        assert gone not in {r.collector_ref for r in rows}
        assert uow.api.case_page(after=0, limit=50, on=TODAY, queue=None, collector_ref=gone,
                                 agency_ref=None) == []


# --- the race with a case sync ---------------------------------------------------------------


def test_a_deactivation_during_a_case_sync_releases_what_the_sync_gave(book, monkeypatch
                                                                      ) -> None:
    """Two connections: a case sync has chosen its collectors and is about to write cases when
    the collector is deactivated. The deactivation waits for the sync (FOR SHARE against FOR
    UPDATE on PostgreSQL, the writer lock on SQLite) and then releases the cases the sync gave
    the collector — no open case is left with a collector off the floor."""
    gone = "C-02"
    with book.engine.begin() as connection:  # C-02 alone on the floor, every case waiting
        connection.execute(ct.collector.update().where(ct.collector.c.collector_ref != gone)
                           .values(active=False))
        connection.execute(ct.collection_case.update().values(collector_id=None))
        gone_id = connection.scalar(sa.select(ct.collector.c.id).where(
            ct.collector.c.collector_ref == gone))
    chosen, proceed = threading.Event(), threading.Event()
    original = SqlCollections.overdue_borrowers

    def paused(self: SqlCollections) -> list[tuple[int, int, int, str, str]]:
        if threading.current_thread().name == "sync":
            chosen.set()
            assert proceed.wait(30)
        return original(self)

    monkeypatch.setattr(SqlCollections, "overdue_borrowers", paused)
    results: dict[str, object] = {}

    def run(name: str, work: object) -> threading.Thread:
        def target() -> None:
            try:
                results[name] = work()  # type: ignore[operator]
            except BaseException as error:  # noqa: BLE001 - reported by the assertions
                results[name] = error
        thread = threading.Thread(target=target, name=name)
        thread.start()
        return thread

    sync = run("sync", lambda: handlers.sync_cases(CLOSED, uow_factory=book.uow_factory,
                                                   clock=book.clock))
    assert chosen.wait(30)
    deactivation = run("deactivation", lambda: _deactivate(book, gone))
    if book.engine.dialect.name == "postgresql":  # SQLite's writer waits in its busy handler
        until_a_lock_is_awaited(book, deactivation)
    proceed.set()
    sync.join(30)
    deactivation.join(30)
    assert not isinstance(results["sync"], BaseException), results["sync"]
    done = results["deactivation"]
    assert isinstance(done, casework.Deactivated), done
    with book.engine.connect() as connection:
        holders = connection.execute(sa.select(ct.collection_case.c.collector_id).where(
            ct.collection_case.c.status == "open")).scalars().all()
    assert gone_id not in holders
    assert done.cases_released == len(holders) > 0  # the sync gave them all to C-02


def test_a_key_made_for_a_collector_being_deactivated_is_revoked_with_them(
        book, monkeypatch) -> None:
    """A key (or a web user, or a credential) made for the collector reads their row FOR
    SHARE: a deactivation committing meanwhile waits for it, then revokes it with the rest."""
    if book.engine.dialect.name != "postgresql":
        pytest.skip("a SQLite writer holds the whole database: no other writer comes between")
    with book.uow_factory() as uow:
        ref = uow.collections.collectors()[0].collector_ref
    results = race(book, monkeypatch, SqlCollections, "collectors",
                   lambda: api_keys.create_key("made meanwhile", "collector", collector=ref,
                                               uow_factory=book.api_uow_factory(),
                                               clock=book.clock),
                   lambda: _deactivate(book, ref))
    made, done = results["first"], results["second"]
    assert isinstance(done, casework.Deactivated), done
    assert made.key_ref in done.api_keys_revoked, (made, done)
    with book.api_uow_factory()() as uow:
        assert [k.key_ref for k in uow.api.keys()
                if k.collector_ref == ref and k.revoked_at is None] == []


def test_the_collector_rows_are_locked_on_postgresql_and_the_sql_runs_on_sqlite(book
                                                                                ) -> None:
    """The statements that choose a collector (sync, assignment) read its row FOR SHARE and the
    deactivation FOR UPDATE on PostgreSQL; SQLite, whose writer lock covers it, gets no lock
    clause and runs the same calls."""
    seen: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        if "FROM collector" in statement and "collection_case" not in statement:
            seen.append(" ".join(statement.split()))

    with book.uow_factory() as uow:
        booked = uow.book.get("WLD-1001")  # M2, not placed
        assert booked is not None
        case = uow.collections.case_of_borrower(booked.borrower_id)
        assert case is not None
    sa.event.listen(book.engine, "before_cursor_execute", record)
    try:
        handlers.sync_cases(CLOSED, uow_factory=book.uow_factory, clock=book.clock)
        case_assignment.assign_case(case.id, "C-02", by="web:boss",
                                    uow_factory=book.api_uow_factory(), clock=book.clock)
        _deactivate(book, "C-01")
    finally:
        sa.event.remove(book.engine, "before_cursor_execute", record)
    postgres = book.engine.dialect.name == "postgresql"
    shared = [s for s in seen if s.endswith("FOR SHARE")]
    updated = [s for s in seen if s.endswith("FOR UPDATE")]
    assert (len(shared), len(updated)) == ((2, 1) if postgres else (0, 0)), seen
