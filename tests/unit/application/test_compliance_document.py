"""A message's compliance document is written from its two members (the facts once per loan
in a strategy run): the same text as the whole document written at once, whatever the content
and the ids hold (quotes, backslashes, control characters, any script); compact, and read as
the documents written whole before it."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from arrears.application.contacts import (
    Debtor,
    compliance_document,
    compliance_facts_text,
    contact_action,
)
from arrears.compliance import codec
from arrears.compliance.facts import ContactPoint, Debt
from arrears.compliance.model import Action, ActionKind, Purpose


@given(content=st.text(), person=st.text(min_size=1), debt_ids=st.lists(st.text(min_size=1),
                                                                        min_size=1, max_size=3),
       dpd=st.integers(0, 400))
def test_the_document_is_the_whole_written_at_once(content: str, person: str,
                                                   debt_ids: list[str], dpd: int) -> None:
    debtor = Debtor(person_id=person, zones=("Asia/Shanghai",),
                    points=(ContactPoint(id="mobile", kind="cell", zone="Asia/Shanghai"),),
                    debts=tuple(Debt(debt_id=debt_id, dpd=dpd) for debt_id in debt_ids))
    action = contact_action(ActionKind.SMS, debtor, point="mobile", content=content,
                            purpose=Purpose.COLLECTION)
    facts = debtor.facts()
    whole = json.dumps({"action": codec.to_compact_json(action),
                        "facts": codec.to_compact_json(facts)},
                       ensure_ascii=False, sort_keys=True)
    assert compliance_document(action, facts) == whole
    assert compliance_document(action, facts, facts_text=compliance_facts_text(facts)) == whole
    assert json.loads(whole)["action"].get("content", "") == content  # "": the default


def test_a_document_written_whole_before_it_was_compact_reads_the_same() -> None:
    """Books hold messages planned with every field written out: the worker's re-check reads
    those as it reads the compact ones."""
    debtor = Debtor(person_id="DB-1", zones=("Asia/Shanghai",),
                    points=(ContactPoint(id="mobile", kind="cell", zone="Asia/Shanghai"),),
                    debts=(Debt(debt_id="DL-1", dpd=3),))
    action = contact_action(ActionKind.SMS, debtor, point="mobile", content="您好")
    facts = debtor.facts()
    compact = json.loads(compliance_document(action, facts))
    written_whole = {"action": codec.to_json(action), "facts": codec.to_json(facts)}
    assert len(json.dumps(compact)) < len(json.dumps(written_whole)) / 2
    for document in (compact, written_whole):
        assert codec.parse_dataclass(document["action"], Action, "action") == action
        assert codec.parse_facts(document["facts"]) == facts
