"""Charts as PNG bytes, on matplotlib's object API (never pyplot's global state)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from aurum.kpis import formatting
from aurum.kpis.catalog import Kpi

if TYPE_CHECKING:
    import numpy as np

MAX_POINTS = 400
COLORS = {"line": "#1f6feb", "target": "#2da44e", "baseline": "#8c959f", "stretch": "#8250df", "band": "#d29922",
          "forecast": "#bf3989"}


@dataclass(frozen=True)
class Projection:
    """A forecast drawn after the data: the expected path (dashed) and its interval (shaded)."""

    times: Sequence[datetime]
    mean: Sequence[float]
    low: Sequence[float]
    high: Sequence[float]
    label: str = "forecast, 80 % interval"


@dataclass(frozen=True)
class Line:
    label: str
    value: float
    color: str
    style: str = "--"


def downsample(points: Sequence[tuple[datetime, float]], limit: int = MAX_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """Bucket means: at most `limit` points, keeping the time order. Returns epoch seconds and values."""
    import numpy as np  # imported where a chart is drawn: the web process that only acks never loads it
    if not points:
        return np.array([]), np.array([])
    times = np.fromiter((p[0].timestamp() for p in points), dtype=float, count=len(points))
    values = np.fromiter((p[1] for p in points), dtype=float, count=len(points))
    if len(points) <= limit:
        return times, values
    edges = np.linspace(times[0], times[-1], limit + 1)
    index = np.clip(np.searchsorted(edges, times, side="right") - 1, 0, limit - 1)
    counts = np.bincount(index, minlength=limit)
    keep = counts > 0
    mean_t = np.bincount(index, weights=times, minlength=limit)[keep] / counts[keep]
    mean_v = np.bincount(index, weights=values, minlength=limit)[keep] / counts[keep]
    return mean_t, mean_v


def reference_lines(kpi: Kpi) -> list[Line]:
    lines = []
    if kpi.target is not None:
        if kpi.target.op == "range":
            lines.append(Line(f"target {formatting.target(kpi)}", kpi.target.low, COLORS["target"]))  # type: ignore[arg-type]
            lines.append(Line("", kpi.target.high, COLORS["target"]))  # type: ignore[arg-type]
        else:
            lines.append(Line(f"target {formatting.target(kpi)}", kpi.target.nearest(0), COLORS["target"]))
    if kpi.baseline is not None:
        lines.append(Line(f"baseline {formatting.value(kpi, kpi.baseline)}", kpi.baseline, COLORS["baseline"], ":"))
    return lines


# Deterministic text: matplotlib's bundled DejaVu Sans (never a system font that differs between machines), so a
# chart renders the same everywhere and the reference images of the tests match on a fresh machine.
STYLE = {"font.family": "sans-serif", "font.sans-serif": ["DejaVu Sans"], "font.size": 10.0,
         "mathtext.fontset": "dejavusans", "axes.unicode_minus": True, "savefig.dpi": "figure"}
KEY_STYLE = {"loc": "upper left", "bbox_to_anchor": (1.01, 1.0), "borderaxespad": 0.0, "frameon": False,
             "fontsize": 8, "handlelength": 2.4}  # outside the plot, to its right: never over a line
SPAN_SLACK = timedelta(days=1)  # a chart's first point may sit up to a bucket after the period's start


def _figure(width: float, height: float):
    import matplotlib
    from matplotlib.figure import Figure  # imported lazily: keeps start-up fast

    cast(Any, matplotlib.rcParams).update(STYLE)  # typed for literal keys only
    # Constrained layout sizes the margins to the tick labels, axis labels and keys: nothing is clipped or overlaps.
    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def span_title(title: str, points: Sequence[tuple[datetime, float]], since: datetime, tz) -> str:
    """The title with the data's real span when the data starts well after the period does ("last 1y — data since
    02 Jun 2026"), or with "no data" when there is none."""
    if not points:
        return f"{title} — no data"
    first = points[0][0]
    if first - since > max(SPAN_SLACK, (points[-1][0] - since) / 50):
        return f"{title} — data since {formatting.local_date(first, tz)}"
    return title


