"""PNG charts of the portfolio analytics document, one per table, in English or Chinese.

matplotlib's object API on the Agg canvas (no pyplot, so no global state and no display).
Chinese titles need a CJK font; without one on the machine the charts fall back to English
and `write_charts` says so (Debian: `fonts-wqy-microhei`). Rates become floats here, for
plotting only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

LANGUAGES = ("en", "zh")
CJK_FAMILIES = ("WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Noto Sans CJK SC", "Noto Sans SC",
                "Source Han Sans SC", "Source Han Sans CN", "SimHei", "Microsoft YaHei",
                "PingFang SC", "Heiti SC", "AR PL UMing CN")
CJK_FILE_HINTS = ("wqy", "notosanscjk", "notoserifcjk", "sourcehansans", "simhei", "msyh",
                  "uming", "ukai")
"""Font file names that carry CJK glyphs, for fonts installed after matplotlib's cache."""
DPI = 110

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "roll_title": "Roll rates, loans, average of {months} months to {end}",
        "roll_x": "State at the next month end", "roll_y": "Bucket at month end",
        "vintage_title": "Vintage curves as of {as_of}",
        "dpd30": "Ever 30+ DPD", "dpd90": "Ever 90+ DPD", "written_off": "Written off",
        "mob": "Months on book", "cumulative": "Cumulative share of loans (%)",
        "cure_title": "Cure rate: back to current within {days} days (as of {as_of})",
        "bucket": "Bucket entered", "rate": "Rate (%)",
        "recovery_title": "Recovery after write-off, by write-off month (as of {as_of})",
        "write_off_month": "Write-off month", "recovered_share": "Recovered / written off (%)",
        "collectors_title": "Collectors as of {as_of}", "agencies_title": "Agencies as of {as_of}",
        "right_party": "Right-party contacts / contacts", "kept": "Promises kept / made",
        "complaints": "Complaints", "blocked": "Blocked actions",
        "per_1000": "Per 1,000 contacts", "contacts": "contacts", "entered": "entered",
        "none": "No data yet",
        "C": "C", "settled": "Settled",
    },
    "zh": {
        "roll_title": "迁徙率（笔数），截至 {end} 的 {months} 个月平均",
        "roll_x": "下一月末状态", "roll_y": "月末逾期段",
        "vintage_title": "账龄分析（Vintage），截至 {as_of}",
        "dpd30": "曾逾期30天以上", "dpd90": "曾逾期90天以上", "written_off": "已核销",
        "mob": "账龄（月）", "cumulative": "累计占比（%）",
        "cure_title": "回正率：{days} 天内恢复正常（截至 {as_of}）",
        "bucket": "进入的逾期段", "rate": "比率（%）",
        "recovery_title": "核销后回收率，按核销月份（截至 {as_of}）",
        "write_off_month": "核销月份", "recovered_share": "回收额 / 核销额（%）",
        "collectors_title": "催收员表现（截至 {as_of}）",
        "agencies_title": "委外机构表现（截至 {as_of}）",
        "right_party": "本人接通 / 联系次数", "kept": "承诺兑现 / 承诺次数",
        "complaints": "投诉", "blocked": "被拦截的操作",
        "per_1000": "每千次联系", "contacts": "次联系", "entered": "笔进入",
        "none": "暂无数据",
        "C": "正常", "settled": "结清",
    },
}


@dataclass(frozen=True, slots=True)
class Written:
    files: tuple[Path, ...]
    language: str
    """The language the charts are in (English when Chinese was asked for without a font)."""
    warning: str | None


