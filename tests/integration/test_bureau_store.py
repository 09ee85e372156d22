"""Credit reporting through the SQL store (SQLite, and PostgreSQL when configured), as a user
runs it: a small book of January loans boarded from CSV into a book opened in March, its
end-of-day run through April, payments posted (back-dated: each restates its loan),
pre-report notices recorded, then `arrears report bureau` for each month in both formats. Each
file validates, and its records say what the domain computes on its own from the same loans and
payments (build_snapshot month by month): the PBOC 24-month status string (CN-25) and the
Metro 2 status, profile, amounts and dates (M2-2 … M2-7), and a guarantor in J1 (M2-1, M2-9).
A rebuilt old month with nothing changed re-sends nothing."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from arrears import bootstrap
from arrears.application.bureau import BureauNotice, NoticeKind
from arrears.application.handlers import bureau as reporting
from arrears.application.handlers import eod, payments, servicing
from arrears.domain.bureau import layouts
from arrears.domain.bureau.snapshot import Month, MonthSnapshot, build_snapshot
from arrears.domain.bureau.validate import validate
from arrears.domain.errors import DomainError
from arrears.domain.loan import Loan, Payment, due_on, state_on
from arrears.domain.money import minor_digits
from arrears.entrypoints.cli.main import run

from shipped import default_products

EXAMPLES = Path(__file__).parents[2] / "examples"
OPEN = date(2026, 3, 2)  # the book opens after the loans were disbursed: less end-of-day to run
DISBURSED = date(2026, 1, 15)
MONTHS = [Month(2026, m) for m in range(1, 5)]
CLOSED = MONTHS[-1].last
BOOK = """\
WLD-2001,B-2001,Pat Q Doe,110101199003071234,13812345678,WLD-DAILY,CNY,10000.00,2026-01-15,6,\
1 Main St,Beijing,Asia/Shanghai,en,Sam Doe,guarantor,13987654321
WLD-2002,B-2002,Lee Roe,310101198805152345,13911112222,WLD-DAILY,CNY,5000.00,2026-01-15,6,\
2 Side St,Shanghai,Asia/Shanghai,en,Kim Roe,spouse,13911113333
WLD-2003,B-2003,Ann Poe,440301199512253456,13600001111,WLD-DAILY,CNY,8000.00,2026-01-15,6,\
3 High St,Guangdong,Asia/Shanghai,en,,,
"""
LOANS = ("WLD-2001", "WLD-2002", "WLD-2003")


def _schedule_payments(loan: Loan) -> list[Payment]:
    """WLD-2001 pays every installment on its due date; WLD-2002 pays the first and then
    nothing; WLD-2003 misses the March installment and catches up on 2026-04-20."""
    plan = {"WLD-2001": [1, 2, 3], "WLD-2002": [1], "WLD-2003": [1]}[loan.loan_id]
    paid: list[Payment] = []
    for number in plan:
        due = state_on(loan, paid, DISBURSED).installments[number - 1].due_date
        before = state_on(loan, paid, due - timedelta(days=1))
        paid.append(Payment(key=f"{loan.loan_id}-{number}", on=due,
                            amount=due_on(loan, before, due)))
    if loan.loan_id == "WLD-2003":
        day = date(2026, 4, 20)
        before = state_on(loan, paid, day - timedelta(days=1))
        paid.append(Payment(key="WLD-2003-catch-up", on=day, amount=due_on(loan, before, day)))
    return paid


@pytest.fixture
def booked(services: bootstrap.Services, database_url: str
           ) -> tuple[bootstrap.Services, str, dict[str, Loan], dict[str, list[Payment]]]:
    servicing.init_book(OPEN, default_products(), uow_factory=services.uow_factory)
    header = (EXAMPLES / "loans.csv").read_text().splitlines()[0]
    servicing.import_loans_csv(f"{header}\n{BOOK}", uow_factory=services.uow_factory,
                               clock=services.clock)
    eod.run_eod_through(CLOSED, uow_factory=services.uow_factory, clock=services.clock)
    loans: dict[str, Loan] = {}
    paid: dict[str, list[Payment]] = {}
    for ref in LOANS:
        with services.uow_factory() as uow:
            found = uow.book.get(ref)
        assert found is not None
        loans[ref] = found.loan
        paid[ref] = _schedule_payments(found.loan)
        for payment in paid[ref]:  # dated in the past: each restates the loan
            payments.post_payment(ref, payment.amount, payment.on, payment.key,
                                  uow_factory=services.uow_factory, clock=services.clock)
        reporting.record_notice(
            BureauNotice(loan_ref=ref, kind=NoticeKind.PRE_REPORT, sent_on=DISBURSED),
            uow_factory=services.bureau_uow_factory())
    return services, database_url, loans, paid


def _expected(loan: Loan, paid: list[Payment]) -> dict[Month, MonthSnapshot]:
    """The domain's own snapshots, month by month from disbursement."""
    found: dict[Month, MonthSnapshot] = {}
    previous, state = None, None
    for month in MONTHS:
        snapshot, state = build_snapshot(loan, paid, month, previous, state=state)
        if snapshot is not None:
            found[month] = snapshot
            previous = snapshot
    return found


