"""The defaults a queued message's compliance document stands on.

`codec.to_compact_json` leaves out every field that holds its default, and the worker's
send-time re-check reads the field back as the default of the release that reads it. A changed
default would change the action or facts of every message already queued (`caller_identified`,
`in_writing`, `consumer` …), so each one is pinned here. Change one only together with a
migration that writes the old value into the stored documents, then regenerate with
`ARREARS_UPDATE_GOLDEN=1 pytest tests/golden/compliance` and review the diff.
"""

from __future__ import annotations

import dataclasses
import json
import os
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from arrears.compliance import codec
from arrears.compliance.facts import Facts
from arrears.compliance.model import Action

GOLDEN = Path(__file__).resolve().parent / "compact_defaults.json"


def _named_types(hint: Any) -> Iterator[Any]:
    arguments = typing.get_args(hint)
    if not arguments:
        yield hint
    for argument in arguments:
        yield from _named_types(argument)


def _stored_classes() -> list[type]:
    """Every dataclass a compliance document can hold, from an action and its facts down."""
    found: dict[type, None] = {}
    waiting: list[type] = [Action, Facts]
    while waiting:
        cls = waiting.pop()
        if cls in found:
            continue
        found[cls] = None
        hints = typing.get_type_hints(cls)
        for f in _stored_fields(cls):
            waiting += [tp for tp in _named_types(hints[f.name])
                        if isinstance(tp, type) and dataclasses.is_dataclass(tp)]
    return sorted(found, key=lambda cls: cls.__qualname__)


def _stored_fields(cls: type) -> list[dataclasses.Field[Any]]:
    return [f for f in dataclasses.fields(cls) if f.init and not f.name.startswith("_")]


def _defaults() -> dict[str, Any]:
    defaults: dict[str, Any] = {}
    for cls in _stored_classes():
        for f in _stored_fields(cls):
            if f.default is not dataclasses.MISSING:
                defaults[f"{cls.__qualname__}.{f.name}"] = codec.to_json(f.default)
            elif f.default_factory is not dataclasses.MISSING:
                defaults[f"{cls.__qualname__}.{f.name}"] = codec.to_json(f.default_factory())
    return defaults


def test_the_defaults_a_compact_document_leaves_out_are_pinned() -> None:
    defaults = _defaults()
    if os.environ.get("ARREARS_UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(defaults, ensure_ascii=False, indent=2) + "\n", "utf-8")
    assert defaults == json.loads(GOLDEN.read_text(encoding="utf-8"))