def _key(ax, handles: Sequence) -> None:
    """The key (target, baseline, forecast, thresholds) to the right of the plot, where no line runs."""
    if handles:
        ax.legend(handles=list(handles), **KEY_STYLE)


def _plot(ax, kpi: Kpi, points, tz, lines: Sequence[Line], title: str, projection: Projection | None = None) -> None:
    import matplotlib.dates as mdates
    from matplotlib.ticker import MaxNLocator

    times, values = downsample(points)
    if len(times):
        stamps = [datetime.fromtimestamp(t, tz) for t in times]
        ax.plot(stamps, values, color=COLORS["line"], linewidth=1.8, marker="o" if len(times) < 40 else None,
                markersize=3)  # the title names the KPI: no key entry
    else:
        ax.text(0.5, 0.5, "no data in this period", transform=ax.transAxes, ha="center", color="#57606a")
    key = []
    if projection is not None and len(projection.times):
        ax.fill_between(projection.times, projection.low, projection.high, color=COLORS["forecast"], alpha=0.18,
                        linewidth=0)
        key += ax.plot(projection.times, projection.mean, color=COLORS["forecast"], linestyle="--", linewidth=1.6,
                       label=projection.label)
    if len(times) or (projection is not None and len(projection.times)):
        locator = mdates.AutoDateLocator(tz=tz)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz=tz))
    for line in lines:
        drawn = ax.axhline(line.value, color=line.color, linestyle=line.style, linewidth=1.2,
                           label=line.label or "_range")
        if line.label:
            key.append(drawn)
    ax.set_title(title, loc="left", fontsize=11)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=5))
    ax.set_ylabel(formatting.value(kpi, 0).replace("0", "", 1).strip() or kpi.unit)
    ax.grid(True, alpha=0.25)
    _key(ax, key)
    _fix_ticks(ax.xaxis)
    _fix_ticks(ax.yaxis)


def _fix_ticks(axis) -> None:
    """Compute the axis's ticks and labels once, for its final limits: the layout and the drawing ask for them about
    twenty times a chart, and the date locator and formatter were a third of a chart's time."""
    from matplotlib.ticker import FixedFormatter, FixedLocator

    ticks = axis.get_major_locator()()
    formatter = axis.get_major_formatter()
    labels = formatter.format_ticks(ticks)
    fixed = FixedFormatter(labels)
    fixed.set_offset_string(formatter.get_offset())
    axis.set_major_locator(FixedLocator(ticks))
    axis.set_major_formatter(fixed)


def _png(figure) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", pil_kwargs={"compress_level": 1})  # zlib level 9 took most of the time
    return buffer.getvalue()


def kpi_figure(kpi: Kpi, points: Sequence[tuple[datetime, float]], tz, title: str,
               extra_lines: Sequence[Line] = (), forecast: Projection | None = None):
    figure = _figure(8, 3.6)
    _plot(figure.add_subplot(), kpi, points, tz, [*reference_lines(kpi), *extra_lines], title, forecast)
    return figure


def kpi_chart(kpi: Kpi, points: Sequence[tuple[datetime, float]], tz, title: str,
              extra_lines: Sequence[Line] = (), forecast: Projection | None = None) -> bytes:
    """The KPI's line with target and baseline; with `forecast`, a dashed projection in a shaded 80 % band."""
    return _png(kpi_figure(kpi, points, tz, title, extra_lines, forecast))


def panel_chart(panels: Sequence[tuple[Kpi, Sequence[tuple[datetime, float]]]], tz, title: str) -> bytes:
    """Small multiples: one panel per KPI with its target and baseline."""
    return _png(panel_figure(panels, tz, title))