def _cjk_font() -> str | None:
    """The family name of an installed CJK font, or None."""
    from matplotlib import font_manager

    known = {entry.name for entry in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in known:
            return family
    for path in font_manager.findSystemFonts():
        if any(hint in Path(path).name.lower() for hint in CJK_FILE_HINTS):
            font_manager.fontManager.addfont(path)
            return str(font_manager.FontProperties(fname=path).get_name())
    return None


def write_charts(document: dict[str, Any], folder: Path, language: str) -> Written:
    """One PNG per table of `document` in `folder` (created if missing)."""
    from matplotlib import rcParams

    if language not in LANGUAGES:
        raise ValueError(f"unknown chart language {language!r}")
    warning = None
    if language == "zh":
        family = _cjk_font()
        if family is None:
            language = "en"
            warning = ("no CJK font found (install fonts-wqy-microhei); the charts are in "
                       "English")
        else:
            rcParams["font.sans-serif"] = [family, *rcParams["font.sans-serif"]]
    rcParams["font.family"] = "sans-serif"
    rcParams["axes.unicode_minus"] = False
    folder.mkdir(parents=True, exist_ok=True)
    text = TEXT[language]
    drawers: tuple[tuple[str, Callable[[dict[str, Any], dict[str, str]], Figure]], ...] = (
        ("roll_rates", _roll_rates), ("vintages", _vintages), ("cure_rates", _cure_rates),
        ("recoveries", _recoveries), ("collectors", _collectors), ("agencies", _agencies))
    files = []
    for name, draw in drawers:
        figure = draw(document, text)
        path = folder / f"{name}.png"
        figure.savefig(path, dpi=DPI, metadata={"Software": None})
        files.append(path)
    return Written(files=tuple(files), language=language, warning=warning)


def _figure(width: float, height: float, columns: int = 1) -> tuple[Figure, list[Axes]]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(1, columns, squeeze=False)[0]
    return figure, list(axes)


def _state(name: str, text: dict[str, str]) -> str:
    return text.get(name, name)


def _empty(axes: Axes, text: dict[str, str]) -> None:
    axes.text(0.5, 0.5, text["none"], ha="center", va="center", transform=axes.transAxes,
              fontsize=12, color="grey")
    axes.set_xticks([])
    axes.set_yticks([])


def _roll_rates(document: dict[str, Any], text: dict[str, str]) -> Figure:
    average = document["roll_rates"]["average"]
    states: list[str] = document["roll_rates"]["states"]
    rows = average["rows"]
    figure, (axes,) = _figure(9, 5.5)
    axes.set_title(text["roll_title"].format(months=average["months"],
                                             end=average["to"] or document["as_of"]))
    if not rows:
        _empty(axes, text)
        return figure
    sources = list(rows)
    grid = [[float(rows[s]["to"][t]["share"]) * 100 for t in states] for s in sources]
    axes.imshow(grid, cmap="Blues", vmin=0, vmax=100, aspect="auto")
    for i, values in enumerate(grid):
        for j, value in enumerate(values):
            if value:
                axes.text(j, i, f"{value:.1f}", ha="center", va="center", fontsize=8,
                          color="white" if value > 60 else "black")
    axes.set_xticks(range(len(states)), [_state(s, text) for s in states], rotation=30)
    axes.set_yticks(range(len(sources)), [f"{_state(s, text)} ({rows[s]['loans']})"
                                          for s in sources])
    axes.set_xlabel(text["roll_x"])
    axes.set_ylabel(text["roll_y"])
    return figure


def _vintages(document: dict[str, Any], text: dict[str, str]) -> Figure:
    from matplotlib import colormaps
    from matplotlib.ticker import MaxNLocator

    vintages = document["vintages"]
    figure, panels = _figure(14, 4.8, columns=3)
    figure.suptitle(text["vintage_title"].format(as_of=document["as_of"]))
    palette = colormaps["viridis"]
    for axes, key in zip(panels, ("dpd30_plus", "dpd90_plus", "written_off"), strict=True):
        axes.set_title(text[key.removesuffix("_plus")])
        axes.set_xlabel(text["mob"])
        axes.set_ylabel(text["cumulative"])
        axes.grid(alpha=0.3)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        highest = 0.0
        for index, vintage in enumerate(vintages):
            curve = vintage["curve"]
            colour = palette(index / max(len(vintages) - 1, 1))
            rates = [float(p[key]["rate"]) * 100 for p in curve]
            highest = max(highest, *rates)
            axes.plot([p["months_on_book"] for p in curve], rates, color=colour,
                      linewidth=1.2, marker="." if len(curve) == 1 else None,
                      label=vintage["vintage"])
        axes.set_ylim(0, max(1.0, highest * 1.1))
    if vintages:
        panels[-1].legend(fontsize=7, ncols=2 if len(vintages) > 9 else 1,
                          loc="upper left", bbox_to_anchor=(1.02, 1))
    else:
        for axes in panels:
            _empty(axes, text)
    return figure


def _bars(axes: Axes, labels: Sequence[str], values: Sequence[float],
          notes: Sequence[str]) -> None:
    bars = axes.bar(range(len(labels)), values, color="#3b75af")
    axes.set_xticks(range(len(labels)), labels)
    for bar, note in zip(bars, notes, strict=True):
        axes.annotate(note, (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                      ha="center", va="bottom", fontsize=8, xytext=(0, 2),
                      textcoords="offset points")
    axes.grid(axis="y", alpha=0.3)


def _cure_rates(document: dict[str, Any], text: dict[str, str]) -> Figure:
    cures = document["cure_rates"]
    figure, (axes,) = _figure(8, 4.5)
    axes.set_title(text["cure_title"].format(days=cures["window_days"],
                                             as_of=document["as_of"]))
    buckets = cures["buckets"]
    names = list(buckets)
    _bars(axes, names, [float(buckets[b]["rate"]) * 100 for b in names],
          [f"{float(buckets[b]['rate']):.0%}\n{buckets[b]['entered']} {text['entered']}"
           for b in names])
    axes.set_ylim(0, 115)
    axes.set_xlabel(text["bucket"])
    axes.set_ylabel(text["rate"])
    return figure


def _recoveries(document: dict[str, Any], text: dict[str, str]) -> Figure:
    cohorts = document["recoveries"]["cohorts"]
    figure, (axes,) = _figure(8, 4.5)
    axes.set_title(text["recovery_title"].format(as_of=document["as_of"]))
    if not cohorts:
        _empty(axes, text)
        return figure
    _bars(axes, [c["written_off_month"] for c in cohorts],
          [float(c["rate"]) * 100 for c in cohorts],
          [f"{float(c['rate']):.1%}" for c in cohorts])
    axes.tick_params(axis="x", rotation=30)
    axes.set_xlabel(text["write_off_month"])
    axes.set_ylabel(text["recovered_share"])
    return figure


def _performance(rows: Sequence[dict[str, Any]], key: str, title: str,
                 text: dict[str, str]) -> Figure:
    figure, (left, right) = _figure(12, 4.8, columns=2)
    figure.suptitle(title)
    if not rows:
        _empty(left, text)
        _empty(right, text)
        return figure
    labels = [f"{r[key]}\n{r['contacts']} {text['contacts']}" for r in rows]
    positions = range(len(rows))
    width = 0.38
    for axes, series in ((left, (("right_party_rate", text["right_party"], 100),
                                 ("promise_kept_rate", text["kept"], 100))),
                         (right, (("complaints_per_1000_contacts", text["complaints"], 1),
                                  ("blocked_per_1000_contacts", text["blocked"], 1)))):
        for offset, (field, label, scale) in zip((-width / 2, width / 2), series, strict=True):
            axes.bar([p + offset for p in positions], [float(r[field]) * scale for r in rows],
                     width, label=label)
        axes.set_xticks(list(positions), labels, fontsize=8)
        axes.grid(axis="y", alpha=0.3)
        axes.legend(fontsize=8)
    left.set_ylabel(text["rate"])
    right.set_ylabel(text["per_1000"])
    return figure


def _collectors(document: dict[str, Any], text: dict[str, str]) -> Figure:
    return _performance(document["collectors"], "collector",
                        text["collectors_title"].format(as_of=document["as_of"]), text)


def _agencies(document: dict[str, Any], text: dict[str, str]) -> Figure:
    return _performance(document["agencies"], "agency",
                        text["agencies_title"].format(as_of=document["as_of"]), text)
