"""The engine's timeline (pending, firing, resolved at each evaluation) equals Prometheus' own, per `promtool`."""

from __future__ import annotations

import math
import random
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aurum.alerts.prometheus import rule_file
from aurum.alerts.rules import AlertsConfig, format_duration, promql_number
from aurum.alerts.ruletest import STALE, expected_alerts, replay, run
from tests.alerts.support import PROMTOOL, Clock, prometheus_like, promtool_agrees, promtool_files, run_series

pytestmark = pytest.mark.skipif(PROMTOOL is None, reason="promtool is not installed (Debian package prometheus)")

STEPS = 36
MINUTE = timedelta(minutes=1)
# Values around each seed rule's threshold (equal to it too), by KPI.
LEVELS = {
    "api_error_rate_percentage": [0.2, 0.9, 1.0, 1.5, 4.0],
    "service_availability_percentage": [97.5, 98.99, 99.0, 99.5, 99.95],
    "deployment_failures": [0.0, 1.0],
    "api_response_time_p95": [180.0, 300.0, 301.0, 350.0, 900.0],
    "test_coverage_percentage": [78.0, 79.9, 80.0, 82.5],
    "technical_debt_percentage": [9.0, 12.0, 12.5, 15.0],
}


def runs(levels: list[float]) -> st.SearchStrategy[list[float | None]]:
    """A series built of runs (a level, or a gap with no samples) so that `for` and staleness both get exercised."""
    run = st.tuples(st.one_of(st.none(), st.sampled_from(levels)), st.integers(1, 12))
    return st.lists(run, min_size=1, max_size=10).map(
        lambda parts: ([v for value, length in parts for v in [value] * length] + [levels[0]] * STEPS)[:STEPS])


SERIES = st.fixed_dictionaries({kpi: runs(levels) for kpi, levels in LEVELS.items()})
SLOW = settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                       HealthCheck.too_slow])


def _check(ctx, series) -> None:
    timeline = run_series(ctx, f"T{uuid.uuid4().hex[:10]}", series, Clock())
    rule_text, test_text = promtool_files(ctx, series, timeline)
    with tempfile.TemporaryDirectory() as folder:
        agrees, output = promtool_agrees(Path(folder), rule_text, test_text)
    assert agrees, f"promtool disagrees with the engine:\n{output[:4000]}\nseries: {series}\n{timeline.states}"


def test_hand_written_latency_case_matches_promtool(ctx):
    prometheus_like(ctx)
    latency = [100.0] * 2 + [350.0] * 12 + [100.0] + [350.0] * 11 + [None] * 7 + [350.0] * 3
    # A sample exactly 5 minutes old still counts (Prometheus 2's lookback includes its start), 6 minutes does not.
    errors = [2.0] + [None] * 6 + [2.0] + [None] * 5 + [0.5] * 4
    _check(ctx, {"api_response_time_p95": latency, "api_error_rate_percentage": errors})


@SLOW
@given(series=SERIES)
def test_seed_rules_match_promtool_on_random_series(ctx, series):
    prometheus_like(ctx)
    _check(ctx, series)


@SLOW
@given(series=SERIES, hold=st.sampled_from([0, 1, 2, 5]), keep=st.sampled_from([0, 1, 3]))
def test_for_and_keep_firing_for_match_promtool(ctx, series, hold, keep):
    timing = {"for": f"{hold}m", "keep_firing_for": f"{keep}m"}
    prometheus_like(ctx, **{name: timing for name in ctx.config.alerts.rules})
    _check(ctx, series)


# --- Differential tests: the bot's engine (as `aurum alerts test` replays it) against promtool, on generated series
# with x/0, 0/0, -0, NaN, ±Inf, gaps and staleness markers, over every max_age of the seed. One promtool run checks
# a whole file of test groups; each (evaluation, rule) pair is a case.

SPECIAL = [0.0, -0.0, math.nan, math.inf, -math.inf]
EDGE_LEVELS = {kpi: levels + SPECIAL for kpi, levels in LEVELS.items()}
EDGE_LEVELS["deployment_failures"] = [0.0, -0.0, 1.0, 2.0, math.nan]
EDGE_RULES = {
    "DivByKpi": {"expr": "api_error_rate_percentage / deployment_failures", "op": ">", "threshold": 1},
    "ZeroByZero": {"expr": "(deployment_failures * api_error_rate_percentage) / deployment_failures",
                   "op": "!=", "threshold": 3},
    "NegativeInfinity": {"expr": "(0 - api_response_time_p95) / deployment_failures", "op": "<",
                         "threshold": -1e300, "max_age": "5m"},
    "EqualsInfinity": {"expr": "api_response_time_p95 / deployment_failures", "op": "==", "threshold": math.inf},
    "ModuloByKpi": {"expr": "api_response_time_p95 % deployment_failures", "op": ">=", "threshold": 0, "for": "2m"},
    "NegatedLatency": {"expr": "-api_response_time_p95 * 2 + 1", "op": "<=", "threshold": -601},
    "CoverageNotEighty": {"kpi": "test_coverage_percentage", "op": "!=", "threshold": 80, "max_age": "5m"},
    "NoDataAlerts": {"expr": "service_availability_percentage / technical_debt_percentage", "op": "<",
                     "threshold": 8, "missing_data": "alert", "for": "2m", "max_age": "5m"},
    "KeepsFiring": {"kpi": "api_error_rate_percentage", "op": ">", "threshold": 1, "keep_firing_for": "2m",
                    "max_age": "5m"},
}


