"""Golden `loan status` of a loan under each kind of plan, through the CLI and LOAN.json.

The loan is tests/unit/domain/test_plan_arithmetic.py's worked example (10,000.00 at 18 %,
12 months from 2026-01-15, nothing paid): the figures each plan changes are computed by hand
there; these files pin the whole document on 2026-03-20. Regenerate after an intended change with
`ARREARS_UPDATE_GOLDEN=1 pytest tests/golden/plans` and review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from arrears.entrypoints.cli.main import app

GOLDEN = Path(__file__).resolve().parent
KINDS = sorted(path.name.removesuffix(".loan.json") for path in GOLDEN.glob("*.loan.json"))


@pytest.mark.parametrize("kind", KINDS)
def test_loan_status_under_a_plan(kind: str) -> None:
    result = CliRunner().invoke(app, ["loan", "status", str(GOLDEN / f"{kind}.loan.json"),
                                      "--as-of", "2026-03-20", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    path = GOLDEN / f"{kind}.status.json"
    if os.environ.get("ARREARS_UPDATE_GOLDEN"):
        path.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", "utf-8")
    assert document == json.loads(path.read_text(encoding="utf-8"))
    assert document["plans"][0]["kind"] == kind
    assert document["first_delinquency_on"] in (None, "2026-02-16")


def test_every_kind_has_a_golden_loan() -> None:
    from arrears.domain.plans import PlanKind
    assert set(KINDS) == {kind.value for kind in PlanKind}


@pytest.mark.parametrize("plan, field", [
    ({"plan_id": "P", "kind": "reage", "effective_on": "2026-03-01", "terms": 6},
     "plans[0].first_due_on"),
    ({"plan_id": "P", "kind": "deferral", "effective_on": "2026-03-01", "months": 2,
      "until": "2026-04-01"}, "plans[0].until"),
    ({"plan_id": "P", "kind": "waiver", "effective_on": "2026-03-01",
      "waive": {"principal": "1"}}, "plans[0].waive"),
    ({"plan_id": "P", "kind": "deferral", "effective_on": "2026-01-10", "months": 2},
     "plans[0].effective_on"),
    ({"plan_id": "P", "kind": "deferral", "effective_on": "2026-03-01", "months": 2,
      "proposed_by": "C-01", "approved_by": "C-01"}, "plans[0].approved_by"),
    ({"plan_id": "P", "kind": "settlement", "effective_on": "2026-03-01",
      "until": "2026-03-31", "amount": "1e30"}, "plans[0].amount"),
    ({"plan_id": "P", "kind": "rebate", "effective_on": "2026-03-01"}, "plans[0].kind"),
])
def test_a_bad_plan_in_loan_json_names_the_field(tmp_path: Path, plan: dict[str, object],
                                                  field: str) -> None:
    document = json.loads((GOLDEN / "deferral.loan.json").read_text(encoding="utf-8"))
    document["plans"] = [plan]
    path = tmp_path / "loan.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    result = CliRunner().invoke(app, ["loan", "status", str(path), "--as-of", "2026-03-20"])
    assert result.exit_code == 2
    assert f"error: {field}:" in result.stderr
    assert "Traceback" not in result.output
