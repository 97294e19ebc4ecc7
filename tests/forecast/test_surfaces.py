"""Where forecasts show: the /kpi card and its chart, `/kpi <name> forecast [date]`, and the CLI — same numbers."""

from __future__ import annotations

import io
from datetime import timedelta

import numpy as np
import pytest
from slack_sdk.models.blocks import Block
from typer.testing import CliRunner

from aurum import demo
from aurum.forecast import blocks as forecast_blocks
from aurum.forecast import service, text
from aurum.forecast.accuracy import backtest_kpis
from aurum.kpis import charts
from aurum.kpis.blocks import MAX_BLOCKS
from bot.cli import app as cli
from storage.db import session_scope
from tests.forecast import synthetic
from tests.forecast.support import TEAM, store
from tests.support import chart_alt_texts

BAND_RGB = (243, 219, 234)  # the forecast colour #bf3989 at 18 % over white


def _load_demo(runtime, team_id: str) -> None:
    with session_scope(runtime.ctx.engine) as session:
        demo.load(session, runtime.ctx.catalog, team_id, runtime.ctx.now())


def _valid(blocks: list[dict]) -> None:
    assert 0 < len(blocks) <= MAX_BLOCKS
    for block in blocks:
        assert Block.parse(block).to_dict() == block


def _cli(database_url: str, tmp_path, *args: str):
    env = {"DATABASE_URL": database_url, "AURUM_TIMEZONE": "UTC", "AURUM_CHART_DIR": str(tmp_path / "cli-charts")}
    result = CliRunner().invoke(cli, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def _band_pixels(png: bytes) -> int:
    from matplotlib.image import imread

    rgb = (imread(io.BytesIO(png), format="png")[:, :, :3] * 255).round()
    return int(np.sum(np.all(np.abs(rgb - BAND_RGB) <= 3, axis=2)))


def test_kpi_card_carries_the_forecast_line_and_its_chart_the_band(runtime, server, slack, fake_slack):
    _load_demo(runtime, fake_slack.team_id)
    slack.command("/kpi", "latency")
    card = fake_slack.wait_for("chat.postMessage", timeout=30)[0].params
    _valid(card["blocks"])
    lines = [b["text"]["text"] for b in card["blocks"] if b["type"] == "section"]
    with runtime.ctx.reading() as session:
        result = service.forecast_kpi(runtime.ctx, session, fake_slack.team_id, runtime.ctx.catalog.get(
            "api_response_time_p95"))
    expected = text.card_line(result)
    assert expected.startswith("🔮 At this pace: 200 ms (target) around ") and ", 80 %: " in expected
    assert expected in lines
    fake_slack.wait_for("files.completeUploadExternal", timeout=30)
    (upload,) = fake_slack.files.values()
    assert _band_pixels(upload.bytes) > 500


def test_slack_forecast_card_and_cli_print_the_same_lines(runtime, server, slack, fake_slack, database_url, tmp_path):
    _load_demo(runtime, fake_slack.team_id)
    on = (runtime.ctx.now().date() + timedelta(days=90)).isoformat()
    slack.command("/kpi", f"latency forecast {on}")
    card = fake_slack.wait_for("chat.postMessage", timeout=30)[0].params
    _valid(card["blocks"])
    header, body = card["blocks"][0]["text"]["text"], card["blocks"][1]["text"]["text"]
    printed = _cli(database_url, tmp_path, "forecast", "latency", "--date", on, "--team", fake_slack.team_id)
    assert printed[0] == header == "🔮 API p95 response time: forecast"
    assert printed[1:] == [text.plain(line) for line in body.split("\n")]
    assert any(line.startswith("Target 200 ms: around ") for line in printed)
    assert any(line.startswith(f"On {text.day(runtime.ctx.now().date() + timedelta(days=90))}: ") for line in printed)
    fake_slack.wait_for("files.completeUploadExternal", timeout=30)
    (upload,) = fake_slack.files.values()
    assert upload.filename == "latency-forecast.png" and _band_pixels(upload.bytes) > 500
    ((_name, alt),) = chart_alt_texts(fake_slack)
    assert alt.startswith("Line chart, API p95 response time: last 90 days and forecast.") and "80 % band" in alt


def test_forecast_of_a_kpi_without_data_says_so_without_a_chart(runtime, server, slack, fake_slack):
    slack.command("/kpi", "build forecast")
    card = fake_slack.wait_for("chat.postMessage", timeout=30)[0].params
    _valid(card["blocks"])
    assert "No data yet, so nothing to forecast" in card["blocks"][1]["text"]["text"]
    assert not fake_slack.calls_to("files.getUploadURLExternal")


@pytest.mark.parametrize(("words", "message"), [
    ("latency forecast 2020-01-01", "2020-01-01 is not in the future"),
    ("latency forecast soon", "'soon' is not a date"),
    ("latency forecast 2030-01-01 2031-01-01", "Usage: `/kpi <name> forecast [date] [private]`"),
])
def test_forecast_with_a_bad_date_is_answered_in_the_ack(server, slack, fake_slack, words, message):
    body = slack.command("/kpi", words).json()
    assert message in body["text"] and body["response_type"] == "ephemeral"
    assert not fake_slack.calls_to("chat.postMessage")


def test_forecast_card_blocks_are_valid_in_every_state(ctx):
    store(ctx, "api_response_time_p95", [(ctx.now() - timedelta(days=d), 300.0 - d) for d in (3, 2, 1)])
    with ctx.reading() as session:
        short = service.forecast_kpi(ctx, session, TEAM, ctx.catalog.get("api_response_time_p95"))
        empty = service.forecast_kpi(ctx, session, TEAM, ctx.catalog.get("test_coverage_percentage"))
        outlook = service.outlook(ctx, session, TEAM)
        phases = service.phase_outlook(ctx, session, TEAM)
    for result in (short, empty):
        _valid(forecast_blocks.forecast_card(result, ctx.tz, chart_note="📈 Chart in the thread"))
    _valid(forecast_blocks.outlook_blocks(outlook, phases))
    assert forecast_blocks.forecast_text(short) == (
        "API p95 response time forecast: Forecast: too little data yet — need values on 5 more days and 12 more "
        "days of history.")


def test_chart_draws_the_projection_dashed_in_a_shaded_band(ctx):
    from matplotlib.collections import PolyCollection

    points = synthetic.points("linear", 2, days=120, end=ctx.now())
    store(ctx, "api_response_time_p95", points)
    with ctx.reading() as session:
        result = service.forecast_kpi(ctx, session, TEAM, ctx.catalog.get("api_response_time_p95"))
    last = points[-1][0].date()
    projection = service.projection(result, last + timedelta(days=60), ctx.tz)
    assert len(projection.times) == 61 and all(lo <= m <= hi for lo, m, hi in
                                               zip(projection.low, projection.mean, projection.high, strict=True))
    kpi = ctx.catalog.get("api_response_time_p95")
    figure = charts.kpi_figure(kpi, points, ctx.tz, "latency", forecast=projection)
    (axes,) = figure.axes
    assert any(isinstance(c, PolyCollection) for c in axes.collections)
    assert any(line.get_linestyle() == "--" and len(line.get_xdata()) == 61 for line in axes.get_lines())
    with_band = charts.kpi_chart(kpi, points, ctx.tz, "latency", forecast=projection)
    without = charts.kpi_chart(kpi, points, ctx.tz, "latency")
    assert _band_pixels(with_band) > 1000 and _band_pixels(without) == 0


def test_backtest_cli_prints_coverage_and_mape_per_kpi_and_overall(ctx, database_url, tmp_path):
    store(ctx, "api_response_time_p95", synthetic.points("linear", 3, days=150))
    store(ctx, "test_coverage_percentage", synthetic.points("flat", 3, days=150))
    with ctx.reading() as session:
        report = backtest_kpis(ctx, session, TEAM)
    printed = _cli(database_url, tmp_path, "forecast", "backtest", "--team", TEAM)
    latency = report.per_kpi["api_response_time_p95"][1]
    row = next(line for line in printed if line.startswith("API p95 response time"))
    assert row.split()[-6:] == [str(latency.origins), str(latency.pairs), f"{latency.coverage:.1f}", "%",
                                f"{latency.mape:.1f}", "%"]
    assert printed[-1] == (f"Forecast accuracy (actuals inside the 90 % intervals): {report.accuracy:.1f} %; "
                           f"MAPE (averaged over KPIs): {report.mape:.1f} %")
    assert report.accuracy == report.overall.coverage and "in 90 % interval" in printed[1]
    assert any(line.startswith("Overall (2 KPIs)") and f"{report.overall.coverage:.1f} %" in line for line in printed)
    only = _cli(database_url, tmp_path, "forecast", "backtest", "latency", "--team", TEAM)
    assert any(line.startswith("Overall (1 KPIs)") for line in only)
