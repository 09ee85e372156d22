"""The suite's own shape: test folders are not packages, so pytest imports each test module
by its file name — two files with one name (or two conftest-style helpers imported by name)
make the whole run fail at collection, whichever pair of folders is collected together."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def test_every_test_module_name_is_unique() -> None:
    names = Counter(path.name for path in TESTS.rglob("*.py")
                    if path.name != "conftest.py" and "vendor" not in path.parts)
    assert [name for name, count in names.items() if count > 1] == []


def test_no_test_imports_a_conftest_by_name() -> None:
    statement = "from " + "conftest import"  # spelled apart so this file does not match
    offenders = [str(path.relative_to(TESTS)) for path in TESTS.rglob("*.py")
                 if statement in path.read_text(encoding="utf-8")]
    assert offenders == []
