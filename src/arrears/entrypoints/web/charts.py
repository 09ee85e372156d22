"""Charts drawn on the server as inline SVG: horizontal bars for categories, columns for a
series of days. No script and nothing fetched; each chart is an image named by its `<title>`
and described by its `<desc>`, and the page puts its numbers in a table beside it.

Hand-written rather than a plotting library's: the two shapes needed fit in this module, and
the library output considered (matplotlib's SVG) is large, slow to import and carries no
accessible name. Values become floats here, at the very edge, only to place pixels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from markupsafe import Markup, escape

WIDTH = 560
"""Drawn at about this many CSS pixels in the dashboards' chart column, so text stays 13px."""
FONT = 13
MAX_LABEL_WIDTH = 240
VALUE_WIDTH = 80
ROW = 26
BAR = 18
COLUMN_HEIGHT = 160
AXIS = 22
INK = "#111111"
BAR_FILL = "#0b3d91"  # 10:1 against white: the bars pass WCAG's 3:1 for graphics
SHADE_FILL = "#7d93bd"  # 3.1:1 against white, behind the highlighted part of a column
ALERT_FILL = "#a00000"


@dataclass(frozen=True, slots=True, kw_only=True)
class Bar:
    label: str
    value: int | Decimal
    shown: str
    """The value as the table beside the chart shows it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Column:
    label: str
    total: int
    part: int
    """Drawn over `total` in the alert colour (e.g. the actions held back of those planned)."""


def _frame(chart_id: str, title: str, description: str, height: int, body: list[str]
           ) -> Markup:
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
            f'id="{escape(chart_id)}" viewBox="0 0 {WIDTH} {height}" '
            f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" '
            f'font-family="system-ui, sans-serif" font-size="{FONT}">'
            f'<title id="{escape(chart_id)}-title">{escape(title)}</title>'
            f'<desc id="{escape(chart_id)}-desc">{escape(description)}</desc>')
    return Markup(head + "".join(body) + "</svg>")


def _scale(values: Sequence[int | Decimal], room: float) -> float:
    largest = max((float(v) for v in values), default=0.0)
    return room / largest if largest > 0 else 0.0


def text_width(text: str) -> float:
    """At most how wide `text` is drawn at `FONT` pixels (a CJK character is a full em, a
    Latin one at most 0.75 em in the fonts the stylesheet names)."""
    return sum(FONT if ord(char) > 0x2E80 else FONT * 0.75 for char in text)


def bars(chart_id: str, title: str, description: str, data: Sequence[Bar]) -> Markup:
    """One horizontal bar per item, labelled on the left, its value at its end; nothing for
    no items (the table beside it says so)."""
    if not data:
        return Markup("")
    labels = min(max(text_width(bar.label) for bar in data) + 16, MAX_LABEL_WIDTH)
    room = WIDTH - labels - VALUE_WIDTH
    scale = _scale([bar.value for bar in data], room)
    body = []
    for index, bar in enumerate(data):
        y = index * ROW + 4
        length = max(float(bar.value) * scale, 1.0 if bar.value else 0.0)
        body.append(
            f'<text x="{labels - 8:.1f}" y="{y + BAR - 5}" text-anchor="end" fill="{INK}">'
            f'{escape(bar.label)}</text>'
            f'<rect x="{labels:.1f}" y="{y}" width="{length:.1f}" height="{BAR}" '
            f'fill="{BAR_FILL}"/>'
            f'<text x="{labels + length + 6:.1f}" y="{y + BAR - 5}" fill="{INK}">'
            f'{escape(bar.shown)}</text>')
    return _frame(chart_id, title, description, len(data) * ROW + 8, body)


def columns(chart_id: str, title: str, description: str, data: Sequence[Column], *,
            every: int = 7) -> Markup:
    """One column per item (a day), its `part` drawn over its `total`; every `every`th
    label under the axis; nothing for no items."""
    if not data:
        return Markup("")
    room = WIDTH - 2 * AXIS
    step = room / max(len(data), 1)
    scale = _scale([c.total for c in data], COLUMN_HEIGHT)
    base = COLUMN_HEIGHT + 8
    body = [f'<line x1="{AXIS}" y1="{base}" x2="{WIDTH - AXIS}" y2="{base}" '
            f'stroke="{INK}"/>']
    for index, column in enumerate(data):
        x = AXIS + index * step
        width = max(step - 2, 1)
        for value, fill in ((column.total, SHADE_FILL), (column.part, ALERT_FILL)):
            height = value * scale
            if height:
                body.append(f'<rect x="{x + 1:.1f}" y="{base - height:.1f}" '
                            f'width="{width:.1f}" height="{height:.1f}" fill="{fill}"/>')
        if index % every == 0:
            body.append(f'<text x="{x + step / 2:.1f}" y="{base + 16}" text-anchor="middle" '
                        f'fill="{INK}">{escape(column.label)}</text>')
    return _frame(chart_id, title, description, base + AXIS, body)
