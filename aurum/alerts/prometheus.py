"""The rules as a Prometheus rule file: `aurum alert-rules` prints it, and the tests hand it to `promtool`.

Each KPI is the metric of the same name, so `api_response_time_p95 > 300` means the same in both places. Prometheus
treats a value older than its lookback (5 minutes) as missing and then resolves: a rule matches it exactly when its
`max_age` is 5m and its `missing_data` is `resolve`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import yaml

from aurum.alerts.rules import AlertRule, format_duration, render
from aurum.kpis.formatting import number

PROMQL_OPS = {">": ">", ">=": ">=", "<": "<", "<=": "<=", "==": "==", "!=": "!="}


def promql(rule: AlertRule) -> str:
    subject = rule.kpi if rule.kpi else f"({rule.expr})"
    return f"{subject} {PROMQL_OPS[rule.op]} {rule.threshold!r}"


def _annotation(template: str, rule: AlertRule, runbook_base: str | None) -> str:
    """Fill in what Prometheus does not know ($threshold, $runbook_base); keep $value and $labels for it."""
    fixed = {"threshold": number(rule.threshold), "kpi": rule.kpi or rule.expr, "runbook_base": runbook_base or ""}
    keep = re.sub(r"{{\s*\$?(value|labels(?:\.\w+)?)\s*}}", lambda m: "\0" + m[1] + "\0", template)
    rendered = render(keep, fixed)
    return re.sub(r"\0(value|labels(?:\.\w+)?)\0", lambda m: "{{ $" + m[1] + " }}", rendered)


def rule_group(rules: Iterable[AlertRule], name: str = "aurum", interval: str = "1m",
               runbook_base: str | None = None, annotations: bool = True) -> dict[str, Any]:
    out = []
    for rule in rules:
        entry: dict[str, Any] = {"alert": rule.name, "expr": promql(rule)}
        if rule.for_:
            entry["for"] = format_duration(rule.for_)
        if rule.keep_firing_for:
            entry["keep_firing_for"] = format_duration(rule.keep_firing_for)
        entry["labels"] = {"severity": rule.severity, **rule.labels}
        notes = {k: _annotation(v, rule, runbook_base) for k, v in rule.annotations.items()}
        notes = {k: v for k, v in notes.items() if v}
        if notes and annotations:
            entry["annotations"] = notes
        out.append(entry)
    return {"groups": [{"name": name, "interval": interval, "rules": out}]}


def rule_file(rules: Iterable[AlertRule], **kwargs: Any) -> str:
    return yaml.safe_dump(rule_group(rules, **kwargs), sort_keys=False, allow_unicode=True)
