"""`arrears serve --demo` names an overdue borrower to sign in to the portal as, with the
number in full (the demo book is synthetic) and a loan that is really overdue."""

from __future__ import annotations

from datetime import date

from arrears import bootstrap
from arrears.application.handlers import eod
from arrears.entrypoints.cli import web_demo


def test_the_demo_names_an_overdue_borrower_by_phone(small_book: bootstrap.Services) -> None:
    url = small_book.settings.database_url
    assert web_demo.overdue_borrower(url) is None  # nothing is overdue on the opening day
    eod.run_eod_through(date(2026, 3, 1), uow_factory=small_book.uow_factory,
                        clock=small_book.clock)
    found = web_demo.overdue_borrower(url)
    assert found is not None
    phone, loan = found
    with small_book.uow_factory() as uow:
        booked = uow.book.get(loan)
    assert booked is not None and booked.status.value == "overdue"
    assert phone.startswith("+") and "*" not in phone
