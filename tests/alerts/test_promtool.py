"""The engine's timeline (pending, firing, resolved at each evaluation) equals Prometheus' own, per `promtool`."""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.alerts.support import PROMTOOL, Clock, prometheus_like, promtool_agrees, promtool_files, run_series

pytestmark = pytest.mark.skipif(PROMTOOL is None, reason="promtool is not installed (Debian package prometheus)")

STEPS = 36
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
