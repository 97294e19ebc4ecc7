"""What a KPI can hold: the ranges per unit, their overrides, the one check (catalog.check_value), the service
function that records a value by hand, and the last guard in aurum.core.ingest."""

from __future__ import annotations

import math
import typing
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings

from aurum.core import ingest
from aurum.core.errors import ImpossibleValue, InputError
from aurum.kpis import service as kpis
from aurum.kpis.catalog import UNIT_RANGES, CatalogError, Unit, check_value, load_catalog, range_text
from storage.rollups import SnapshotBase
from tests.kpis.ranges import CATALOG, HTTP, KPIS, entries, possible

TEAM = "T0001"
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
# The ranges the README documents, per unit.
DOCUMENTED = {
    "percent": (0, 100), "score": (0, 10),
    **{unit: (0, None) for unit in ("points", "features", "per_week", "ms", "minutes", "days", "hours", "seconds",
                                    "count", "lines", "rps", "mb_per_s", "gb", "gb_per_hour", "percent_per_hour")},
}
# KPIs whose unit says too little, with their own range in the catalogue.
OWN = {
    "team_satisfaction_velocity": (1, 10), "priority_clarity": (1, 10),
    "stakeholder_needs_rating": (1, 5), "stakeholder_quality_rating": (1, 5),
    "deployment_failures": (0, 1), "budget_utilization_percentage": (0, None),
    "technical_debt_percentage": (0, None), "per_tenant_performance_variance_percentage": (0, None),
}


def stored(ctx, key: str) -> list[float]:
    with ctx.reading() as session:
        return [value for _at, value in kpis.series_since(session, TEAM, key, EPOCH)]


def test_every_unit_has_its_documented_range():
    assert set(UNIT_RANGES) == set(typing.get_args(Unit)) == set(DOCUMENTED)
    assert UNIT_RANGES == DOCUMENTED


def test_catalogue_kpis_hold_their_units_range_unless_they_set_their_own():
    for kpi in CATALOG:
        assert kpi.allowed == OWN.get(kpi.key, DOCUMENTED[kpi.unit]), kpi.key
    # every number the catalogue gives a KPI is one it can hold
    for kpi in CATALOG:
        for number in (kpi.baseline, kpi.goal, kpi.stretch, *kpi.phase_targets.values()):
            assert number is None or check_value(kpi, number) is None, kpi.key


def test_the_refusal_names_the_kpi_the_value_the_range_and_the_fix():
    coverage, latency = CATALOG.resolve("coverage"), CATALOG.resolve("latency")
    assert check_value(coverage, 182) == (
        "Code coverage (`test_coverage_percentage`) cannot be 182; allowed: 0 to 100 (percent). Check the number "
        "(and its unit); if test_coverage_percentage really goes beyond that, set its range in the config file "
        "(`kpis: {test_coverage_percentage: {range: [low, high]}}`, null for no bound)")
    assert "cannot be -5; allowed: 0 or more (ms)" in check_value(latency, -5)
    assert range_text(CATALOG.get("stakeholder_needs_rating")) == "1 to 5 (score)"
    for kpi in CATALOG:
        low, high = kpi.allowed
        assert check_value(kpi, low) is None and (high is None or check_value(kpi, high) is None)
        assert check_value(kpi, math.nextafter(low, -math.inf)) is not None
        assert high is None or check_value(kpi, math.nextafter(high, math.inf)) is not None
        assert all(check_value(kpi, v) is not None for v in (math.nan, math.inf, -math.inf))


@settings(max_examples=300, derandomize=True)
@given(entries())
def test_check_value_accepts_exactly_the_range(entry):
    kpi, value, good = entry
    assert (check_value(kpi, value) is None) == good == possible(kpi, value)


def test_the_config_file_overrides_a_range(tmp_path):
    path = tmp_path / "team.yml"
    wide = load_catalog({"coverage_of_x": {"name": "X", "category": "quality", "unit": "percent",
                                           "direction": "higher", "range": [0, 200]},
                         "api_response_time_p95": {"range": [-10, None]}}, origin=str(path))
    assert check_value(wide.get("coverage_of_x"), 182) is None
    assert check_value(wide.get("api_response_time_p95"), -5) is None
    assert check_value(wide.get("api_response_time_p95"), -11) is not None
    bounded = load_catalog({"budget_utilization_percentage": {"range": [0, 100]}})
    assert check_value(bounded.get("budget_utilization_percentage"), 110) is not None