def panel_figure(panels: Sequence[tuple[Kpi, Sequence[tuple[datetime, float]]]], tz, title: str):
    columns = 2
    rows = max(1, (len(panels) + columns - 1) // columns)
    figure = _figure(10, 2.6 * rows)
    figure.get_layout_engine().set(hspace=0.08, wspace=0.04)
    figure.suptitle(title, fontsize=12)
    for i, (kpi, points) in enumerate(panels):
        _plot(figure.add_subplot(rows, columns, i + 1), kpi, points, tz, reference_lines(kpi), kpi.name)
    return figure


ALT_TEXT_MAX = 1000  # Slack's limit on a file's alt_txt


def alt_text(text: str) -> str:
    """A chart's description for people who cannot see it (Slack's alt_txt, plain text), within Slack's limit."""
    return text if len(text) <= ALT_TEXT_MAX else text[: ALT_TEXT_MAX - 1] + "…"


def kpi_summary(kpi: Kpi, points: Sequence[tuple[datetime, float]], tz) -> str:
    """A KPI's latest value and its target, in words: what a reader of its chart would look for."""
    latest = (f"latest {formatting.value(kpi, points[-1][1])} on {formatting.local_date(points[-1][0], tz)}"
              if len(points) else "no values yet")
    return f"{kpi.name}: {latest}, " + (f"target {formatting.target(kpi)}" if kpi.target is not None else "no target")


def kpi_alt_text(kpi: Kpi, points: Sequence[tuple[datetime, float]], tz, title: str, more: str = "") -> str:
    """The alt text of a kpi_chart: its title (the KPI and period), the latest value and the target."""
    return alt_text(f"Line chart, {title}. {kpi_summary(kpi, points, tz)}.{' ' + more if more else ''}")


def panels_alt_text(panels: Sequence[tuple[Kpi, Sequence[tuple[datetime, float]]]], tz, title: str) -> str:
    """The alt text of a panel_chart: which KPIs, each with its latest value and target."""
    return alt_text(f"{title}: one line chart per KPI. " + "; ".join(kpi_summary(k, p, tz) for k, p in panels) + ".")


def series_key(points: Sequence[tuple[datetime, float]]) -> tuple:
    """What identifies a series for caching: its length, ends and last value."""
    if not points:
        return (0,)
    return (len(points), points[0][0], points[-1][0], points[-1][1], sum(p[1] for p in points))


def runs_chart(labels: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]],
               rates: Sequence[float | None], title: str, limits: tuple[float, float]) -> bytes:
    """Scores per run (one line per question, gaps where a run had too few answers) over response-rate bars."""
    return _png(runs_figure(labels, series, rates, title, limits))


def runs_figure(labels: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]],
                rates: Sequence[float | None], title: str, limits: tuple[float, float]):
    import numpy as np

    figure = _figure(8, 3.6)
    ax = figure.add_subplot()
    positions = np.arange(len(labels))
    bars = ax.twinx()
    bars.bar(positions, [100 * r if r is not None else 0 for r in rates], color=COLORS["baseline"], alpha=0.25,
             label="response rate")
    bars.set_ylim(0, 100)
    bars.set_ylabel("response rate %")
    ax.set_zorder(bars.get_zorder() + 1)
    ax.patch.set_visible(False)
    palette = [COLORS["line"], COLORS["target"], COLORS["stretch"], COLORS["band"]]
    for i, (label, values) in enumerate(series):
        ys = np.array([np.nan if v is None else v for v in values], dtype=float)
        ax.plot(positions, ys, marker="o", markersize=4, linewidth=1.8, color=palette[i % len(palette)], label=label)
    ax.set_ylim(*limits)
    ax.set_xticks(positions, labels, rotation=45 if len(labels) > 6 else 0, fontsize=8)
    ax.set_title(title, loc="left", fontsize=11)
    ax.grid(True, alpha=0.25)
    # A figure key, right of the response-rate axis (an axes key there would sit on that axis's labels).
    figure.legend(handles=[*ax.get_lines(), *bars.containers], loc="outside right upper", frameon=False, fontsize=8)
    return figure
