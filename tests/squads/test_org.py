"""The organisation's KPI values from the teams' stored values, by each KPI's roll-up rule, against hand
computations."""

from __future__ import annotations

import pytest

from aurum.config import parse_config
from aurum.kpis import service as kpis
from aurum.squads import org, teams

VALUES = {  # team → KPI → value
    "payments": {"deployments_per_week": 4, "api_response_time_p95": 120, "test_coverage_percentage": 80,
                 "api_error_rate_percentage": 0.5, "requests_per_second": 900},
    "platform": {"deployments_per_week": 2, "api_response_time_p95": 300, "test_coverage_percentage": 60,
                 "api_error_rate_percentage": 2.0, "requests_per_second": 100},
    "search": {"deployments_per_week": 1, "test_coverage_percentage": 70},  # no latency, no traffic
}


def test_the_organisations_values_combine_the_teams_by_each_kpis_rule(ctx):
    ctx.config = parse_config({"teams": {key: {"members": {"channel": f"#{key}"}} for key in VALUES}})
    with ctx.transaction() as session:
        for key, values in VALUES.items():
            team = teams.scope(ctx, teams.by_key(ctx.config, key))
            for kpi, value in values.items():
                kpis.record(team, session, "T1", team.catalog.get(kpi), value)
    with ctx.reading() as session:
        found = {key: status.latest.value for key, status in org.statuses(ctx, session, "T1").items()
                 if status.latest is not None}
    assert found["deployments_per_week"] == 4 + 2 + 1  # sum
    assert found["api_response_time_p95"] == 300  # worst: the slowest team's
    assert found["test_coverage_percentage"] == pytest.approx((80 + 60 + 70) / 3)  # mean
    assert found["api_error_rate_percentage"] == pytest.approx((0.5 * 900 + 2.0 * 100) / 1000)  # weighted by rps
    assert found["requests_per_second"] == 1000


def test_a_workspace_without_teams_has_its_own_values(ctx):
    with ctx.transaction() as session:
        kpis.record(ctx, session, "T1", ctx.catalog.get("api_response_time_p95"), 240)
    with ctx.reading() as session:
        assert org.statuses(ctx, session, "T1")["api_response_time_p95"].latest.value == 240
