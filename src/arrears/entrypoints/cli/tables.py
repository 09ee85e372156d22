"""Tables that fit the terminal (issue 15): a number, date or code is never cut, ellipsised or
broken across lines (each column is as wide as its widest cell). When the terminal is too
narrow for every column, the least needed columns are left out, the caption names them, and
`--wide` shows them all (the lines are then as long as the table needs)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.cells import cell_len
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from arrears.entrypoints.cli.output import console

if TYPE_CHECKING:
    from rich.console import Console, JustifyMethod

WideFlag = Annotated[bool, typer.Option(
    "--wide", help="Show every column, even past the terminal's width.")]


@dataclass(frozen=True)
class Column:
    """One column: `rank` 0 is always shown (it names the row); when the terminal is narrow,
    columns of zeros are left out first, then those of a higher rank. Headings wrap between
    words; cells never break."""

    heading: str
    rank: int = 0
    justify: JustifyMethod = "right"


def print_table(columns: Sequence[Column], rows: Sequence[Sequence[str]], *, wide: bool,
                out: Console | None = None, **options: Any) -> None:
    """Print `rows` (one cell per column, in order) as a table that fits `out`'s width, or
    every column with `wide`. `options` are those of `rich.table.Table` (title, box …)."""
    out = out or console()
    shown = list(range(len(columns)))  # indices of the columns shown
    while True:
        table = _table(columns, shown, rows, **options)
        needed = Measurement.get(out, out.options.update_width(10**6), table).minimum
        droppable = [i for i in shown if columns[i].rank > 0]
        if wide or needed <= out.width or not droppable:
            break
        # A column of zeros says least (the fee of a loan without fees); then by rank.
        shown.remove(max(droppable, key=lambda i: (_all_zero(rows, i), columns[i].rank, i)))
    if needed <= out.width:
        out.print(table)
        return
    terminal = out.width  # with --wide, or when the rank 0 columns alone are wider
    out.width = needed
    try:
        out.print(table)
    finally:
        out.width = terminal


def _all_zero(rows: Sequence[Sequence[str]], index: int) -> bool:
    return all(set(row[index]) <= set("0.") for row in rows)


def _table(columns: Sequence[Column], shown: list[int], rows: Sequence[Sequence[str]],
           **options: Any) -> Table:
    hidden = [column.heading for i, column in enumerate(columns) if i not in shown]
    caption = options.pop("caption", None)
    if hidden:
        note = f"not shown: {', '.join(hidden)} (--wide shows them)"
        caption = f"{caption}\n{note}" if caption else note
    table = Table(caption=caption, **options)
    for index in shown:
        column = columns[index]
        words = max((cell_len(word) for word in column.heading.split()), default=0)
        width = max([words, *(cell_len(row[index]) for row in rows)])
        table.add_column(Text(column.heading, no_wrap=False, overflow="fold"),
                         justify=column.justify, no_wrap=True, width=width)
    for row in rows:
        table.add_row(*(row[index] for index in shown))
    return table
