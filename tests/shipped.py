"""The products and hardship-plan policies Arrears ships, as the tests board them."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any


def default_products() -> dict[str, Any]:
    return json.loads((resources.files("arrears") / "default_products.json").read_text())


def default_policies() -> dict[str, Any]:
    """The shipped hardship-plan policies of the shipped products."""
    return json.loads((resources.files("arrears") / "default_plan_policies.json").read_text())
