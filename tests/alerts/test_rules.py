"""Rules as data: the seed's rules, config overrides and their errors, expressions, templates, business hours."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from aurum.alerts.notify import in_business_hours, next_business_start
from aurum.alerts.prometheus import promql, rule_file
from aurum.alerts.rules import BusinessHours, Expression, format_duration, parse_duration, render
from aurum.config import AurumConfig, ConfigError, parse_config
from bot.compose import build_context
from bot.settings import SettingsError
from tests.alerts.support import PROMTOOL


def test_the_seed_rules_are_the_defaults():
    rules = AurumConfig().alerts.rules
    assert {name: (r.kpi, r.op, r.threshold, r.for_, r.severity, tuple(r.channels), tuple(r.escalation),
                   r.business_hours_only) for name, r in rules.items()} == {
        "ApiErrorRateHigh": ("api_error_rate_percentage", ">", 1, timedelta(0), "critical", ("critical_alerts",),
                             ("pagerduty",), False),
        "ServiceAvailabilityLow": ("service_availability_percentage", "<", 99, timedelta(0), "critical",
                                   ("critical_alerts",), ("pagerduty",), False),
        "DeploymentFailed": ("deployment_failures", ">", 0, timedelta(0), "critical", ("deployments",), ("email",),
                             False),
        "ApiLatencyHigh": ("api_response_time_p95", ">", 300, timedelta(minutes=10), "warning",
                           ("performance_alerts",), (), True),
        "TestCoverageLow": ("test_coverage_percentage", "<", 80, timedelta(0), "warning", ("quality_alerts",), (),
                            True),
        "TechnicalDebtHigh": ("technical_debt_percentage", ">", 12, timedelta(0), "warning", ("tech_debt",), (),
                              True),
    }


def test_config_overrides_a_field_adds_a_rule_and_disables_one():
    config = parse_config({"alerts": {"rules": {
        "ApiLatencyHigh": {"threshold": 250, "labels": {"team": "api"}},
        "TechnicalDebtHigh": {"enabled": False},
        "ErrorBudgetBurn": {"expr": "(100 - service_availability_percentage) / 0.1", "op": ">", "threshold": 14.4,
                            "for": "5m", "severity": "critical", "channels": ["#sre"]},
    }, "repeat_interval": "2h", "business_hours": {"start": "08:00", "end": "17:30", "days": ["mon", "tue"]}}})
    rules = config.alerts.rules
    assert rules["ApiLatencyHigh"].threshold == 250 and rules["ApiLatencyHigh"].for_ == timedelta(minutes=10)
    assert rules["ApiLatencyHigh"].labels == {"team": "api"}
    assert "TechnicalDebtHigh" not in {r.name for r in config.alerts.enabled()}
    burn = rules["ErrorBudgetBurn"]
    assert burn.kpis == {"service_availability_percentage"}
    assert burn.value({"service_availability_percentage": 99.0}) == pytest.approx(10.0)
    assert burn.value({}) is None
    assert config.alerts.repeat_interval == timedelta(hours=2) and config.alerts.business_hours.days == [0, 1]


@pytest.mark.parametrize(("rules", "message"), [
    ({"ApiLatencyHigh": {"for": "ten minutes"}},
     "team.yml: alerts.rules.ApiLatencyHigh.for: duration 'ten minutes' is not of the form"),
    ({"ApiLatencyHigh": {"op": "=>"}}, "team.yml: alerts.rules.ApiLatencyHigh.op: Input should be"),
    ({"New": {"op": ">", "threshold": 1, "channels": ["#x"]}},
     "alerts.rules.New: give exactly one of kpi (a KPI key) or expr"),
    ({"New": {"expr": "__import__('os')", "op": ">", "threshold": 1, "channels": ["#x"]}},
     "only KPI keys, numbers, + - * / % and () are allowed"),
    ({"ApiLatencyHigh": {"colour": "red"}},
     "alerts.rules.ApiLatencyHigh.colour: unknown key 'colour'. Valid keys: annotations, "),
])
def test_bad_rules_are_refused_naming_the_file_and_field(rules, message):
    with pytest.raises(ConfigError) as error:
        parse_config({"alerts": {"rules": rules}}, "team.yml")
    assert message in str(error.value)


def test_rules_as_a_list_are_refused_with_the_form_to_use():
    with pytest.raises(ConfigError, match="rules must be a mapping of rule name to fields"):
        parse_config({"alerts": {"rules": [{"name": "X"}]}}, "team.yml")


def test_unknown_kpi_or_channel_stops_the_bot_with_the_rule_named(settings, tmp_path):
    path = tmp_path / "team.yml"
    path.write_text("alerts:\n  rules:\n    ApiLatencyHigh: {kpi: latency_p95}\n"
                    "    TestCoverageLow: {channels: [qa_alerts]}\n")
    settings.aurum_config = path
    with pytest.raises(SettingsError) as error:
        build_context(settings)
    text = str(error.value)
    assert f"{path}: alerts.rules.ApiLatencyHigh: unknown KPI latency_p95" in text
    assert "alerts.rules.TestCoverageLow: unknown channel 'qa_alerts'" in text


@pytest.mark.parametrize(("text", "delta"), [("0", timedelta(0)), ("30s", timedelta(seconds=30)),
                                              ("10m", timedelta(minutes=10)), ("1h30m", timedelta(minutes=90)),
                                              ("1d", timedelta(days=1)), (90, timedelta(seconds=90))])
def test_durations(text, delta):
    assert parse_duration(text) == delta
    assert parse_duration(format_duration(delta)) == delta


def test_expression_division_by_zero_is_infinite_as_in_promql():
    assert Expression("a / b")({"a": 1.0, "b": 0.0}) == float("inf")
    assert Expression("a / b")({"a": 1.0, "b": None}) is None  # no value: missing data
    assert Expression("-a + 2 * (b - 1)")({"a": 1.0, "b": 3.0}) == 3.0


def test_templates():
    variables = {"value": "1.8", "threshold": "1", "labels": {"team": "api"}, "runbook_base": ""}
    assert render("{{ $value }}% > {{threshold}}% on {{ $labels.team }}", variables) == "1.8% > 1% on api"
    assert render("{{ $runbook_base }}/x", variables) == ""
    assert render("{{ $runbook_base }}/x", {**variables, "runbook_base": "https://rb"}) == "https://rb/x"


def test_business_hours_and_the_next_business_morning():
    berlin = ZoneInfo("Europe/Berlin")
    hours = BusinessHours()
    friday_evening = datetime(2026, 12, 4, 18, 30, tzinfo=berlin)
    assert not in_business_hours(friday_evening, berlin, hours)
    assert next_business_start(friday_evening, berlin, hours) == datetime(2026, 12, 7, 9, 0, tzinfo=berlin)
    tuesday_ten = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)  # 10:00 in Berlin
    assert in_business_hours(tuesday_ten, berlin, hours)
    assert next_business_start(tuesday_ten, berlin, hours) == tuesday_ten


def test_export_as_prometheus_rules():
    rules = AurumConfig().alerts.rules
    assert promql(rules["ApiLatencyHigh"]) == "last_over_time(api_response_time_p95[15m]) > 300.0"
    text = rule_file(AurumConfig().alerts.enabled(), runbook_base="https://runbooks.example.com")
    assert "summary: API error rate is {{ $value }}%, above 1%" in text
    assert "runbook: https://runbooks.example.com/api-error-rate" in text


@pytest.mark.skipif(PROMTOOL is None, reason="promtool is not installed (Debian package prometheus)")
def test_promtool_accepts_the_exported_rules(tmp_path):
    path = tmp_path / "rules.yml"
    path.write_text(rule_file(AurumConfig().alerts.enabled()))
    done = subprocess.run([PROMTOOL, "check", "rules", str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 6 rules found" in done.stdout


def test_a_summary_without_data_says_what_is_missing_not_a_unit_after_no_data():
    from aurum.alerts.evaluation import annotations_of

    rule = AurumConfig().alerts.rules["ApiLatencyHigh"]
    assert annotations_of(rule, 285.0, None)["summary"] == "API p95 latency is 285 ms, above 300 ms for 10 minutes"
    summary = annotations_of(rule, None, None)["summary"]
    assert summary == "No data for api_response_time_p95: the condition (threshold 300) cannot be checked"
