"""Credit reporting: the code tables over every DPD, the 24-month history shift, the first
delinquency date across payments and plans (M2-3/4/5/6, CN-25, US-32), and the validator —
clean on every generated file, and catching every injected corruption."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.application.bureau import BureauRecord, Format, Subject
from arrears.batch import bureau as files
from arrears.domain.bureau import codes, layouts
from arrears.domain.bureau.snapshot import Month, MonthSnapshot, build_snapshot
from arrears.domain.bureau.validate import validate
from arrears.domain.loan import Loan, Payment, state_on, summarize
from arrears.domain.plans import Plan, PlanKind

from builders import loan as make_loan

SUBJECT = Subject(name="Pat Q Doe", national_id="123-45-6789", address="1 Main St",
                  region="NY", phone="")
CREATED = datetime(2027, 3, 1, 6, tzinfo=UTC)


# --- code tables over every DPD ------------------------------------------------------------

METRO2_TABLE = [(0, 29, "11", "0"), (30, 59, "71", "1"), (60, 89, "78", "2"),
                (90, 119, "80", "3"), (120, 149, "82", "4"), (150, 179, "83", "5"),
                (180, 5000, "84", "6")]  # M2-3 derivation test, M2-5 profile codes
PBOC_TABLE = [(1, 30, "1"), (31, 60, "2"), (61, 90, "3"), (91, 120, "4"), (121, 150, "5"),
              (151, 180, "6"), (181, 5000, "7")]  # CN-25


def test_metro2_status_and_profile_code_for_every_dpd() -> None:
    for low, high, status, code in METRO2_TABLE:
        for dpd in range(low, high + 1):
            assert codes.metro2_status(dpd, written_off=False, closed=False) == status
            assert codes.profile_code(status, dpd) == code
            assert codes.payment_rating(status, dpd) == " "  # M2-4: blank unless rated
            assert codes.payment_rating("13", dpd) == code  # closed: the rating it had
    assert codes.metro2_status(75, written_off=False, closed=False) == "78"  # M2-3 example
    assert codes.metro2_status(400, written_off=True, closed=False) == "97"
    assert codes.metro2_status(0, written_off=True, closed=True) == "64"
    assert codes.profile_code("97", 200) == "L"


def test_pboc_code_for_every_dpd() -> None:
    assert codes.pboc_code(0, closed=False, written_off=False, due_this_month=True,
                           grace_days=0) == "N"
    assert codes.pboc_code(0, closed=False, written_off=False, due_this_month=False,
                           grace_days=0) == "*"
    for low, high, code in PBOC_TABLE:
        for dpd in range(low, high + 1):
            assert codes.pboc_code(dpd, closed=False, written_off=False, due_this_month=False,
                                   grace_days=0) == code
            # Inside the grace window nothing negative is reported (DESIGN §9).
            assert codes.pboc_code(dpd, closed=False, written_off=False, due_this_month=True,
                                   grace_days=dpd) == "N"
    assert codes.pboc_code(45, closed=False, written_off=False, due_this_month=True,
                           grace_days=0) == "2"  # CN-25 example
    assert codes.pboc_code(0, closed=True, written_off=False, due_this_month=False,
                           grace_days=0) == "C"


def test_classification_for_every_dpd_and_its_parameters() -> None:
    rules = codes.Classification()
    expected = [(0, 0, "1"), (1, 90, "2"), (91, 180, "3"), (181, 360, "4"), (361, 2000, "5")]
    for low, high, value in expected:
        for dpd in range(low, high + 1):
            assert rules.of(dpd, written_off=False).value == value
    assert rules.of(0, written_off=True) is codes.LoanClass.LOSS
    stricter = codes.Classification(special_mention_from=31)
    assert stricter.of(30, written_off=False) is codes.LoanClass.PASS
    with pytest.raises(ValueError, match="classification"):
        codes.Classification(substandard_from=500)


# --- snapshots over months ------------------------------------------------------------------


def chain(loan: Loan, payments: list[Payment], months: int) -> list[MonthSnapshot]:
    snaps: list[MonthSnapshot] = []
    previous, state, month = None, None, Month.of(loan.disbursed_on)
    for _ in range(months):
        snapshot, state = build_snapshot(loan, payments, month, previous, state=state)
        if snapshot is None:
            break
        snaps.append(snapshot)
        previous, month = snapshot, month.next()
    return snaps


@st.composite
def books(draw: st.DrawFn) -> tuple[Loan, list[Payment]]:
    """A 12-month loan paid in part: each month's installment paid in full, partly or not."""
    loan = make_loan(principal=draw(st.integers(50_000, 2_000_000)))
    payments = []
    for number in range(1, 13):
        share = draw(st.sampled_from([0, 0, 30, 100, 100, 250]))
        if share:
            on = date(2026, 1, 15) + timedelta(days=31 * number + draw(st.integers(-5, 20)))
            payments.append(Payment(key=f"p{number}", on=on, amount=1_000 * share))
    return loan, payments


