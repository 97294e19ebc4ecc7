"""Charts as PNG bytes, on matplotlib's object API (never pyplot's global state)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from aurum import formatting
from aurum.catalog import Kpi

MAX_POINTS = 400
COLORS = {"line": "#1f6feb", "target": "#2da44e", "baseline": "#8c959f", "stretch": "#8250df", "band": "#d29922"}


@dataclass(frozen=True)
class Line:
    label: str
    value: float
    color: str
    style: str = "--"


def downsample(points: Sequence[tuple[datetime, float]], limit: int = MAX_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """Bucket means: at most `limit` points, keeping the time order. Returns epoch seconds and values."""
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


def _figure(width: float, height: float):
    from matplotlib.figure import Figure  # imported lazily: keeps start-up fast

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def _plot(ax, kpi: Kpi, points, tz, lines: Sequence[Line], title: str) -> None:
    import matplotlib.dates as mdates

    times, values = downsample(points)
    if len(times):
        stamps = [datetime.fromtimestamp(t, tz) for t in times]
        ax.plot(stamps, values, color=COLORS["line"], linewidth=1.8, marker="o" if len(times) < 40 else None,
                markersize=3, label=kpi.name)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(mdates.AutoDateLocator(tz=tz), tz=tz))
    else:
        ax.text(0.5, 0.5, "no data in this period", transform=ax.transAxes, ha="center", color="#57606a")
    for line in lines:
        ax.axhline(line.value, color=line.color, linestyle=line.style, linewidth=1.2, label=line.label or None)
    ax.set_title(title, loc="left", fontsize=11)
    ax.set_ylabel(formatting.value(kpi, 0).replace("0", "", 1).strip() or kpi.unit)
    ax.grid(True, alpha=0.25)
    if ax.get_legend_handles_labels()[0]:  # a KPI without data, target or baseline has nothing to label
        ax.legend(loc="best", fontsize=8, frameon=False)


def _png(figure) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def kpi_chart(kpi: Kpi, points: Sequence[tuple[datetime, float]], tz, title: str,
              extra_lines: Sequence[Line] = ()) -> bytes:
    figure = _figure(8, 3.6)
    _plot(figure.add_subplot(), kpi, points, tz, [*reference_lines(kpi), *extra_lines], title)
    return _png(figure)


def panel_chart(panels: Sequence[tuple[Kpi, Sequence[tuple[datetime, float]]]], tz, title: str) -> bytes:
    """Small multiples: one panel per KPI with its target and baseline."""
    columns = 2
    rows = max(1, (len(panels) + columns - 1) // columns)
    figure = _figure(10, 2.6 * rows)
    figure.suptitle(title, fontsize=12)
    for i, (kpi, points) in enumerate(panels):
        _plot(figure.add_subplot(rows, columns, i + 1), kpi, points, tz, reference_lines(kpi), kpi.name)
    return _png(figure)
