"""The supervisor's and the compliance dashboards without a browser: every route checks the
role, the figures are the book's (on SQLite and PostgreSQL alike), the clocks are judged by
the domain's rules, and the charts are accessible SVG whose bars keep the data's proportions."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from arrears.application import dashboards
from arrears.application.complaints import ComplaintRow
from arrears.application.disputes import DisputeRow
from arrears.application.handlers import casework, complaints
from arrears.domain.complaints import Category, Deadlines, Source, Team
from arrears.domain.disputes import About, Channel, DisputeKind
from arrears.entrypoints.web import charts

from loopback import BACKENDS, postgres_schema_url
from web_book import COLLECTOR_LOAN, PASSWORD, WORKING_HOURS, Book, app_for, build_book


@pytest.fixture(scope="module", params=BACKENDS)
def busy_book(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
              ) -> Iterator[Book]:
    """The web book with some casework: C-01 called twice and took a promise, and the
    borrower complained about one of the calls."""
    tmp = tmp_path_factory.mktemp("dashboards")
    urls = iter([None]) if request.param == "sqlite" else postgres_schema_url()
    for url in urls:
        built = build_book(tmp, url)
        factory = built.services.uow_factory
        calls = [casework.log_contact(COLLECTOR_LOAN, actor="C-01", channel="call",
                                      outcome=outcome, at=WORKING_HOURS + timedelta(hours=h),
                                      uow_factory=factory)
                 for h, outcome in ((0, "no_answer"), (1, "conversation"))]
        casework.record_promise(COLLECTOR_LOAN, 10_000, date(2026, 3, 25), collector="C-01",
                                uow_factory=factory, clock=built.clock)
        complaints.file_complaint(complaints.NewComplaint(
            loan_ref=COLLECTOR_LOAN, source="borrower", category="harassment",
            summary="called twice", at=WORKING_HOURS + timedelta(hours=2),
            contact_ids=(calls[1].contact_id,)), uow_factory=factory)
        yield built
        built.services.engine.dispose()


def test_the_supervisor_board_counts_the_books_cases_and_casework(busy_book: Book) -> None:
    factory = busy_book.services.web_uow_factory()
    board = dashboards.supervisor_board(uow_factory=factory)
    with factory() as uow:  # the queue's case list, read another way
        open_cases = uow.api.case_page(after=0, limit=10_000, on=board.as_of + timedelta(1),
                                       queue=None, collector_ref=None, agency_ref=None)
    assert [b.bucket for b in board.buckets] == ["C", "M1", "M2", "M3", "M4", "M5", "M6", "M7+"]
    for bucket in board.buckets:
        mine = [c for c in open_cases if c.bucket == bucket.bucket]
        assert (bucket.cases, bucket.balance) == (len(mine), sum(c.balance for c in mine))
    c01 = next(c for c in board.collectors if c.collector_ref == "C-01")
    assert (c01.open_cases, c01.contacts, c01.promises_open) == (1, 2, 1)
    assert sum(c.open_cases for c in board.collectors) == 1  # only C-01's case is assigned
    huaxin = next(a for a in board.agencies if a.agency_ref == "AG-HUAXIN")
    assert huaxin.in_force == huaxin.placed > 0 and huaxin.recalled == 0


def test_the_case_page_reads_the_loans_promises_as_taken(busy_book: Book) -> None:
    factory = busy_book.services.web_uow_factory()
    with factory() as uow:
        booked = uow.book.get(COLLECTOR_LOAN)
        assert booked is not None
        on_file = uow.collections.promises_of(booked.id, 10)
        others = uow.collections.promises_of(booked.id + 1, 10)
        none_wanted = uow.collections.promises_of(booked.id, 0)
        same = [uow.collections.promise_made(booked.id, amount, due, day)
                for amount, due, day in ((10_000, date(2026, 3, 25), date(2026, 3, 22)),
                                         (10_001, date(2026, 3, 25), date(2026, 3, 22)),
                                         (10_000, date(2026, 3, 26), date(2026, 3, 22)),
                                         (10_000, date(2026, 3, 25), date(2026, 3, 23)))]
    assert [(p.amount, p.due_on, p.promised_on, p.status, p.collector_ref, p.paid)
            for p in on_file] == [(10_000, date(2026, 3, 25), date(2026, 3, 22), "open",
                                   "C-01", 0)]
    assert others == [] and none_wanted == []
    assert same == [on_file[0].promise_id, None, None, None]


def test_the_compliance_board_counts_blocks_rates_and_clocks(busy_book: Book) -> None:
    factory = busy_book.services.web_uow_factory()
    board = dashboards.compliance_board(uow_factory=factory)
    with factory() as uow:
        summary = uow.collections.summary()
        planned = uow.dashboards.actions_by_day(date(2026, 1, 1), board.as_of)
    # The whole book's actions fall in the window: the blocks agree with the summary's.
    assert {r.rule_id: {"rescheduled": r.rescheduled, "cancelled": r.cancelled}
            for r in board.rules} == summary["blocked_by_rule"]
    assert sum(d.planned for d in board.days) == sum(d.planned for d in planned) > 0
    c01 = next(r for r in board.rates if r["ref"] == "C-01")
    assert (c01["contacts"], c01["complaints"], c01["complaints_per_1000_contacts"]) == \
        (2, 1, "500.00")
    assert board.acknowledge == dashboards.Clocks(running=1)
    assert board.answer == dashboards.Clocks(running=1)
    loans = sum(b["loans"] for b in board.portfolio["buckets"].values())
    assert loans == board.portfolio["active"]["loans"] > 0
    assert set(board.roll_rates) == {"M1→M2", "M2→M3", "M3→M4", "M4→M5", "M5→M6", "M6→M7+"}


def _complaint(filed: date, acknowledged: date | None, answered: date | None) -> ComplaintRow:
    return ComplaintRow(
        id=1, complaint_ref="CMP-1", borrower_id=1, borrower_ref="B", loan_ref="L",
        source=Source.BORROWER, category=Category.OTHER, team=Team.CUSTOMER_CARE,
        jurisdiction="CN", summary="s", filed_at=WORKING_HOURS, filed_on=filed,
        deadlines=Deadlines(acknowledge_by=filed + timedelta(days=1),
                            answer_by=filed + timedelta(days=14),
                            acknowledged_on=acknowledged, answered_on=answered))


def test_complaint_clocks_follow_the_domains_lateness() -> None:
    filed = date(2026, 3, 1)
    rows = [_complaint(filed, filed, filed + timedelta(days=3)),  # both in time
            _complaint(filed, filed + timedelta(days=5), None),  # acknowledged late, running
            _complaint(filed, None, filed + timedelta(days=20)),  # answered late (acknowledges)
            _complaint(filed, None, None)]  # both overdue
    acknowledge, answer = dashboards.complaint_clocks(rows, filed + timedelta(days=16))
    assert acknowledge == dashboards.Clocks(met=1, missed=2, overdue=1)
    assert answer == dashboards.Clocks(met=1, missed=1, overdue=2)
    early = dashboards.complaint_clocks(rows[3:], filed)
    assert early == (dashboards.Clocks(running=1), dashboards.Clocks(running=1))


def test_objection_clocks_skip_disputes_without_an_answer_clock() -> None:
    received = date(2026, 3, 2)

    def row(kind: DisputeKind, answered: date | None) -> DisputeRow:
        return DisputeRow(id=1, dispute_ref="D", loan_id=1, loan_ref="L", borrower_id=1,
                          jurisdiction="CN", kind=kind, about=About.DEBT,
                          channel=Channel.PORTAL, received_at=WORKING_HOURS,
                          received_on=received, answered_on=answered)

    rows = [row(DisputeKind.OBJECTION, date(2026, 3, 22)),  # the last day: in time (CN-23)
            row(DisputeKind.OBJECTION, date(2026, 3, 23)),
            row(DisputeKind.OBJECTION, None),
            row(DisputeKind.DISPUTE, None)]  # US: no answer clock
    assert dashboards.objection_clock(rows, date(2026, 3, 22)) == \
        dashboards.Clocks(met=1, missed=1, running=1)
    assert dashboards.objection_clock(rows, date(2026, 3, 23)) == \
        dashboards.Clocks(met=1, missed=1, overdue=1)


def test_bars_keep_the_datas_proportions_and_escape_labels() -> None:
    svg = charts.bars("c", "Title <b>", "Desc", [
        charts.Bar(label="<script>", value=4, shown="4"),
        charts.Bar(label="half", value=Decimal(2), shown="2"),
        charts.Bar(label="none", value=0, shown="0")])
    assert 'role="img"' in svg and 'aria-labelledby="c-title c-desc"' in svg
    assert "<title id=\"c-title\">Title &lt;b&gt;</title>" in svg
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    widths = [float(w) for w in re.findall(r'<rect [^>]*width="([\d.]+)"', svg)]
    assert widths[0] == pytest.approx(2 * widths[1]) and widths[2] == 0
    assert widths[0] > charts.WIDTH / 2  # the largest bar takes the room there is
    assert charts.bars("e", "T", "D", []) == ""


def test_columns_draw_the_held_back_part_over_the_total() -> None:
    svg = charts.columns("d", "T", "D", [charts.Column(label="03-01", total=10, part=5),
                                         charts.Column(label="03-02", total=5, part=0)])
    heights = [float(h) for h in re.findall(r'<rect [^>]*height="([\d.]+)"', svg)]
    assert heights == [charts.COLUMN_HEIGHT, charts.COLUMN_HEIGHT / 2,
                       charts.COLUMN_HEIGHT / 2]
    assert svg.count(charts.ALERT_FILL) == 1


def _signed_in(client: TestClient, name: str) -> None:
    page = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    client.post("/login", data={"name": name, "password": PASSWORD,
                                "csrf_token": token.group(1)})


@pytest.mark.parametrize(("name", "allowed"), [
    ("c01", set()), ("huaxin", set()), ("sup", {"/supervise"}),
    ("officer", {"/compliance"})])
def test_every_dashboard_route_checks_the_role(busy_book: Book, name: str,
                                               allowed: set[str]) -> None:
    with TestClient(app_for(busy_book), headers={"accept-language": "en"}) as client:
        assert client.get("/supervise", follow_redirects=False).headers["location"] == \
            "/login"
        _signed_in(client, name)
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").text)
        assert token is not None
        for path in ("/supervise", "/compliance"):
            assert client.get(path).status_code == (200 if path in allowed else 403), path
        # No such plan: a 404 for a supervisor, a 403 before that for anyone else.
        no_plan = client.get("/supervise/plans/PL-999999").status_code
        assert no_plan == (404 if name == "sup" else 403)
        for action in ("approve", "reject"):
            response = client.post(f"/supervise/plans/PL-999999/{action}",
                                   data={"csrf_token": token.group(1)})
            assert response.status_code == (422 if name == "sup" else 403)
