"""The rules as a Prometheus rule file: `aurum alert-rules` prints it, and the tests hand it to `promtool`.

Each KPI is the metric of the same name (its samples at the times they were recorded). The bot reads a KPI's newest
value no older than the rule's `max_age`, which is `last_over_time(kpi[max_age])` (not the bare selector, whose
lookback is Prometheus' 5 minutes and which a staleness marker ends at once), so
`api_response_time_p95 > 300` with `max_age: 15m` is `last_over_time(api_response_time_p95[15m]) > 300.0`.
The missing-data policies: `resolve` is Prometheus' own (no sample, no alert); `alert` adds
`or on() absent_over_time(…)`; `keep_state` of a rule without `for` and `keep_firing_for` keeps the alert's previous
firing state through the ALERTS series while a KPI has no fresh value. `keep_state` with `for` or `keep_firing_for`
has no PromQL equivalent: such a rule is exported as `resolve`, with a comment saying so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import yaml

from aurum.alerts.rules import AlertRule, MissingData, format_duration, promql_number, render
from aurum.kpis.formatting import number

PROMQL_OPS = {">": ">", ">=": ">=", "<": "<", "<=": "<=", "==": "==", "!=": "!="}


def _over_time(function: str, rule: AlertRule, kpi: str) -> str:
    return f"{function}({kpi}[{format_duration(rule.max_age)}])"


def exact(rule: AlertRule, missing: MissingData = "resolve") -> bool:
    """Whether Prometheus evaluates the exported rule exactly as the bot does (see the module's docstring)."""
    policy = rule.missing_data or missing
    return policy != "keep_state" or (not rule.for_ and not rule.keep_firing_for)


def promql(rule: AlertRule, missing: MissingData = "resolve") -> str:
    """The rule's condition in PromQL; `missing` is the config's default missing-data policy."""
    if rule.kpi is not None:
        subject = _over_time("last_over_time", rule, rule.kpi)
    else:
        subject = rule.expression.promql(lambda kpi: _over_time("last_over_time", rule, kpi))  # type: ignore[union-attr]
    condition = f"{subject} {PROMQL_OPS[rule.op]} {promql_number(rule.threshold)}"
    policy = rule.missing_data or missing
    kpis = sorted(rule.kpis)
    if policy == "alert":
        absent = " or on() ".join(_over_time("absent_over_time", rule, kpi) for kpi in kpis)
        return f"{condition} or on() ({absent})"
    if policy == "keep_state" and exact(rule, missing):
        present = " and on() ".join(_over_time("present_over_time", rule, kpi) for kpi in kpis)
        was_firing = f'max(ALERTS{{alertname="{rule.name}",alertstate="firing"}})'
        return f"{condition} or on() ({was_firing} unless on() ({present}))"
    return condition


def _annotation(template: str, rule: AlertRule, runbook_base: str | None) -> str:
    """Fill in what Prometheus does not know ($threshold, $runbook_base); keep $value and $labels for it."""
    fixed = {"threshold": number(rule.threshold), "kpi": rule.kpi or rule.expr, "runbook_base": runbook_base or ""}
    keep = re.sub(r"{{\s*\$?(value|labels(?:\.\w+)?)\s*}}", lambda m: "\0" + m[1] + "\0", template)
    rendered = render(keep, fixed)
    return re.sub(r"\0(value|labels(?:\.\w+)?)\0", lambda m: "{{ $" + m[1] + " }}", rendered)


def rule_group(rules: Iterable[AlertRule], name: str = "aurum", interval: str = "1m",
               runbook_base: str | None = None, annotations: bool = True,
               missing_data: MissingData = "resolve") -> dict[str, Any]:
    out = []
    for rule in rules:
        entry: dict[str, Any] = {"alert": rule.name, "expr": promql(rule, missing_data)}
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
    rules = list(rules)
    missing = kwargs.get("missing_data", "resolve")
    notes = "".join(f"# {rule.name}: missing_data keep_state with for/keep_firing_for has no PromQL equivalent; "
                    "exported as resolve (Prometheus resolves where the bot keeps the state)\n"
                    for rule in rules if not exact(rule, missing))
    return notes + yaml.safe_dump(rule_group(rules, **kwargs), sort_keys=False, allow_unicode=True, width=10_000)
