"""A supervisor assigns an open case to a collector by hand. The case sync keeps the choice
while the case stays in its bucket, as it keeps its own; a case placed with an agency is the
agency's until recalled."""

from __future__ import annotations

from collections.abc import Callable

from arrears.application.access import ApiUnitOfWork, open_business_date
from arrears.domain.errors import DomainError


class CaseNotFound(DomainError):
    """No open case with that id."""


def assign_case(case_id: int, collector_ref: str, *,
                uow_factory: Callable[[], ApiUnitOfWork]) -> None:
    with uow_factory() as uow:
        case = next((c for c in uow.collections.open_cases().values() if c.id == case_id),
                    None)
        if case is None:
            raise CaseNotFound("case_id", f"no open case {case_id}")
        collector = next((c for c in uow.collections.collectors()
                          if c.collector_ref == collector_ref), None)
        if collector is None:
            raise DomainError("collector_id", f"no active collector {collector_ref!r}")
        if case.bucket not in collector.buckets:
            raise DomainError("collector_id", f"{collector_ref} does not work bucket "
                                              f"{case.bucket}")
        holder = uow.api.case_holder(case.borrower_id, open_business_date(uow))
        if holder is not None and holder.agency_ref is not None:
            raise DomainError("case_id", f"case {case_id} is placed with {holder.agency_ref}; "
                                         "recall it first")
        uow.api.assign_case(case_id, collector.id)
        uow.commit()
