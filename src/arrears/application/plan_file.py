"""The preview document of `arrears plans propose … --json`: old and new schedules side by
side. (A plan itself is read and written with the rest of LOAN.json in `loan_file`.)
"""

from __future__ import annotations

from typing import Any

from arrears.application.loan_file import money_text
from arrears.domain.plan_preview import PlanPreview


def preview_rows(preview: PlanPreview, currency: str, *, after: bool) -> list[dict[str, Any]]:
    """The installments still asking for money, in the `schedule --json` row shape."""
    state = preview.after if after else preview.before
    rows = []
    for row in state.installments:
        if row.is_paid:
            continue
        rows.append({
            "number": row.number,
            "due_date": row.due_date.isoformat(),
            "principal": money_text(row.unpaid_principal, currency),
            "interest": money_text(row.unpaid_interest, currency),
            "fee": money_text(row.unpaid_fee, currency),
            "payment": money_text(row.unpaid_principal + row.unpaid_interest + row.unpaid_fee,
                                  currency),
        })
    return rows
