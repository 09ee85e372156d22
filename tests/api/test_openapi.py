"""Schemathesis over the whole OpenAPI schema, a few examples per operation, with an admin key:
no server errors, and every response conforms to its documented schema."""

from __future__ import annotations

from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from api_support import app_for, build, key

EXAMPLES_PER_OPERATION = 8
CHECKS = [checks.not_a_server_error, checks.response_schema_conformance]


def test_every_operation_answers_without_a_server_error(tmp_path: Path) -> None:
    services = build(f"sqlite:///{tmp_path / 'book.db'}")
    headers = key(services, "admin")
    schema = schemathesis.openapi.from_asgi("/openapi.json", app_for(services))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 18

    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def answers(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        answers()
