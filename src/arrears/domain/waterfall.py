"""The payment waterfall: how an amount is applied to what one installment owes.

Default order is PRC Civil Code art. 561 (CN-16): costs (fees), then interest (penalty,
compound, contract), then principal. A product may name another order.
"""

from __future__ import annotations

from collections.abc import Mapping

from arrears.domain.product import DEFAULT_WATERFALL, Component


def apply_in_order(
    amount: int,
    owed: Mapping[Component, int],
    order: tuple[Component, ...] = DEFAULT_WATERFALL,
) -> tuple[dict[Component, int], int]:
    """Split `amount` minor units over `owed` in `order`; returns (allocation, left over).

    The allocation plus the left-over always sum to `amount`.
    """
    allocation: dict[Component, int] = {}
    remaining = amount
    for component in order:
        take = min(remaining, max(owed.get(component, 0), 0))
        if take:
            allocation[component] = take
            remaining -= take
    return allocation, remaining