@settings(max_examples=25, deadline=None)
@given(books())
def test_history_of_next_month_is_this_months_shifted(book: tuple[Loan, list[Payment]]) -> None:
    snaps = chain(*book, months=15)
    for this, following in zip(snaps, snaps[1:], strict=False):
        # Metro 2 (M2-5): the months before, most recent first — this month goes in front.
        assert following.metro2_history == this.metro2_code + this.metro2_history[:23]
        # PBOC (CN-25): the 24 months through the month, oldest first — it goes at the end.
        assert following.pboc_history == this.pboc_history[1:] + following.pboc_code
        assert following.pboc_history[-1] == following.pboc_code
    assert snaps[0].metro2_history == "B" * 24


@settings(max_examples=25, deadline=None)
@given(books())
def test_snapshot_figures_come_from_the_domain(book: tuple[Loan, list[Payment]]) -> None:
    loan, payments = book
    for snapshot in chain(loan, payments, months=15):
        summary = summarize(loan, state_on(loan, payments, snapshot.month.last))
        assert snapshot.dpd == summary.dpd
        assert snapshot.principal_outstanding == summary.principal_outstanding
        assert snapshot.balance == (summary.principal_outstanding + summary.overdue_interest
                                    + summary.overdue_fee + summary.penalty_interest
                                    + summary.compound_interest)
        assert snapshot.worst_dpd >= snapshot.dpd
        if snapshot.metro2_status == "11":
            assert snapshot.past_due_30 == 0  # M2-7
        assert snapshot.metro2_status == codes.metro2_status(
            summary.dpd, written_off=False, closed=snapshot.closed_on is not None)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 9), st.integers(100, 900), st.booleans())
def test_first_delinquency_never_moves_while_delinquent(missed_from: int, partial: int,
                                                        with_plan: bool) -> None:
    """Stop paying at installment `missed_from`, pay part of one installment later (clearing
    the oldest but not curing), optionally agree a deferral: while the loan stays delinquent
    — also across the plan — the date does not move (US-32, M2-6)."""
    loan = make_loan()
    payments = [Payment(key=f"p{n}", on=date(2026, 1, 15) + timedelta(days=31 * n), amount=1)
                for n in range(1, missed_from)]
    first_missed = state_on(loan, [], date(2026, 1, 15)).installments[missed_from - 1].due_date
    payments.append(Payment(key="partial", on=first_missed + timedelta(days=70),
                            amount=partial * 100))
    if with_plan:
        loan = replace(loan, plans=(Plan(plan_id="P", kind=PlanKind.DEFERRAL, months=2,
                                         effective_on=first_missed + timedelta(days=80)),))
    snaps = chain(loan, payments, months=15)
    dates = {s.first_delinquency_on for s in snaps if s.first_delinquency_on is not None}
    assert len(dates) <= 1
    for snapshot in snaps:
        if snapshot.dpd > 0:
            summary = summarize(loan, state_on(loan, payments, snapshot.month.last))
            assert snapshot.first_delinquency_on is not None
            assert snapshot.first_delinquency_on <= summary.first_delinquency_on  # never later
            if snapshot.metro2_status in codes.DELINQUENT_STATUSES:
                assert snapshot.dofd == snapshot.first_delinquency_on + timedelta(days=29)


def test_dofd_is_thirty_days_after_the_missed_due_date() -> None:
    """M2-6 example: a payment due 2025-01-15 missed, never cured: DOFD 2025-02-14."""
    loan = make_loan(disbursed_on=date(2024, 12, 15))
    april = [s for s in chain(loan, [], months=6) if s.month == Month(2025, 4)][0]
    assert april.metro2_status == "80" and april.dofd == date(2025, 2, 14)


# --- files: clean when generated, every corruption caught -----------------------------------


def produced(kind: Format, book: tuple[Loan, list[Payment]]) -> bytes:
    snaps = chain(*book, months=15)
    records = [BureauRecord(snapshot=s, subject=SUBJECT) for s in snaps]
    return files.build_file(kind, records, reporter=files.Reporter(),
                            month_end=snaps[-1].month.last, created=CREATED)


