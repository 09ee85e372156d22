"""The jurisdiction rule packs, one module each (holidays style), looked up by code.

`get("us")` imports `packs/us.py` on first use and builds its default `Pack`; a pack with other
parameters is `packs.us.pack(USParams(...))`. Adding a jurisdiction adds a module and one line.
"""

from __future__ import annotations

from functools import cache
from importlib import import_module

from arrears.compliance.model import Pack
from arrears.domain.errors import DomainError

REGISTRY: dict[str, str] = {
    "cn": "arrears.compliance.packs.cn",
    "us": "arrears.compliance.packs.us",
}


@cache
def get(code: str) -> Pack:
    """The default pack for jurisdiction `code` (case-insensitive)."""
    key = code.strip().lower()
    module_name = REGISTRY.get(key)
    if module_name is None:
        known = ", ".join(sorted(REGISTRY))
        raise DomainError("pack", f"unknown pack {code!r} (known: {known})")
    module = import_module(module_name)
    built = module.pack()
    if not isinstance(built, Pack) or built.code != key:
        raise TypeError(f"{module_name}.pack() must return the {key!r} Pack")
    return built
