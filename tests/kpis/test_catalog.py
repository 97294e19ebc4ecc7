"""The catalogue holds the seed's numbers, and team overrides are validated."""

from __future__ import annotations

import pytest

from aurum.kpis.catalog import CatalogError, Target, load_catalog, load_catalog_file

# (alias, metric key, target, baseline, phase targets, stretch) as the seed document states them.
SEED = [
    ("velocity", "story_points_completed_per_sprint", Target(op="range", low=40, high=60), 35, {}, 65),
    ("features", "features_delivered_per_quarter", Target(op="range", low=12, high=15), 8, {}, None),
    ("deploys", "deployments_per_week", Target(op="range", low=3, high=5), 2, {}, 5),
    ("coverage", "test_coverage_percentage", Target(op=">", low=80), 78, {1: 82}, 85),
    ("debt", "technical_debt_percentage", Target(op="<", high=10), 15, {}, 8),
    ("latency", "api_response_time_p95", Target(op="<", high=200), 350, {1: 250}, 150),
    ("uptime", "service_availability_percentage", Target(op=">=", low=99.9), 99.5, {}, 99.95),
    ("mttr", "incident_recovery_time_minutes", Target(op="<", high=30), 45, {2: 30}, 15),
    ("errors", "api_error_rate_percentage", Target(op="<", high=0.1), 0.3, {}, 0.05),
    ("build", "ci_build_time_minutes", Target(op="<", high=10), 15, {1: 12}, 8),
    ("onboarding", "new_developer_productivity_days", Target(op="<=", high=3), 5, {}, 1),
    ("docs", "api_documentation_coverage_percentage", Target(op=">=", low=100), 75, {1: 90}, 100),
]


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


@pytest.mark.parametrize(("alias", "key", "target", "baseline", "phases", "stretch"), SEED)
def test_seed_kpi_numbers(catalog, alias, key, target, baseline, phases, stretch):
    kpi = catalog.resolve(alias)
    assert kpi is not None and kpi.key == key
    assert kpi.target == target
    assert kpi.baseline == baseline
    assert kpi.phase_targets == phases
    assert kpi.stretch == stretch


def test_goals_where_the_seed_names_a_current_target(catalog):
    assert catalog.get("story_points_completed_per_sprint").goal == 50
    assert catalog.get("deployments_per_week").goal == 4
    assert catalog.get("features_delivered_per_quarter").goal == 12
    assert catalog.get("api_response_time_p95").goal == 200


def test_directions(catalog):
    lower = {"debt", "latency", "mttr", "errors", "build", "onboarding"}
    for alias, *_ in SEED:
        assert catalog.resolve(alias).direction == ("lower" if alias in lower else "higher"), alias


def test_team_and_phase_metrics_are_tagged(catalog):
    for alias in ("reviews", "ci_success", "p99", "rps", "cpu", "memory", "disk", "network"):
        assert catalog.resolve(alias) is not None, alias
    assert catalog.resolve("p99").target == Target(op="<", high=500)
    for phase in (1, 2, 3, 4):
        metrics = catalog.phase_metrics(phase)
        assert metrics, phase
        assert all(m.phase == phase or m.phase_targets.get(phase) for m in metrics)
    assert catalog.resolve("monolith").baseline == 2000
    assert catalog.resolve("forecast_accuracy").target == Target(op=">", low=85)
    assert catalog.resolve("users").target == Target(op=">", low=1000)


@pytest.mark.parametrize(("text", "value", "met"), [
    ("40-60", 39, False), ("40-60", 40, True), ("40-60", 61, False),
    ("<200", 200, False), ("<200", 199.9, True), ("<=3", 3, True), (">80", 80, False), (">=99.9", 99.9, True),
])
def test_target_parsing_and_meeting(text, value, met):
    assert Target.parse(text).met(value) is met


def test_suggestions_for_typos(catalog):
    assert catalog.suggest("lantency")[0] == "latency"
    assert catalog.resolve("LATENCY").key == "api_response_time_p95"


def test_override_changes_a_target_and_adds_a_kpi(tmp_path):
    path = tmp_path / "team.yml"
    path.write_text("kpis:\n  api_response_time_p95:\n    target: '<180'\n"
                    "  storybook_coverage:\n    name: Storybook coverage\n    category: quality\n"
                    "    unit: percent\n    direction: higher\n    target: '>70'\n")
    catalog = load_catalog_file(path)
    assert catalog.resolve("latency").target == Target(op="<", high=180)
    assert catalog.resolve("storybook_coverage").name == "Storybook coverage"


@pytest.mark.parametrize(("yaml_text", "expected"), [
    ("kpis:\n  api_response_time_p95:\n    target: fast\n", "kpis.api_response_time_p95.target: target 'fast'"),
    ("kpis:\n  api_response_time_p95:\n    unit: furlongs\n", "kpis.api_response_time_p95.unit: Input should be"),
    ("kpis:\n  new_thing:\n    name: New\n", "kpis.new_thing: unknown KPI 'new_thing'"),
    ("kpis:\n  api_response_time_p95: 12\n", "kpis.api_response_time_p95: expected a mapping"),
])
def test_bad_override_names_file_kpi_and_field(tmp_path, yaml_text, expected):
    path = tmp_path / "team.yml"
    path.write_text(yaml_text)
    with pytest.raises(CatalogError) as raised:
        load_catalog_file(path)
    assert str(path) in str(raised.value)
    assert expected in str(raised.value)
