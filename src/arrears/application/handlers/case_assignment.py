"""A supervisor assigns an open case to a collector by hand — one who works the case's bucket,
speaks the borrower's language and has room under their capacity, as the case sync assigns.
The case sync keeps the choice while the case stays in its bucket, as it keeps its own; a case
placed with an agency is the agency's until recalled. A collector the case is taken from stops
collecting it: their credentials on the borrower's loans are revoked with the reassignment."""

from __future__ import annotations

import secrets
from collections.abc import Callable

from arrears.application.access import ApiUnitOfWork, open_business_date
from arrears.application.handlers import credentials
from arrears.application.ports import Clock, Event
from arrears.domain.errors import DomainError


class CaseNotFound(DomainError):
    """No open case with that id."""


def assign_case(case_id: int, collector_ref: str, *, by: str,
                uow_factory: Callable[[], ApiUnitOfWork], clock: Clock) -> None:
    """Give the case to the collector, as `by` (`Principal.identity`); `case.assigned` names
    who did it and whom the case was taken from."""
    at = clock.now()
    with uow_factory() as uow:
        # Held to the commit (FOR SHARE): a deactivation waits, then releases this case.
        collector = next((c for c in uow.collections.collectors(lock=True)
                          if c.collector_ref == collector_ref), None)
        if collector is not None:  # another hand assignment to them waits: loads are counted
            uow.collections.lock_assignments(collector.id)
        # Then the case, before it is read: a placement of it meanwhile commits first (and
        # this refuses) or waits for this assignment.
        uow.collections.lock_cases([case_id])
        cases = uow.collections.open_cases().values()
        case = next((c for c in cases if c.id == case_id), None)
        if case is None:
            raise CaseNotFound("case_id", f"no open case {case_id}")
        on = open_business_date(uow)
        holder = uow.api.case_holder(case.borrower_id, on)
        if holder is not None and holder.agency_ref is not None:
            raise DomainError("case_id", f"case {case_id} is placed with {holder.agency_ref}; "
                                         "recall it first")
        if collector is None:
            raise DomainError("collector_id", f"no active collector {collector_ref!r}")
        if case.bucket not in collector.buckets:
            raise DomainError("collector_id", f"{collector_ref} does not work bucket "
                                              f"{case.bucket}")
        # The skills and the load the case sync assigns by: a borrower is called in their
        # own language, and no collector is given more cases than they can work (a case they
        # hold already is no more work).
        language = uow.collections.borrower_language(case.borrower_id)
        if collector.languages and language not in collector.languages:
            raise DomainError("collector_id", f"{collector_ref} does not speak {language}, the "
                                              f"borrower's language (only "
                                              f"{', '.join(collector.languages)})")
        load = sum(1 for c in cases if c.collector_id == collector.id)
        if case.collector_id != collector.id and load >= collector.capacity:
            raise DomainError("collector_id", f"{collector_ref} is at capacity: {load} open "
                                              f"case{'' if load == 1 else 's'} of "
                                              f"{collector.capacity}")
        previous = holder.collector_ref if holder is not None else None
        uow.api.assign_case(case_id, collector.id)
        revoked = [] if previous in (None, collector_ref) else credentials.revoke_held(
            uow, case_id, at, collector_ref=previous or "",
            reason="reassigned")  # the borrower's evidence names no internal case or staff
        uow.events.emit([Event(
            # A case may go back and forth within one clock tick: the id is drawn, not made.
            message_id=f"case.assigned:{case_id}:{secrets.token_hex(8)}", topic="case.assigned",
            loan_id=None, business_date=on, created_at=at,
            payload={"case_id": case_id, "collector": collector_ref, "from": previous,
                     "by": by, "credentials_revoked": revoked})])
        uow.commit()
