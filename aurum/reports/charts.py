"""Report charts: one axes each (small multiples cost several times more to lay out), PNG bytes."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from aurum.core.recent import Recent
from aurum.kpis.charts import COLORS, KEY_STYLE, Line, _figure, _png, alt_text, downsample

PALETTE = ["#1f6feb", "#bf3989", "#1a7f37", "#9a6700"]
# The same sprint bars (a preview, then the post; the retro, then the dashboard) are drawn once.
CHARTS: Recent[bytes] = Recent()


@dataclass(frozen=True)
class Series:
    label: str
    points: Sequence[tuple[datetime, float]]


def lines(series: Sequence[Series], references: Sequence[Line], tz, title: str, ylabel: str) -> bytes:
    """A few series on one axes with their target lines."""
    return _png(lines_figure(series, references, tz, title, ylabel))


def lines_figure(series: Sequence[Series], references: Sequence[Line], tz, title: str, ylabel: str):
    import matplotlib.dates as mdates

    figure = _figure(8, 3.6)
    ax = figure.add_subplot()
    plotted: list[float] = []
    for i, item in enumerate(series):
        times, values = downsample(item.points, limit=200)
        if len(times):
            ax.plot([datetime.fromtimestamp(t, tz) for t in times], values, color=PALETTE[i % len(PALETTE)],
                    linewidth=1.8, label=item.label, marker="o" if len(times) < 3 else None, markersize=3)
            plotted += [float(times[0]), float(times[-1])]
    if plotted:
        if max(plotted) - min(plotted) < 3600:  # one instant (a new workspace's first value): give it a day around
            ax.set_xlim(datetime.fromtimestamp(min(plotted) - 43200, tz),
                        datetime.fromtimestamp(max(plotted) + 43200, tz))
        locator = mdates.AutoDateLocator(tz=tz, maxticks=8)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz=tz))
    else:
        ax.text(0.5, 0.5, "no data in this period", transform=ax.transAxes, ha="center", color="#57606a")
    for line in references:
        ax.axhline(line.value, color=line.color, linestyle=line.style, linewidth=1.1, label=line.label or None)
    ax.set_title(title, loc="left", fontsize=11)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.25)
    ax.legend(**KEY_STYLE)
    return figure


def velocity_alt_text(title: str, names: Sequence[str], completed: Sequence[float],
                      band: tuple[float, float] | None) -> str:
    """The alt text of sprint_bars: the velocity KPI, which sprints, the latest velocity and the target band."""
    if not names:
        return alt_text(f"Bar chart, {title}: velocity (story points per sprint), no sprints yet.")
    target = f"target {band[0]:g}-{band[1]:g} points" if band else "no target"
    return alt_text(f"Bar chart, {title}: velocity (story points committed and completed per sprint), sprints "
                    f"{names[0]} to {names[-1]}, with a 3-sprint average. Latest: {completed[-1]:g} points completed "
                    f"in {names[-1]}; {target}.")


@functools.cache
def _glyphs() -> frozenset[int]:
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    return frozenset(FT2Font(font_manager.findfont(font_manager.FontProperties())).get_charmap())


def drawable(text: str) -> str:
    """People's text (a sprint's name) with only the characters the chart's font can draw: an emoji would be an
    empty box and a warning per chart."""
    return " ".join("".join(c for c in text if ord(c) in _glyphs() or c.isspace()).split())


def sprint_bars(names: Sequence[str], committed: Sequence[float | None], completed: Sequence[float],
                band: tuple[float, float] | None, title: str, average: Sequence[float | None] = ()) -> bytes:
    """Committed vs completed points per sprint, the target band shaded, an optional rolling average line.

    Cached by its data: the chart of the same sprints is drawn once."""
    key = ("sprint_bars", tuple(names), tuple(committed), tuple(completed), band, title, tuple(average))
    return CHARTS.get_or_make(key, lambda: _png(bars_figure(names, committed, completed, band, title, average)))


def bars_figure(names: Sequence[str], committed: Sequence[float | None], completed: Sequence[float],
                band: tuple[float, float] | None, title: str, average: Sequence[float | None]):
    from matplotlib.ticker import MaxNLocator

    figure = _figure(8, 3.6)
    ax = figure.add_subplot()
    x = list(range(len(names)))
    if names:
        if any(c is not None for c in committed):
            ax.bar([i - 0.2 for i in x], [c or 0 for c in committed], width=0.4, color="#8c959f", label="committed")
            ax.bar([i + 0.2 for i in x], completed, width=0.4, color=COLORS["line"], label="completed")
        else:
            ax.bar(x, completed, width=0.6, color=COLORS["line"], label="completed")
        if average and any(a is not None for a in average):
            ax.plot(x, [a if a is not None else float("nan") for a in average], color=COLORS["stretch"],
                    marker="o", markersize=3, linewidth=1.5, label="3-sprint average")
        ax.set_xticks(x, [drawable(n)[:14] for n in names], fontsize=8, rotation=20)
    else:
        ax.text(0.5, 0.5, "no sprints yet", transform=ax.transAxes, ha="center", color="#57606a")
    if band is not None:
        ax.axhspan(band[0], band[1], color=COLORS["target"], alpha=0.12, label=f"target {band[0]:g}–{band[1]:g}")
    tallest = max([*(c or 0 for c in committed), *completed, band[1] if band else 0, 1])
    ax.set_ylim(0, tallest * 1.1)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=5))  # few ticks: each one is three artists to build and draw
    ax.set_title(title, loc="left", fontsize=11)
    ax.set_ylabel("story points")
    ax.grid(True, axis="y", alpha=0.25)
    ax.legend(**KEY_STYLE)
    return figure