@pytest.mark.parametrize(("fields", "message"), [
    ({"range": [100, 0]}, "kpis.test_coverage_percentage.range: range [100, 0]: the low end comes first"),
    ({"range": ["lots", 1]}, "kpis.test_coverage_percentage.range.0: Input should be a valid number"),
    ({"range": [0, 1, 2]}, "kpis.test_coverage_percentage.range: Tuple should have at most 2 items"),
    ({"range": [0, "inf"]}, "kpis.test_coverage_percentage.range: range ends are finite numbers"),
    ({"range": [0, 50]}, "kpis.test_coverage_percentage: baseline 78 is outside the KPI's range "
                         "0 to 50 (percent)"),
])
def test_a_bad_range_override_is_refused_with_the_file_kpi_and_field(fields, message):
    with pytest.raises(CatalogError) as caught:
        load_catalog({"test_coverage_percentage": fields}, origin="team.yml")
    assert f"team.yml: {message}" in str(caught.value)


@settings(max_examples=60, derandomize=True, suppress_health_check=HTTP.suppress_health_check, deadline=None)
@given(entry=entries())
def test_service_record_stores_a_possible_value_once_and_refuses_the_rest(ctx, entry):
    kpi, value, good = entry
    before = stored(ctx, kpi.key)
    if good:
        with ctx.transaction() as session:
            kpis.record(ctx, session, TEAM, kpi, value)
        assert stored(ctx, kpi.key) == [*before, value]
    else:
        with pytest.raises(InputError, match=rf"\(`{kpi.key}`\) cannot be .*; allowed: .* Nothing was stored\."), \
                ctx.transaction() as session:
            kpis.record(ctx, session, TEAM, kpi, value)
        assert stored(ctx, kpi.key) == before


def test_service_record_at_every_kpis_bounds(ctx):
    for kpi in KPIS:
        low, high = kpi.allowed
        for value in (low, high) if high is not None else (low,):
            with ctx.transaction() as session:
                kpis.record(ctx, session, TEAM, kpi, value)
        for value in (low - 1, *((high + 1,) if high is not None else ())):
            with pytest.raises(InputError), ctx.transaction() as session:
                kpis.record(ctx, session, TEAM, kpi, value)
        assert len(stored(ctx, kpi.key)) == (2 if high is not None else 1), kpi.key


def test_non_finite_values_stay_no_data_as_before(ctx):
    coverage = ctx.catalog.resolve("coverage")
    for text in ("nan", "inf", "-inf"):
        with pytest.raises(InputError, match="is not a finite number"):
            kpis.parse_value(text)
        with pytest.raises(InputError, match="is not a finite number"), ctx.transaction() as session:
            kpis.record(ctx, session, TEAM, coverage, float(text))
    assert stored(ctx, coverage.key) == []


def test_ingest_refuses_a_whole_batch_with_one_impossible_value_before_any_listener(ctx):
    heard = []
    ctx.snapshot_listeners.append(lambda *args: heard.append(args))
    now = ctx.now()
    batch = [SnapshotBase(kpi="test_coverage_percentage", value=81, at=now, source="x"),
             SnapshotBase(kpi="api_response_time_p95", value=-5, at=now, source="x"),
             SnapshotBase(kpi="service_availability_percentage", value=150, at=now, source="x")]
    with pytest.raises(ImpossibleValue) as caught, ctx.transaction() as session:
        ingest.store(ctx, session, TEAM, batch)
    assert "cannot be -5" in str(caught.value) and "cannot be 150" in str(caught.value)
    assert heard == [] and all(stored(ctx, p.kpi) == [] for p in batch)
    with ctx.transaction() as session:
        assert ingest.store(ctx, session, TEAM, batch[:1]) == 1
    assert len(heard) == 1 and stored(ctx, "test_coverage_percentage") == [81]


def test_demo_history_stays_in_range():
    from aurum import demo

    points = demo.history(CATALOG, datetime(2026, 11, 27, tzinfo=UTC))
    assert {p.kpi for p in points} == {k.key for k in KPIS}
    assert [p for p in points if not possible(CATALOG.get(p.kpi), p.value)] == []
