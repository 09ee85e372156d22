"""`arrears compliance check` end to end through Typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from click.testing import Result
from typer.testing import CliRunner

from arrears.entrypoints.cli import compliance

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "compliance"


def _app() -> typer.Typer:
    app = typer.Typer()
    app.add_typer(compliance.app, name="compliance")
    return app


def _run(*args: str) -> Result:
    return CliRunner().invoke(_app(), ["compliance", "check", *args])


def test_allowed_call_exits_zero_with_json() -> None:
    result = _run(str(EXAMPLES / "us-call-allowed.json"), "--facts",
                  str(EXAMPLES / "us-facts.json"), "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["allowed"] is True and document["violations"] == []


def test_blocked_call_exits_one_and_explains() -> None:
    result = _run(str(EXAMPLES / "cn-call-blocked.json"), "--facts",
                  str(EXAMPLES / "cn-facts.json"), "--json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    rules = {v["rule_id"] for v in document["violations"]}
    assert "cn.cba2026.prohibited_conduct" in rules
    matched = {m["matched"] for v in document["violations"] for m in v["matches"]}
    assert "坐 牢" in matched and "全國黑名單" in matched


def test_human_output_names_the_rule() -> None:
    result = _run(str(EXAMPLES / "us-call-blocked.json"), "--facts",
                  str(EXAMPLES / "us-facts.json"))
    assert result.exit_code == 1
    assert "us.fdcpa.inconvenient_time" in result.stdout
    assert "next allowed at" in result.stdout


def test_pack_option_overrides_the_action(tmp_path: Path) -> None:
    result = _run(str(EXAMPLES / "us-call-allowed.json"), "--facts",
                  str(EXAMPLES / "us-facts.json"), "--pack", "cn", "--json")
    assert json.loads(result.stdout)["pack"] == "cn"


def test_bad_input_exits_two_naming_the_field(tmp_path: Path) -> None:
    facts = json.loads((EXAMPLES / "us-facts.json").read_text(encoding="utf-8"))
    facts["attempts"][2]["at"] = "last tuesday"
    bad = tmp_path / "facts.json"
    bad.write_text(json.dumps(facts), encoding="utf-8")
    result = _run(str(EXAMPLES / "us-call-allowed.json"), "--facts", str(bad))
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error: facts.attempts[2].at: 'last tuesday' is not an ISO instant"
    )


def test_unknown_pack_and_unreadable_files(tmp_path: Path) -> None:
    result = _run(str(EXAMPLES / "us-call-allowed.json"), "--facts",
                  str(EXAMPLES / "us-facts.json"), "--pack", "zz")
    assert result.exit_code == 2 and "pack" in result.stderr
    missing = _run(str(tmp_path / "nope.json"), "--facts", str(EXAMPLES / "us-facts.json"))
    assert missing.exit_code == 2 and missing.stderr.startswith("error: action:")
    not_json = tmp_path / "x.json"
    not_json.write_text("{", encoding="utf-8")
    broken = _run(str(not_json), "--facts", str(EXAMPLES / "us-facts.json"))
    assert broken.exit_code == 2 and "not valid JSON" in broken.stderr