@settings(max_examples=20, deadline=None)
@given(books(), st.sampled_from(list(Format)))
def test_every_generated_file_is_clean(book: tuple[Loan, list[Payment]], kind: Format) -> None:
    assert validate(produced(kind, book), kind.value) == []


def _never_paid() -> tuple[Loan, list[Payment]]:
    return make_loan(), [Payment(key="p1", on=date(2026, 2, 15), amount=91_680)]


def _set(content: bytes, line: int, layout: layouts.Layout, name: str, value: bytes) -> bytes:
    lines = content.split(b"\n")
    field = layout.field(name)
    row = bytearray(lines[line])
    row[field.start - 1:field.end] = value
    lines[line] = bytes(row)
    return b"\n".join(lines)


def _line_of(content: bytes, start: int, value: bytes) -> int:
    return next(i for i, line in enumerate(content.split(b"\n"))
                if line[start - 1:start - 1 + len(value)] == value)


def _fields(problems: list) -> set[tuple[int, str]]:
    return {(p.record, p.field) for p in problems}


def test_metro2_corruptions_are_each_caught() -> None:
    good = produced(Format.METRO2, _never_paid())
    base = layouts.METRO2_BASE
    status_at = base.field("account_status").start
    current = _line_of(good, status_at, b"11")
    late = _line_of(good, status_at, b"78")
    later = _line_of(good, status_at, b"84")
    trailer = len(good.split(b"\n")) - 2
    cases = [
        (_set(good, current, base, "amount_past_due", b"000000120"),
         (current + 1, "amount_past_due")),
        (_set(good, late, base, "date_of_first_delinquency", b"00000000"),
         (late + 1, "date_of_first_delinquency")),
        (_set(good, current, base, "payment_rating", b"1"), (current + 1, "payment_rating")),
        (_set(good, later, base, "payment_history_profile", b"0" * 24),
         (later + 1, "payment_history_profile")),
        (_set(good, late, base, "payment_history_profile", b"1B1" + b"B" * 21),
         (late + 1, "payment_history_profile")),
        (_set(good, trailer, layouts.METRO2_TRAILER, "total_status_11", b"000000099"),
         (trailer + 1, "total_status_11")),
        (_set(good, trailer, layouts.METRO2_TRAILER, "total_base_records", b"000000001"),
         (trailer + 1, "total_base_records")),
        (good.replace(b"\n", b"X\n", 2), (2, "record")),
    ]
    for content, expected in cases:
        problems = validate(content, "metro2")
        assert expected in _fields(problems), (expected, [str(p) for p in problems])
        named = [p for p in problems if (p.record, p.field) == expected][0]
        assert named.position == (427 if expected[1] == "record" else
                                  (base if expected[0] <= trailer else
                                   layouts.METRO2_TRAILER).field(expected[1]).start)


def test_pboc_corruptions_are_each_caught() -> None:
    good = produced(Format.PBOC, _never_paid())
    account = layouts.PBOC_ACCOUNT
    lines = good.split(b"\n")
    normal = next(i for i, line in enumerate(lines) if line[:1] == b"A" and line[193:194] == b"1")
    late = next(i for i, line in enumerate(lines) if line[:1] == b"A" and line[193:194] == b"2")
    trailer = len(lines) - 2
    cases = [
        (_set(good, normal, account, "account_status", b"2"),
         (normal + 1, "repayment_status_24m")),
        (_set(good, late, account, "overdue_amount", b"0" * 15), (late + 1, "overdue_terms")),
        (_set(good, late, account, "repayment_status_24m", b"X" * 24),
         (late + 1, "repayment_status_24m")),
        (_set(good, late, account, "special_records", b"03"), (late + 1, "special_records")),
        (_set(good, trailer, layouts.PBOC_TRAILER, "total_status_1", b"000000099"),
         (trailer + 1, "total_status_1")),
        (good.replace(b"\n", b"XX\n", 3), (3, "record")),
    ]
    for content, expected in cases:
        problems = validate(content, "pboc")
        assert expected in _fields(problems), (expected, [str(p) for p in problems])


def test_money_is_whole_units_truncated_and_a_number_too_wide_is_refused() -> None:
    assert files._whole([123_499, -500], [2, 2]).tolist() == [1234, 0]  # M2-1, M2-7
    balance = layouts.METRO2_BASE.field("current_balance")
    assert bytes(files.digit_bytes(balance, np.array([0, 1234, 999_999_999]))) == (
        b"000000000" + b"000001234" + b"999999999")
    with pytest.raises(files.FormatError, match="current_balance"):
        files.digit_bytes(balance, np.array([10**9]))


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 15).flatmap(lambda width: st.tuples(
    st.just(width), st.lists(st.integers(0, 10**width - 1), min_size=1, max_size=20))))
