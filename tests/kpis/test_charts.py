"""KPI charts: one line of at most MAX_POINTS vertices, target/baseline/forecast named in a key beside the plot."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from aurum.kpis import charts
from aurum.kpis.catalog import load_catalog

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)


def _key(figure) -> list[str]:
    (axes,) = figure.axes
    legend = axes.get_legend()
    return [t.get_text() for t in legend.get_texts()] if legend is not None else []


def test_a_year_is_one_plain_line_with_its_reference_lines_named_in_the_key():
    kpi = load_catalog().resolve("latency")
    points = [(NOW - timedelta(minutes=5 * i), 250 + 60 * math.sin(i / 288)) for i in range(365 * 288)][::-1]
    figure = charts.kpi_figure(kpi, points, UTC, "latency, last 1y")
    (axes,) = figure.axes
    data = [line for line in axes.get_lines() if len(line.get_xdata()) > 2]
    assert len(data) == 1 and len(data[0].get_xdata()) <= charts.MAX_POINTS
    assert data[0].get_marker() in (None, "None", "")
    assert _key(figure) == ["target <200 ms", "baseline 350 ms"]
    assert [h.get_linestyle() for h in axes.get_legend().legend_handles] == ["--", ":"]
    assert charts.kpi_chart(kpi, points, UTC, "latency, last 1y").startswith(b"\x89PNG")


def test_the_key_names_the_forecast_and_a_kpi_without_lines_has_none():
    kpi = load_catalog().resolve("latency")
    days = [date(2026, 12, 1) + timedelta(days=i) for i in range(3)]
    projection = charts.Projection(days, [200.0] * 3, [190.0] * 3, [210.0] * 3)
    figure = charts.kpi_figure(kpi, [(NOW, 240.0)], UTC, "latency", forecast=projection)
    assert _key(figure)[0] == "forecast, 80 % interval"
    bare = load_catalog().resolve("rps")
    assert _key(charts.kpi_figure(bare, [(NOW, 1.0), (NOW + timedelta(hours=1), 2.0)], UTC, "rps")) == []


def test_every_text_is_set_in_matplotlibs_own_dejavu_sans_whatever_fonts_the_machine_has():
    import matplotlib
    from matplotlib.font_manager import findfont
    from matplotlib.text import Text

    kpi = load_catalog().resolve("uptime")
    with matplotlib.rc_context({"font.family": ["serif"]}):  # as a matplotlibrc of the machine might say
        figure = charts.kpi_figure(kpi, [(NOW - timedelta(days=i), 99.7) for i in range(30)], UTC, "System uptime")
        fonts = {findfont(t.get_fontproperties()) for t in figure.findobj(Text)}
    assert fonts and all(Path(f).is_relative_to(matplotlib.get_data_path()) and "DejaVuSans" in f for f in fonts)