def _report(url: str, kind: str, month: Month, out: Path, capsys: pytest.CaptureFixture[str]
            ) -> dict[str, object]:
    with pytest.raises(SystemExit) as stopped:
        run(["report", "bureau", "--format", kind, "--month", str(month), "--out", str(out),
             "--db", url, "--json"])
    captured = capsys.readouterr()
    assert stopped.value.code in (0, None), captured.err
    return dict(json.loads(captured.out))


def _field(line: bytes, layout: layouts.Layout, name: str) -> str:
    spec = layout.field(name)
    return line[spec.start - 1:spec.end].decode()


def _mmddyyyy(day: date | None) -> str:
    return "00000000" if day is None else f"{day.month:02d}{day.day:02d}{day.year:04d}"


def test_monthly_files_through_the_store_say_what_the_domain_computes(
        booked, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    services, url, loans, paid = booked
    expected = {ref: _expected(loans[ref], paid[ref]) for ref in LOANS}
    held_seen = False
    for month in MONTHS:
        pboc_path, metro2_path = tmp_path / f"{month}.pboc", tmp_path / f"{month}.m2"
        summary = _report(url, "pboc", month, pboc_path, capsys)
        held_seen |= bool(summary["held"])
        _report(url, "metro2", month, metro2_path, capsys)  # the month again: no change
        pboc, metro2 = pboc_path.read_bytes(), metro2_path.read_bytes()
        assert validate(pboc, "pboc") == [] and validate(metro2, "metro2") == []
        accounts = {_field(line, layouts.PBOC_ACCOUNT, "account_id").strip(): line
                    for line in pboc.split(b"\n") if line[:1] == b"A"}
        bases = {_field(line, layouts.METRO2_BASE, "consumer_account_number").strip(): line
                 for line in metro2.split(b"\n")[1:-2]}
        assert set(accounts) == set(bases) == {ref for ref in LOANS if month in expected[ref]}
        for ref, line in accounts.items():
            snap = expected[ref][month]
            assert _field(line, layouts.PBOC_ACCOUNT, "repayment_status_24m") == (
                snap.pboc_history)  # CN-25
            assert int(_field(line, layouts.PBOC_ACCOUNT, "balance")) == snap.balance
            assert _field(line, layouts.PBOC_ACCOUNT, "account_status") == (
                snap.account_status.value)
        for ref, line in bases.items():
            snap = expected[ref][month]
            scale = 10 ** minor_digits(snap.currency)
            assert _field(line, layouts.METRO2_BASE, "account_status") == snap.metro2_status
            assert _field(line, layouts.METRO2_BASE, "payment_history_profile") == (
                snap.metro2_history)  # M2-5
            assert int(_field(line, layouts.METRO2_BASE, "current_balance")) == (
                snap.balance // scale)  # M2-1: whole units, cents truncated
            assert int(_field(line, layouts.METRO2_BASE, "amount_past_due")) == (
                snap.past_due_30 // scale)  # M2-7
            assert _field(line, layouts.METRO2_BASE, "date_of_first_delinquency") == (
                _mmddyyyy(snap.dofd))  # M2-6
            assert _field(line, layouts.METRO2_BASE, "ecoa_code") == (
                "7" if ref == "WLD-2001" else "1")  # maker beside a guarantor (M2-9)
            if ref == "WLD-2001":  # the guarantor, in J1; the spouse of WLD-2002 nowhere
                j1 = line[layouts.METRO2_LENGTH:layouts.METRO2_LENGTH + 100]
                assert j1[:2] == b"J1" and j1[3:28].rstrip() == b"DOE"
                assert j1[96:97] == b"5"
        assert b"KIM" not in metro2
    assert not held_seen  # every negative record had its notice (CN-21)
    # Not a trivial book: 46 days late at April's end (CN-25 code 2, Metro 2 status 71).
    april = expected["WLD-2002"][MONTHS[-1]]
    assert (april.pboc_code, april.metro2_status) == ("2", "71")

    # Rebuilding an old month with nothing changed sends no correction (the stored rows read
    # back equal to the rebuilt ones on this backend).
    run_again = reporting.build_month(Month(2026, 2),
                                      uow_factory=services.bureau_uow_factory())
    assert not any(record.correction for record in run_again.records)


def test_a_month_whose_file_is_refused_is_not_stored_as_reported(booked) -> None:
    """The file is formatted before the month's snapshots are stored: a refusal (a record the
    format cannot hold) leaves the month unbuilt, so nothing counts as reported."""
    services = booked[0]
    factory = services.bureau_uow_factory()

    def refuse(run: reporting.MonthRun) -> None:
        raise DomainError("highest_credit", "too wide for its field")

    with pytest.raises(DomainError):
        reporting.build_month(Month(2026, 1), uow_factory=factory, check=refuse)
    with factory() as uow:
        assert uow.bureau.months() == []
    reporting.build_month(Month(2026, 1), uow_factory=factory, check=lambda run: None)
    with factory() as uow:
        assert uow.bureau.months() == [Month(2026, 1)]
