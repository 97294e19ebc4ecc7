"""Every Block Kit payload the KPI surfaces build passes slack_sdk's model validation and the 50-block cap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from aurum.kpis import blocks
from aurum.kpis.catalog import load_catalog
from aurum.kpis.status import Point, evaluate
from tests.support import assert_valid_blocks

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)
catalog = load_catalog()


def _status(kpi, value=None):
    latest = Point(NOW - timedelta(hours=1), value, "prometheus") if value is not None else None
    return evaluate(kpi, latest, Point(NOW - timedelta(days=8), value * 1.1) if value else None, NOW)


@pytest.mark.parametrize("kpi", list(catalog), ids=lambda k: k.key)
def test_every_kpi_card_and_help_is_valid(kpi):
    for value in (None, 42.0):
        assert_valid_blocks(blocks.kpi_card(_status(kpi, value), "30d", NOW, UTC, chart_note="📈 chart"))
    assert_valid_blocks(blocks.kpi_help(catalog, kpi))


def test_catalogue_overview_and_dashboard_are_valid():
    statuses = {k.key: _status(k, 50.0) for k in catalog}
    overview = blocks.catalog_overview(catalog, statuses)
    assert_valid_blocks(overview)
    assert sum("🟢" in str(b) or "🔴" in str(b) or "🟡" in str(b) for b in overview) > 5
    groups = [("API performance", [statuses["api_response_time_p95"]])]
    assert_valid_blocks(blocks.dashboard(groups, [statuses["test_coverage_percentage"]], NOW, "chart"))
    assert_valid_blocks(blocks.recorded(statuses["test_coverage_percentage"], NOW, UTC))


def test_capped_keeps_messages_within_fifty_blocks():
    many = [blocks.section(f"line {i}") for i in range(80)]
    capped = blocks.capped(many)
    assert len(capped) == 50 and capped[-1]["type"] == "context"
    assert_valid_blocks(capped)


@pytest.mark.parametrize("evil", ["<!channel>", "<https://evil.example|click me>", "<@U123> & co"])
def test_user_text_is_escaped(evil):
    escaped = blocks.escape(evil)
    assert "<" not in escaped and ">" not in escaped
    assert blocks.unknown_kpi(catalog, evil, []).count("<") == 0
