"""Chart geometry, measured with matplotlib's renderer after layout: the key never covers a plot area (where the lines
run) nor a title, label or tick label, and no text is cut off at the figure's edge."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.text import Text

from aurum.kpis import charts
from aurum.kpis.catalog import load_catalog
from aurum.reports import charts as report_charts

CATALOG = load_catalog()
NOW = datetime(2026, 12, 6, 9, tzinfo=UTC)


def _days(count: int, level: float, slope: float) -> list[tuple[datetime, float]]:
    return [(NOW - timedelta(days=count - i), level + slope * i + 3 * math.sin(i)) for i in range(count)]


def _projection(start: float) -> charts.Projection:
    days = [NOW + timedelta(days=i) for i in range(60)]
    return charts.Projection(days, [start - 0.5 * i for i in range(60)], [start - 0.6 * i - 8 for i in range(60)],
                             [start - 0.4 * i + 8 for i in range(60)])


def _texts(figure) -> list:
    """Every text drawn that is not part of a key: titles, axis labels, tick labels, offsets, notes."""
    found = [t for t in figure.findobj(Text) if t.get_visible() and t.get_text()]
    skipped = {id(t) for legend in _legends(figure) for t in [*legend.get_texts(), legend.get_title()]}
    for ax in figure.axes:  # matplotlib keeps the labels of ticks outside the axis's range, but does not draw them
        for axis in (ax.xaxis, ax.yaxis):
            low, high = sorted(axis.get_view_interval())
            slack = 1e-9 * (high - low)
            skipped |= {id(label) for tick in axis.get_major_ticks() + axis.get_minor_ticks()
                        if not low - slack <= tick.get_loc() <= high + slack for label in (tick.label1, tick.label2)}
    return [t for t in found if id(t) not in skipped]


def _legends(figure) -> list:
    return [*figure.legends, *(ax.get_legend() for ax in figure.axes if ax.get_legend() is not None)]


def problems(figure) -> list[str]:
    """What overlaps or is cut off, in words; empty for a clean chart."""
    canvas = FigureCanvasAgg(figure)
    figure.draw(canvas.get_renderer())  # lays the figure out (constrained layout) and draws it once
    renderer = canvas.get_renderer()
    found = []
    page = figure.bbox
    for legend in _legends(figure):
        box = legend.get_window_extent(renderer)
        name = ", ".join(t.get_text() for t in legend.get_texts())
        for ax in figure.axes:
            if box.overlaps(ax.get_window_extent(renderer)):
                found.append(f"the key ({name}) lies over the plot area of {ax.get_title(loc='left')!r}")
            for line in ax.get_lines():
                if line.get_visible() and box.overlaps(line.get_window_extent(renderer)) \
                        and line.get_label() not in [t.get_text() for t in legend.get_texts()]:
                    found.append(f"the key ({name}) crosses a plotted line ({line.get_label().lstrip('_')})")
        for text in _texts(figure):
            if box.overlaps(text.get_window_extent(renderer)):
                found.append(f"the key ({name}) covers the text {text.get_text()!r}")
        if not page.contains(box.x0, box.y0) or not page.contains(box.x1, box.y1):
            found.append(f"the key ({name}) is cut off at the figure's edge")
    for text in _texts(figure):
        box = text.get_window_extent(renderer)
        if box.width and (box.x0 < page.x0 or box.y0 < page.y0 or box.x1 > page.x1 or box.y1 > page.y1):
            found.append(f"the text {text.get_text()!r} is cut off at the figure's edge")
    return found


def _kpi(name: str):
    return CATALOG.resolve(name)


CHARTS = {
    "latency 1y with forecast": lambda: charts.kpi_figure(
        _kpi("latency"), _days(180, 350, -0.35), UTC, "API p95 response time, last 1y — data since 09 Jun 2026",
        forecast=_projection(288)),
    "uptime 1y (long tick labels)": lambda: charts.kpi_figure(
        _kpi("uptime"), [(at, 99.5 + v / 1000) for at, v in _days(180, 0, 1.1)], UTC, "System uptime, last 1y",
        forecast=charts.Projection([NOW + timedelta(days=i) for i in range(30)], [99.7] * 30, [99.6] * 30,
                                   [99.8] * 30)),
    "velocity (range target) with an alert threshold": lambda: charts.kpi_figure(
        _kpi("velocity"), [(NOW - timedelta(days=14 * i), 45.0 + i) for i in range(6)][::-1], UTC,
        "Sprint velocity, last 90d", extra_lines=[charts.Line("threshold <40 points", 40, charts.COLORS["band"])]),
    "dashboard panels": lambda: charts.panel_figure(
        [(_kpi(k), _days(7, level, 0.1)) for k, level in
         (("latency", 285), ("api_response_time_p99", 450), ("coverage", 81), ("api_error_rate_percentage", 0.08))],
        UTC, "Technical metrics, last 7 days"),
    "survey runs": lambda: charts.runs_figure(
        [f"2026-{m:02d}" for m in range(1, 9)], [("Overall satisfaction", [3.5, 3.8, None, 4.0, 4.1, 3.9, 4.2, 4.3]),
                                                 ("Tooling", [3.0, 3.1, 3.3, 3.2, 3.6, 3.7, 3.5, 3.9])],
        [0.6, 0.7, 0.2, 0.8, 0.75, 0.7, 0.8, 0.9], "Developer survey, last 8 runs", (0.5, 5.5)),
    "weekly report lines": lambda: report_charts.lines_figure(
        [report_charts.Series("Code coverage", _days(7, 79, 0.3)),
         report_charts.Series("CI success", _days(7, 93, 0.2))],
        [charts.Line("coverage gate >80%", 80, charts.COLORS["target"])], UTC, "Quality, last 7 days", "%"),
    "sprint bars": lambda: report_charts.bars_figure(
        [f"Sprint {i}" for i in range(10, 16)], [50, 52, 48, 55, 54, 50], [46, 52, 47, 51, 52, 38], (40, 60),
        "Committed vs completed, last sprints", [None, None, 48.3, 50, 50, 47]),
}


@pytest.mark.parametrize("name", list(CHARTS))
def test_the_key_covers_no_line_label_or_plot_area_and_nothing_is_cut_off(name):
    assert problems(CHARTS[name]()) == []


def test_the_check_sees_a_key_put_back_over_the_lines():
    figure = charts.kpi_figure(_kpi("latency"), _days(90, 300, -0.2), UTC, "API p95 response time, last 90d")
    (axes,) = figure.axes
    axes.legend(handles=axes.get_legend().legend_handles, loc="upper left", fontsize=8)
    assert any("lies over the plot area" in problem for problem in problems(figure))


def test_a_forecast_only_chart_and_an_empty_one_are_clean_too():
    days = [date(2026, 12, 7) + timedelta(days=i) for i in range(3)]
    projection = charts.Projection(days, [200.0] * 3, [190.0] * 3, [210.0] * 3)
    assert problems(charts.kpi_figure(_kpi("latency"), [], UTC, "latency — no data", forecast=projection)) == []
    assert problems(charts.kpi_figure(_kpi("rps"), [], UTC, "Requests per second — no data")) == []