def test_digits_four_at_a_time_are_the_zero_filled_number(case: tuple[int, list[int]]) -> None:
    width, values = case
    spec = layouts.Field("n", 1, width, "N")
    assert bytes(files.digit_bytes(spec, np.array(values))) == b"".join(
        f"{v:0{width}d}".encode() for v in values)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=12), min_size=1, max_size=10), st.booleans())
def test_text_is_blank_filled_ascii_cut_to_its_width(values: list[bytes], upper: bool) -> None:
    spec = layouts.Field("a", 1, 8, "A")

    def expected(value: bytes) -> bytes:
        cut = value.rstrip(b"\0")[:8].ljust(8, b"\0")  # as a NumPy fixed-width string holds it
        plain = bytes(32 if b < 32 else 63 if b > 127 else b for b in cut)
        return plain.upper() if upper else plain

    produced = files.text_bytes(spec, np.array(values, dtype="S12"), upper=upper)
    assert bytes(produced) == b"".join(expected(v) for v in values)


def test_layouts_are_contiguous_and_complete() -> None:
    for layout in layouts.LAYOUTS:
        assert sum(f.length for f in layout.fields) == layout.length
    with pytest.raises(ValueError, match="starts at"):
        layouts.Layout("bad", 3, (layouts.Field("a", 1, 1, "A"), layouts.Field("b", 3, 1, "A")))


# --- review: worked examples and corruptions the first version let through ------------------


def _paid_off_at_33_dpd() -> list[MonthSnapshot]:
    """Due 2026-02-15 missed, everything paid 2026-03-20 (M2-4 example: 30+ DPD then paid)."""
    loan = make_loan(terms=3, disbursed_on=date(2026, 1, 15))
    return chain(loan, [Payment(key="all", on=date(2026, 3, 20), amount=2_000_000)], months=4)


def test_paid_after_30_dpd_is_13_rated_1_with_its_dofd() -> None:
    """M2-4: status 13, rating 1; M2-6: a 13 rated 1–6 carries the DOFD behind the rating."""
    march = [s for s in _paid_off_at_33_dpd() if s.month == Month(2026, 3)][0]
    assert (march.metro2_status, march.payment_rating) == ("13", "1")
    assert march.dofd == date(2026, 3, 17)  # due 2026-02-15 + 30
    records = [BureauRecord(snapshot=s, subject=SUBJECT) for s in _paid_off_at_33_dpd()]
    content = files.build_file(Format.METRO2, records, reporter=files.Reporter(),
                               month_end=date(2026, 3, 31), created=CREATED)
    assert validate(content, "metro2") == []
    line = _line_of(content, layouts.METRO2_BASE.field("account_status").start, b"13")
    zeroed = _set(content, line, layouts.METRO2_BASE, "date_of_first_delinquency", b"0" * 8)
    assert (line + 1, "date_of_first_delinquency") in _fields(validate(zeroed, "metro2"))
    bad_rating = _set(content, line, layouts.METRO2_BASE, "payment_rating", b"X")
    assert (line + 1, "payment_rating") in _fields(validate(bad_rating, "metro2"))


def test_pboc_trailer_or_header_inside_the_file_is_caught() -> None:
    good = produced(Format.PBOC, _never_paid())
    lines = good.split(b"\n")
    header, trailer = lines[0], lines[-2]
    # A copy of the first account and a trailer counting it, inserted after the real trailer.
    doubled = b"\n".join(lines[:-1] + [lines[1], trailer]) + b"\n"
    assert any(p.field == "record_type" for p in validate(doubled, "pboc"))
    inner = b"\n".join(lines[:2] + [header] + lines[2:])
    assert any(p.message.startswith("a header") for p in validate(inner, "pboc"))


def test_metro2_names_lose_accents_not_letters() -> None:
    subject = replace(SUBJECT, name="José Müller")
    snaps = chain(*_never_paid(), months=2)
    content = files.build_file(Format.METRO2, [BureauRecord(snapshot=snaps[-1], subject=subject)],
                               reporter=files.Reporter(), month_end=snaps[-1].month.last,
                               created=CREATED)
    base = content.split(b"\n")[1]
    surname = layouts.METRO2_BASE.field("surname")
    first = layouts.METRO2_BASE.field("first_name")
    assert base[surname.start - 1:surname.end].rstrip() == b"MULLER"
    assert base[first.start - 1:first.end].rstrip() == b"JOSE"
