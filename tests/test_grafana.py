"""The importable Grafana dashboard queries only metrics the bot exports on /metrics."""

from __future__ import annotations

import json
import re
from pathlib import Path

from bot.metrics import BotMetrics

DASHBOARD = Path(__file__).resolve().parents[1] / "grafana" / "aurum-dashboard.json"
PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset", "and", "or",
                "unless", "inf", "nan"}
IDENTIFIER = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")


def metric_names(expr: str) -> set[str]:
    """Metric names in a PromQL expression: identifiers outside label matchers that are not functions or keywords."""
    bare = re.sub(r"\{[^}]*\}", "", expr)
    bare = re.sub(r"\[[^\]]*\]", "", bare)
    bare = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", "", bare)
    found = set()
    for match in IDENTIFIER.finditer(bare):
        rest = bare[match.end():].lstrip()
        if rest.startswith("(") or match.group().lower() in PROMQL_WORDS:
            continue
        found.add(match.group())
    return found


def queries(dashboard: dict) -> list[str]:
    exprs = []
    for panel in dashboard["panels"]:
        for inner in [panel, *panel.get("panels", [])]:
            exprs += [t["expr"] for t in inner.get("targets", [])]
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            query = variable["query"]["query"] if isinstance(variable["query"], dict) else variable["query"]
            exprs += re.findall(r"label_values\(([^,)]+)", query)
    return exprs


def test_every_panel_query_names_an_exported_metric(ctx):
    exported = {family.name for family in BotMetrics(ctx).registry.collect()}
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    exprs = queries(dashboard)
    assert len(exprs) >= 20
    for expr in exprs:
        names = metric_names(expr)
        assert names, expr
        assert names <= exported, f"{expr}: {names - exported} not on /metrics"
    assert {"roadmap_sprint_velocity", "roadmap_test_coverage", "aurum_kpi_target"} <= set().union(
        *(metric_names(e) for e in exprs))


def test_dashboard_mirrors_the_seed_panels_and_refreshes_every_minute():
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    rows = [p["title"] for p in dashboard["panels"] if p["type"] == "row"]
    assert rows[:3] == ["API performance", "System health", "Quality gates"]
    assert dashboard["refresh"] == "1m"
    assert dashboard["__inputs"][0]["pluginId"] == "prometheus"


def test_the_metric_name_parser_can_fail():
    assert metric_names('rate(http_requests_total{code=~"5.."}[5m]) / sum by (le) (up)') == {
        "http_requests_total", "up"}
    assert metric_names('aurum_kpi_target{kpi="x",bound="high"}') == {"aurum_kpi_target"}
