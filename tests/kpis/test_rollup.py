"""The organisation's value of a KPI from its teams' values, by each roll-up rule, against hand computations."""

from __future__ import annotations

import pytest

from aurum.kpis.catalog import CatalogError, load_catalog
from aurum.kpis.rollup import combine

CATALOG = load_catalog()
VALUES = {"payments": 120.0, "platform": 80.0, "search": 40.0}


def test_counts_add_up():
    deploys = CATALOG.get("deployments_per_week")
    assert deploys.rollup_rule == "sum"
    assert combine(deploys, VALUES) == 240.0  # 120 + 80 + 40


def test_a_latency_is_the_worst_teams_and_a_coverage_the_teams_mean():
    latency, coverage = CATALOG.get("api_response_time_p95"), CATALOG.get("test_coverage_percentage")
    assert (latency.rollup_rule, coverage.rollup_rule) == ("worst", "mean")
    assert combine(latency, VALUES) == 120.0  # lower is better: the highest is the worst
    assert combine(coverage, VALUES) == 80.0  # (120 + 80 + 40) / 3
    uptime = load_catalog({"test_coverage_percentage": {"rollup": "worst"}}).get("test_coverage_percentage")
    assert combine(uptime, VALUES) == 40.0  # higher is better: the lowest is the worst


def test_the_error_rate_is_weighed_by_each_teams_traffic():
    errors = CATALOG.get("api_error_rate_percentage")
    assert (errors.rollup_rule, errors.rollup_weight) == ("weighted", "requests_per_second")
    rates = {"payments": 0.5, "platform": 2.0}
    traffic = {"payments": 900.0, "platform": 100.0}
    assert combine(errors, rates, traffic) == pytest.approx((0.5 * 900 + 2.0 * 100) / 1000)  # 0.65
    assert combine(errors, rates, {"payments": 900.0}) == pytest.approx(1.25)  # a team without traffic: the mean


def test_no_team_value_gives_no_organisation_value():
    assert combine(CATALOG.get("deployments_per_week"), {}) is None


@pytest.mark.parametrize(("fields", "expected"), [
    ({"rollup": "weighted"}, "rollup: weighted needs rollup_weight"),
    ({"rollup": "median"}, "rollup"),
    ({"rollup": "weighted", "rollup_weight": "trafic"}, "rollup_weight: no KPI 'trafic'"),
])
def test_a_rollup_rule_that_cannot_work_is_refused(fields, expected):
    with pytest.raises(CatalogError) as error:
        load_catalog({"test_coverage_percentage": fields})
    assert expected in str(error.value)
