"""Golden decisions: each example in examples/compliance/ decided and compared to a JSON file.

Regenerate after an intended change with `ARREARS_UPDATE_GOLDEN=1 pytest tests/golden/compliance`
and review the diff: a changed decision is a changed compliance behaviour.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from arrears.compliance import codec, engine, packs

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples" / "compliance"
GOLDEN = Path(__file__).resolve().parent
CASES = {
    "us-call-allowed": "us-facts",
    "us-call-blocked": "us-facts",
    "cn-sms-allowed": "cn-facts",
    "cn-call-blocked": "cn-facts",
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_decision(name: str) -> None:
    action, at, code = codec.parse_action_document(
        json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    )
    facts = codec.parse_facts(
        json.loads((EXAMPLES / f"{CASES[name]}.json").read_text(encoding="utf-8"))
    )
    assert code is not None
    decision = codec.decision_to_json(engine.decide(action, facts, packs.get(code), at))
    path = GOLDEN / f"{name}.decision.json"
    if os.environ.get("ARREARS_UPDATE_GOLDEN"):
        path.write_text(json.dumps(decision, ensure_ascii=False, indent=2) + "\n", "utf-8")
    assert decision == json.loads(path.read_text(encoding="utf-8"))
