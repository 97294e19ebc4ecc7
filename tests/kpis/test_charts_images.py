"""The charts as pictures: drawn from the demo history (fixed seed) on a fixed clock, by the code /kpi and
/kpi dashboard use, and compared with the reference PNGs in tests/data/charts/ by the RMS of the pixel differences
(matplotlib.testing.compare, as matplotlib's own image tests do), so that anti-aliasing noise passes and a moved key,
a cut-off label or another line does not.

After a deliberate change of the charts' look, draw the references again and look at them before committing:

    AURUM_UPDATE_CHART_REFERENCES=1 python -m pytest -q tests/kpis/test_charts_images.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from matplotlib.testing.compare import compare_images

from aurum.forecast import charts as forecast_charts
from aurum.forecast import service as forecasting
from aurum.kpis import dashboard
from aurum.kpis import service as kpis
from tests.kpis.chart_data import TEAM, demo_workspace

REFERENCES = Path(__file__).resolve().parents[1] / "data" / "charts"
UPDATE = "AURUM_UPDATE_CHART_REFERENCES"
TOLERANCE = 2.0  # RMS of the differences, 0–255: anti-aliasing and float noise stay far below a moved element

KPI_CHARTS = [("latency", "7d"), ("latency", "90d"), ("latency", "1y"), ("uptime", "1y"), ("velocity", "30d"),
              ("velocity", "1y")]


def _kpi_chart(ctx, name: str, period: str) -> bytes:
    kpi = ctx.catalog.resolve(name)
    with ctx.reading() as session:
        view = kpis.view(ctx, session, TEAM, kpi, period)
        result = forecasting.forecast_kpi(ctx, session, TEAM, kpi)
    return forecast_charts.period_chart(ctx, view, result).png()


def _dashboard_chart(ctx) -> bytes:
    with ctx.reading() as session:
        panels = dashboard.chart_panels(ctx, session, TEAM)
    return dashboard.chart(ctx, panels)


def _matches_reference(png: bytes, name: str, tmp_path: Path) -> None:
    if os.environ.get(UPDATE):
        REFERENCES.mkdir(parents=True, exist_ok=True)
        (REFERENCES / f"{name}.png").write_bytes(png)
    _compare(png, name, tmp_path)


def _compare(png: bytes, name: str, tmp_path: Path) -> None:
    reference = REFERENCES / f"{name}.png"
    assert reference.exists(), f"no reference image {reference}: draw it with {UPDATE}=1 (see this module's docstring)"
    actual = tmp_path / f"{name}.png"
    actual.write_bytes(png)
    difference = compare_images(str(reference), str(actual), TOLERANCE, in_decorator=True)
    assert difference is None, (
        f"{name}: RMS {difference['rms']:.2f} > {TOLERANCE} against {reference}; drawn: {actual}, differences: "
        f"{difference['diff']}. If the change is meant, draw the references again ({UPDATE}=1) and look at them.")


@pytest.mark.parametrize("name, period", KPI_CHARTS)
def test_a_kpi_chart_looks_like_its_reference(ctx, tmp_path, name, period):
    demo_workspace(ctx)
    _matches_reference(_kpi_chart(ctx, name, period), f"{name}-{period}", tmp_path)


def test_the_dashboard_chart_looks_like_its_reference(ctx, tmp_path):
    demo_workspace(ctx)
    _matches_reference(_dashboard_chart(ctx), "dashboard", tmp_path)


def test_the_comparison_sees_a_changed_chart(ctx, tmp_path):
    demo_workspace(ctx)
    with pytest.raises(AssertionError, match="RMS"):
        _compare(_kpi_chart(ctx, "latency", "90d"), "latency-1y", tmp_path)
