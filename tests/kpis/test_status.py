"""Status against target, change, progress and unit-aware formatting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from aurum.kpis import formatting
from aurum.kpis.catalog import load_catalog
from aurum.kpis.status import Point, evaluate, state_of

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)
catalog = load_catalog()


@pytest.mark.parametrize(("alias", "value", "state"), [
    ("latency", 199, "on_track"), ("latency", 270, "at_risk"), ("latency", 285, "off_track"),
    ("latency", 400, "off_track"), ("velocity", 45, "on_track"), ("velocity", 38, "at_risk"),
    ("velocity", 36, "off_track"), ("velocity", 70, "at_risk"), ("uptime", 99.7, "at_risk"),
    ("uptime", 99.95, "on_track"), ("reviews", 2.1, "at_risk"), ("reviews", 3, "off_track"),
    ("cpu", 45, "tracked"), ("coverage", None, "no_data"),
])
def test_state_rule(alias, value, state):
    assert state_of(catalog.resolve(alias), value) == state


def test_change_progress_and_next_phase():
    kpi = catalog.resolve("latency")
    status = evaluate(kpi, Point(NOW, 285), Point(NOW - timedelta(days=7), 300), NOW)
    assert status.change_abs == -15 and status.change_pct == pytest.approx(-5.0)
    assert status.improving is True
    assert status.progress_pct == pytest.approx(100 * 65 / 150)
    assert status.next_phase == (1, 250)
    assert not status.stale
    assert evaluate(kpi, Point(NOW - timedelta(days=3), 240), None, NOW).stale


def test_next_phase_skips_reached_targets():
    coverage = catalog.resolve("coverage")
    assert evaluate(coverage, Point(NOW, 83), None, NOW).next_phase is None
    assert evaluate(coverage, Point(NOW, 79), None, NOW).next_phase == (1, 82)


@pytest.mark.parametrize(("alias", "value", "text"), [
    ("latency", 285.4, "285 ms"), ("coverage", 81.25, "81.2%"), ("uptime", 99.95, "99.95%"),
    ("errors", 0.08, "0.08%"), ("velocity", 52, "52 points"), ("mttr", 38, "38 min"),
    ("onboarding", 3.5, "3.5 days"), ("deploys", 4, "4/week"), ("features", 12, "12 features"),
])
def test_unit_aware_values(alias, value, text):
    assert formatting.value(catalog.resolve(alias), value) == text


def test_targets_and_changes_are_formatted():
    assert formatting.target(catalog.resolve("velocity")) == "40–60 points"
    assert formatting.target(catalog.resolve("uptime")) == "≥99.9%"
    assert formatting.target(catalog.resolve("latency")) == "<200 ms"
    assert formatting.change(catalog.resolve("coverage"), 2.0, 2.5) == "↑ 2 pts"
    assert formatting.change(catalog.resolve("latency"), -50, -14.9) == "↓ 14.9%"
    assert formatting.age(NOW - timedelta(minutes=5), NOW) == "5 min ago"
    assert formatting.age(NOW - timedelta(days=2, hours=1), NOW) == "2 days ago"
