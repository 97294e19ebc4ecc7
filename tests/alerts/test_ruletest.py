"""`aurum alerts test`: promtool's series notation, the runner's verdicts, the command and the seed's own test file;
and the PromQL edge semantics of the rule engine and of the exported rules."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from aurum.alerts.prometheus import promql, rule_file
from aurum.alerts.rules import AlertRule, AlertsConfig, Expression, divide, format_duration, modulo, promql_number
from aurum.alerts.ruletest import STALE, RuleTestError, parse_values, run, series_kpi
from aurum.core import builtin_data
from bot.cli import app

SEED_TEST = Path(builtin_data.__file__).resolve().parents[1] / "data" / "alerts_test.yml"


@pytest.mark.parametrize(("text", "expected"), [
    ("1 2 3", [1.0, 2.0, 3.0]),
    ("-2+4x3", [-2.0, 2.0, 6.0, 10.0]),
    ("1-2x4", [1.0, -1.0, -3.0, -5.0, -7.0]),
    ("1x4", [1.0] * 5),
    ("1 _x3 stale", [1.0, None, None, None, STALE]),
    ("_ _x0 stalex1", [None, STALE, STALE]),
    ("Inf -Inf +inf 1e3 .5 2.", [math.inf, -math.inf, math.inf, 1000.0, 0.5, 2.0]),
    ("1.5e1+-1x1", None),  # not promtool's notation
    ("", []),
])
def test_series_notation(text, expected):
    if expected is None:
        with pytest.raises(RuleTestError):
            parse_values(text)
        return
    assert parse_values(text) == expected


def test_series_notation_adds_the_step_like_promtool_and_reads_nan():
    assert parse_values("0.1+0.1x2") == [0.1, 0.2, 0.1 + 0.1 + 0.1]  # accumulated, not a + i·b
    (nan,) = parse_values("NaN")
    assert math.isnan(nan)
    with pytest.raises(RuleTestError, match="staleness marker"):
        parse_values("stale+1x2")
    with pytest.raises(RuleTestError, match="histograms"):
        parse_values("{{schema:0 sum:1 count:1}}")


def test_series_names():
    assert series_kpi("api_response_time_p95") == "api_response_time_p95"
    assert series_kpi('api_response_time_p95{team_id="T1", env="prod"}') == "api_response_time_p95"
    assert series_kpi('{__name__="test_coverage_percentage"}') == "test_coverage_percentage"
    with pytest.raises(RuleTestError):
        series_kpi('{team_id="T1"}')


def test_ieee_division_modulo_and_comparisons():
    assert divide(50, 0) == math.inf and divide(-50, 0) == -math.inf and divide(50, -0.0) == -math.inf
    assert math.isnan(divide(0, 0)) and math.isnan(divide(math.nan, 0))
    assert math.isnan(modulo(5, 0)) and math.isnan(modulo(math.inf, 3)) and modulo(5, math.inf) == 5
    assert modulo(-7, 3) == -1  # the dividend's sign, as Go's math.Mod
    ratio = Expression("a / b")
    assert ratio({"a": 50, "b": 0}) == math.inf and ratio({"a": 1, "b": None}) is None
    assert math.isnan(Expression("(a - a) / b")({"a": 3, "b": 0}))
    rule = AlertRule(name="R", expr="a / b", op=">", threshold=1, channels=["#x"])
    assert rule.judge({"a": 50, "b": 0}) == (math.inf, True)  # fires, as Prometheus does on 50/0
    value, holds = rule.judge({"a": 0, "b": 0})
    assert math.isnan(value) and holds is False
    assert AlertRule(name="R", expr="a / b", op="!=", threshold=1, channels=["#x"]).judge({"a": 0, "b": 0})[1]
    with pytest.raises(ValueError, match="reads no KPI"):
        Expression("1 / 0")


def test_export_reads_each_kpi_within_its_max_age():
    config = AlertsConfig.model_validate({"missing_data": "resolve", "rules": {
        "Ratio": {"expr": "(100 - a) / b % 2", "op": ">=", "threshold": math.inf, "channels": ["#x"],
                  "max_age": "1h30m"},
        "Missing": {"kpi": "a", "op": "<", "threshold": 1, "channels": ["#x"], "missing_data": "alert",
                    "max_age": "90s"},
        "Kept": {"kpi": "a", "op": "<", "threshold": 1, "channels": ["#x"], "missing_data": "keep_state",
                 "for": "5m"}}})
    rules = config.rules
    assert promql(rules["Ratio"]) == "(((100.0 - last_over_time(a[1h30m])) / last_over_time(b[1h30m])) % 2.0) >= Inf"
    assert promql(rules["Missing"]) == "last_over_time(a[1m30s]) < 1.0 or on() (absent_over_time(a[1m30s]))"
    assert promql(rules["DeploymentFailed"]) == (
        'last_over_time(deployment_failures[30d]) > 0.0 or on() (max(ALERTS{alertname="DeploymentFailed",'
        'alertstate="firing"}) unless on() (present_over_time(deployment_failures[30d])))')
    text = rule_file(config.enabled(), missing_data="resolve")
    assert text.startswith("# Kept: missing_data keep_state with for/keep_firing_for has no PromQL equivalent")
    assert "last_over_time(api_response_time_p95[15m]) > 300.0" in text
    assert yaml.safe_load(text)["groups"][0]["interval"] == "1m"
    assert [promql_number(v) for v in (math.nan, -math.inf, 1e-05)] == ["NaN", "-Inf", "1e-05"]
    assert format_duration(parse := AlertRule(name="R", kpi="a", op=">", threshold=1, channels=["#x"],
                                              max_age="1500ms").max_age) == "1s500ms", parse


def _document(values: str, exp_alerts: list) -> dict:
    return {"tests": [{"name": "one", "interval": "1m",
                       "input_series": [{"series": "api_error_rate_percentage", "values": values}],
                       "alert_rule_test": [{"eval_time": "2m", "alertname": "ApiErrorRateHigh",
                                            "exp_alerts": exp_alerts}]}]}


def test_the_runner_shows_expected_against_got():
    passed = run(_document("0.5 2 2", [{"exp_labels": {"severity": "critical"}, "exp_annotations": {
        "summary": "API error rate is 2%, above 1%"}}]), AlertsConfig())
    assert not passed.failed and passed.text().endswith("1 cases, 1 passed, 0 failed")
    failed = run(_document("0.5 2 2", []), AlertsConfig())
    assert failed.failed
    assert ('FAIL ApiErrorRateHigh at 2m\n      expected: nothing firing\n      got:\n'
            '        {alertname="ApiErrorRateHigh", severity="critical"}\n'
            '          summary: "API error rate is 2%, above 1%"') in failed.text()
    stale = run(_document("2 stale", []), AlertsConfig())  # a marker is no sample: the 0m value is still fresh
    assert stale.failed
    unknown = run({"tests": [{"alert_rule_test": [{"eval_time": "1m", "alertname": "Nope"}]}]}, AlertsConfig())
    assert "no enabled rule is named Nope" in unknown.text()


def test_seed_rules_pass_their_own_test_file(monkeypatch):
    monkeypatch.delenv("AURUM_CONFIG", raising=False)
    result = CliRunner().invoke(app, ["alerts", "test", str(SEED_TEST)])
    assert result.exit_code == 0, result.output
    assert result.output.rstrip().endswith("27 cases, 27 passed, 0 failed")
    rules = {case["alertname"] for group in yaml.safe_load(SEED_TEST.read_text())["tests"]
             for case in group["alert_rule_test"]}
    assert rules == set(AlertsConfig().rules)


def test_the_command_fails_on_a_failing_case_and_reads_the_bot_config(tmp_path, monkeypatch):
    monkeypatch.delenv("AURUM_CONFIG", raising=False)
    (tmp_path / "aurum.yml").write_text("alerts:\n  rules:\n    ApiErrorRateHigh: {threshold: 5}\n")
    document = {"rule_files": ["aurum.yml"], **_document("0.5 2 2", [{"exp_labels": {"severity": "critical"}}])}
    (tmp_path / "t.yml").write_text(yaml.safe_dump(document))
    result = CliRunner().invoke(app, ["alerts", "test", str(tmp_path / "t.yml")])
    assert result.exit_code == 1 and "got: nothing firing" in result.output  # 2 is not above the config's 5
    (tmp_path / "prom.yml").write_text("groups: []\n")
    (tmp_path / "t.yml").write_text(yaml.safe_dump({**document, "rule_files": ["prom.yml"]}))
    result = CliRunner().invoke(app, ["alerts", "test", str(tmp_path / "t.yml")])
    assert result.exit_code == 2 and "a Prometheus rule file" in result.output
    assert CliRunner().invoke(app, ["alert-rules", "--help"]).exit_code == 0  # the old command stays


def test_a_rule_dividing_by_a_kpi_at_zero_fires_through_the_database(ctx):
    from storage import alerts as repo
    from tests.alerts.support import TEAM, Clock, record, tick, use_config

    ctx.clock = Clock()
    use_config(ctx, {"alerts": {"rules": {"Burn": {
        "expr": "api_error_rate_percentage / deployment_failures", "op": ">", "threshold": 10,
        "channels": ["#critical-alerts"], "annotations": {"summary": "ratio {{ $value }}"}}}}})
    record(ctx, "api_error_rate_percentage", 50.0)
    record(ctx, "deployment_failures", 0.0)
    tick(ctx)
    with ctx.reading() as session:
        (episode,) = [e for e in repo.history(session, TEAM) if e.rule == "Burn"]
    assert episode.status == "firing" and episode.value == math.inf and episode.summary == "ratio inf"