def _edge_config(**overrides: dict[str, Any]) -> AlertsConfig:
    extra = {name: {"channels": ["#edge"], "max_age": "15m", **fields} for name, fields in EDGE_RULES.items()}
    return AlertsConfig.model_validate({"rules": {**extra, **overrides}})


def _random_series(rng: random.Random, levels: dict[str, list[float]], steps: int) -> dict[str, list[Any]]:
    series = {}
    for kpi, choices in levels.items():
        values: list[Any] = []
        while len(values) < steps:
            roll = rng.random()
            value = None if roll < 0.15 else STALE if roll < 0.2 else rng.choice(choices)
            values.extend([value] * rng.randint(1, 8 if value is not None else 20))  # gaps long enough to age out
        series[kpi] = values[:steps]
    return series


def _notation(values: list[Any]) -> str:
    return " ".join("_" if v is None else "stale" if v is STALE else promql_number(v) for v in values)


def _differential(folder: Path, alerts: AlertsConfig, groups: list[dict[str, list[Any]]], interval: timedelta,
                  evaluation_interval: timedelta, steps: int, rule_text: str) -> tuple[int, str]:
    """The bot's timeline of every group as a promtool test file; promtool checks it against `rule_text`. The bot's
    own `aurum alerts test` runner passes the same file. Returns the number of cases and promtool's complaints."""
    alerts = alerts.model_copy(update={"rules": {name: rule.model_copy(update={"annotations": {}})
                                                 for name, rule in alerts.rules.items()}})
    rules = alerts.enabled()
    tests = []
    for series in groups:
        timeline = replay(rules, series, interval, evaluation_interval, (steps - 1) * evaluation_interval,
                          alerts.missing_data)
        cases = [{"eval_time": format_duration(n * evaluation_interval), "alertname": rule.name,
                  "exp_alerts": expected_alerts(rule, states[rule.name])}
                 for n, states in enumerate(timeline) for rule in rules]
        tests.append({"interval": format_duration(interval), "alert_rule_test": cases,
                      "input_series": [{"series": kpi, "values": _notation(v)} for kpi, v in series.items()]})
    document = {"rule_files": ["rules.yml"], "evaluation_interval": format_duration(evaluation_interval),
                "tests": tests}
    own = run(document, alerts)
    assert not own.failed and own.cases, own.text()[-3000:]
    agrees, output = promtool_agrees(folder, rule_text, yaml.safe_dump(document, sort_keys=False))
    return len(own.cases), "" if agrees else output


def _rules_without_annotations(text: str) -> str:
    """promtool compares annotations in full; the differential compares states and labels."""
    document = yaml.safe_load(text)
    for group in document["groups"]:
        for rule in group["rules"]:
            rule.pop("annotations", None)
    return yaml.safe_dump(document, sort_keys=False)


def test_edge_values_and_every_seed_max_age_match_promtool(tmp_path):
    started, compared = time.monotonic(), 0
    rng = random.Random(15)
    # Minutes: the seed's 15m, 5m, `for`, keep_firing_for, keep_state (DeploymentFailed with a 15m max_age here).
    alerts = _edge_config(DeploymentFailed={"max_age": "15m"})
    rule_text = rule_file(alerts.enabled(), annotations=False, missing_data=alerts.missing_data)
    groups = [_random_series(rng, EDGE_LEVELS, 40) for _ in range(30)]
    count, problems = _differential(tmp_path, alerts, groups, MINUTE, MINUTE, 40, rule_text)
    compared += count
    assert not problems, problems[:6000]
    # Days: the seed's 14d and 30d, with samples a day apart and an evaluation every 6 hours.
    alerts = _edge_config(DeploymentFailed={"missing_data": "resolve"})
    rule_text = rule_file(alerts.enabled(), annotations=False, missing_data=alerts.missing_data)
    groups = [_random_series(rng, EDGE_LEVELS, 45) for _ in range(6)]
    count, problems = _differential(tmp_path, alerts, groups, timedelta(days=1), timedelta(hours=6), 45 * 4,
                                    rule_text)
    compared += count
    assert not problems, problems[:6000]
    print(f"\n{compared} cases compared with promtool, 0 differences, {time.monotonic() - started:.1f} s")
    assert compared > 30_000


def test_exported_rules_file_matches_the_bot_in_promtool(tmp_path, monkeypatch):
    """`aurum alert-rules` (the seed's rules, as an operator loads them into Prometheus) on generated series."""
    from typer.testing import CliRunner

    from bot.cli import app

    monkeypatch.delenv("AURUM_CONFIG", raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'aurum.db'}")
    exported = CliRunner().invoke(app, ["alert-rules"])
    assert exported.exit_code == 0, exported.output
    assert "last_over_time(api_response_time_p95[15m]) > 300.0" in exported.output
    alerts = AlertsConfig()
    rng = random.Random(1515)
    groups = [_random_series(rng, EDGE_LEVELS, 40) for _ in range(25)]
    count, problems = _differential(tmp_path, alerts, groups, MINUTE, MINUTE, 40,
                                    _rules_without_annotations(exported.output))
    assert not problems, problems[:6000]
    print(f"\n{count} cases of the exported rules compared with promtool, 0 differences")
    assert count == 25 * 40 * len(alerts.enabled())
