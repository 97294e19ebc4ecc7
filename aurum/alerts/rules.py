"""Alert rules as data: the seed's rules (aurum/data/alerts.yml) merged with the team's `alerts:` config section.

A rule watches one KPI (`kpi:`) or an arithmetic expression over KPIs (`expr:`), compares it with a threshold
and, like a Prometheus alerting rule, fires once the condition has held for `for` and resolves once it has
stopped holding for `keep_firing_for`.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
import math
import operator
import re
from collections.abc import Callable, Mapping
from datetime import datetime, time, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from aurum.core import builtin_data

Op = Literal[">", ">=", "<", "<=", "==", "!="]
Severity = Literal["critical", "warning", "info"]
MissingData = Literal["keep_state", "resolve", "alert"]
Escalation = Literal["pagerduty", "email"]

COMPARE: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le, "==": operator.eq, "!=": operator.ne,
}
_DURATION = re.compile(r"(\d+)(ms|s|m|h|d|w)")
_UNITS = {"ms": timedelta(milliseconds=1), "s": timedelta(seconds=1), "m": timedelta(minutes=1),
          "h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_TEMPLATE = re.compile(r"{{\s*\$?([a-zA-Z_][\w.]*)\s*}}")


def parse_duration(value: Any) -> timedelta:
    """Prometheus-style durations: `30s`, `10m`, `4h`, `1d`, `1h30m`; `0` is zero. Plain numbers are seconds."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    text = str(value).strip()
    if text == "0":
        return timedelta(0)
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"duration {value!r} is not of the form 30s, 10m, 4h, 1d or 1h30m")
    return sum((int(n) * _UNITS[u] for n, u in parts), timedelta(0))


def format_duration(delta: timedelta) -> str:
    """The shortest Prometheus duration for a timedelta: 600 s → `10m`, 1.5 s → `1s500ms`."""
    millis = round(delta / timedelta(milliseconds=1))
    if millis == 0:
        return "0s"
    out = ""
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)):
        count, millis = divmod(millis, size)
        if count:
            out += f"{count}{unit}"
    return out


def divide(a: float, b: float) -> float:
    """PromQL's (Go's, IEEE 754) division: x/0 = ±Inf by the signs of x and of the zero, 0/0 and NaN/0 = NaN."""
    if b == 0:
        if a == 0 or math.isnan(a):
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)
    return a / b


def modulo(a: float, b: float) -> float:
    """PromQL's `%` (Go's math.Mod): the sign of the dividend; x%0, ±Inf%y and NaN operands give NaN; x%±Inf = x."""
    if b == 0 or math.isinf(a) or math.isnan(a) or math.isnan(b):
        return math.nan
    return math.fmod(a, b)


def promql_number(value: float) -> str:
    """A float as a PromQL literal: `300.0`, `1e-05`, `Inf`, `-Inf`, `NaN`."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Inf" if value > 0 else "-Inf"
    return repr(float(value))


class Expression:
    """`+ - * / %`, parentheses and numbers over KPI keys, compiled once; None when a KPI has no value.

    The arithmetic is PromQL's, IEEE 754 floats to the edge: x/0 = ±Inf, 0/0 = NaN, x%0 = NaN, Inf-Inf = NaN,
    and NaN goes on through every operator (a NaN value then fails every comparison but `!=`)."""

    _BINARY: dict[type, Callable[[float, float], float]] = {
        ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: divide, ast.Mod: modulo}
    _SYMBOL = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Mod: "%"}

    def __init__(self, text: str):
        try:
            tree = ast.parse(text.strip(), mode="eval")
        except SyntaxError:
            raise ValueError(f"expression {text!r} does not parse; use KPI keys, numbers, + - * / and ()") from None
        self.text = text.strip()
        self.names: set[str] = set()
        self._tree = tree.body
        self._fn = self._compile(tree.body)
        if not self.names:
            raise ValueError(f"expression {self.text!r} reads no KPI; name at least one KPI key")

    def _compile(self, node: ast.AST) -> Callable[[Mapping[str, float | None]], float | None]:
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
            number = float(node.value)
            return lambda _values: number
        if isinstance(node, ast.Name):
            name = node.id
            self.names.add(name)
            return lambda values: values.get(name)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            inner = self._compile(node.operand)
            sign = -1.0 if isinstance(node.op, ast.USub) else 1.0
            return lambda values: None if (v := inner(values)) is None else sign * v
        if isinstance(node, ast.BinOp) and type(node.op) in self._BINARY:
            left, right, apply = self._compile(node.left), self._compile(node.right), self._BINARY[type(node.op)]

            def binary(values: Mapping[str, float | None]) -> float | None:
                a, b = left(values), right(values)
                if a is None or b is None:
                    return None
                return apply(a, b)

            return binary
        raise ValueError(f"expression {self.text!r}: only KPI keys, numbers, + - * / % and () are allowed")

    def __call__(self, values: Mapping[str, float | None]) -> float | None:
        return self._fn(values)

    def promql(self, selector: Callable[[str], str]) -> str:
        """The expression in PromQL, each KPI key replaced by `selector(key)`, parenthesised as parsed."""

        def show(node: ast.AST) -> str:
            if isinstance(node, ast.Constant):
                return promql_number(float(node.value))  # type: ignore[arg-type]  # numbers only, as compiled
            if isinstance(node, ast.Name):
                return selector(node.id)
            if isinstance(node, ast.UnaryOp):
                return ("-" if isinstance(node.op, ast.USub) else "+") + f"({show(node.operand)})"
            assert isinstance(node, ast.BinOp)
            return f"({show(node.left)} {self._SYMBOL[type(node.op)]} {show(node.right)})"

        return show(self._tree)


class AlertRule(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)
    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=100)
    kpi: str | None = None
    expr: str | None = None
    op: Op
    threshold: float
    for_: timedelta = Field(default=timedelta(0), alias="for")
    keep_firing_for: timedelta = timedelta(0)
    severity: Severity = "warning"
    channels: list[str] = Field(min_length=1)
    escalation: list[Escalation] = []
    email_to: list[str] = []  # default: the config's engineering_leads
    business_hours_only: bool = False
    labels: dict[str, str] = {}
    annotations: dict[str, str] = {}
    missing_data: MissingData | None = None  # default: the config's missing_data
    max_age: timedelta = timedelta(minutes=5)  # older values count as missing (Prometheus' lookback)
    repeat_interval: timedelta | None = None  # default: the config's repeat_interval
    chart: bool = True
    enabled: bool = True

    @field_validator("for_", "keep_firing_for", "max_age", "repeat_interval", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        return None if value is None else parse_duration(value)

    @field_validator("labels")
    @classmethod
    def _label_names(cls, value: dict[str, str]) -> dict[str, str]:
        bad = [k for k in value if not re.match(r"^[a-zA-Z_][a-zA-Z0-9_]*$", k) or k in ("alertname", "alertstate")]
        if bad:
            raise ValueError(f"label names must be identifiers other than alertname/alertstate, got {bad}")
        return {k: str(v) for k, v in value.items()}

    @model_validator(mode="after")
    def _one_source(self) -> AlertRule:
        if (self.kpi is None) == (self.expr is None):
            raise ValueError("give exactly one of kpi (a KPI key) or expr (an expression over KPI keys)")
        if self.expr is not None:
            Expression(self.expr)
        return self

    @functools.cached_property
    def expression(self) -> Expression | None:
        return Expression(self.expr) if self.expr is not None else None

    @functools.cached_property
    def kpis(self) -> frozenset[str]:
        return frozenset({self.kpi} if self.kpi else self.expression.names)  # type: ignore[union-attr]

    @property
    def condition(self) -> str:
        return f"{self.kpi or self.expr} {self.op} {self.threshold:g}"

    def value(self, values: Mapping[str, float | None]) -> float | None:
        if self.kpi is not None:
            return values.get(self.kpi)
        return self.expression(values)  # type: ignore[misc]

    def holds(self, value: float) -> bool:
        """IEEE 754 comparison, as PromQL's: NaN compares false, except `!=` which holds; ±Inf compare as numbers."""
        return COMPARE[self.op](value, self.threshold)

    def judge(self, fresh: Mapping[str, float | None]) -> tuple[float | None, bool | None]:
        """The rule's value over fresh KPI values (see `fresh_values`) and whether its condition holds (None: no
        value, which the missing-data policy decides)."""
        value = self.value(fresh)
        return value, (None if value is None else self.holds(value))

    @property
    def all_labels(self) -> dict[str, str]:
        return {"alertname": self.name, "severity": self.severity, **self.labels}

    @functools.cached_property
    def fingerprint(self) -> str:
        return fingerprint(self.all_labels)


def fresh_values(latest: Mapping[str, tuple[datetime, float]], now: datetime,
                 max_age: timedelta) -> dict[str, float | None]:
    """Of each KPI's newest value at or before `now`, those no older than `max_age` (a value exactly `max_age` old
    counts): PromQL's `last_over_time(kpi[max_age])` on Prometheus 2, whose range includes its start."""
    return {kpi: value for kpi, (at, value) in latest.items() if now - at <= max_age}


def fingerprint(labels: Mapping[str, str]) -> str:
    return hashlib.sha256(json.dumps(dict(sorted(labels.items()))).encode()).hexdigest()[:16]


def render(template: str, variables: Mapping[str, Any]) -> str:
    """`{{ $value }}`, `{{ $threshold }}`, `{{ $labels.team }}` (Prometheus style; the `$` is optional).

    Unknown names render as an empty string; a template naming `runbook_base` renders empty when it is unset."""

    def lookup(match: re.Match[str]) -> str:
        found: Any = variables
        for part in match[1].split("."):
            found = found.get(part) if isinstance(found, Mapping) else None
        return "" if found is None else str(found)

    if "runbook_base" in template and not variables.get("runbook_base"):
        return ""
    return _TEMPLATE.sub(lookup, template)


class BusinessHours(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: time = time(9, 0)
    end: time = time(18, 0)
    days: list[int] = [0, 1, 2, 3, 4]  # Monday = 0; names such as mon, tue are accepted

    @field_validator("days", mode="before")
    @classmethod
    def _day_names(cls, value: Any) -> Any:
        if not isinstance(value, list):
            return value
        out = []
        for day in value:
            if isinstance(day, str) and day[:3].lower() in _DAYS:
                out.append(_DAYS.index(day[:3].lower()))
            else:
                out.append(day)
        return out

    @model_validator(mode="after")
    def _order(self) -> BusinessHours:
        if self.end <= self.start:
            raise ValueError("business hours must end after they start")
        if not self.days or any(d not in range(7) for d in self.days):
            raise ValueError("days are mon..sun (or 0..6, Monday = 0) and at least one")
        return self


def _builtin_rules() -> dict[str, dict[str, Any]]:
    return {rule["name"]: rule for rule in builtin_data.load("alerts.yml")["rules"]}


class AlertsConfig(BaseModel):
    """The `alerts:` section. `rules` maps a rule name to the fields to change (or a whole new rule)."""

    model_config = ConfigDict(extra="forbid")
    rules: dict[str, AlertRule] = {}
    business_hours: BusinessHours = Field(default_factory=BusinessHours)
    repeat_interval: timedelta = timedelta(hours=4)
    missing_data: MissingData = "resolve"
    engineering_leads: list[str] = []
    runbook_base_url: str | None = None
    alertmanager_channel: str = "critical_alerts"
    alertmanager_escalation: list[Escalation] = []

    @field_validator("repeat_interval", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        return parse_duration(value)

    @model_validator(mode="before")
    @classmethod
    def _merge_seed(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        overrides = data.get("rules") or {}
        if not isinstance(overrides, dict):
            raise ValueError("rules must be a mapping of rule name to fields, e.g. {ApiLatencyHigh: {threshold: 250}}")
        merged = _builtin_rules()
        for name, fields in overrides.items():
            if isinstance(fields, AlertRule):
                merged[name] = fields.model_dump(by_alias=True)
                continue
            if not isinstance(fields, dict):
                raise ValueError(f"rule {name}: expected a mapping of fields, got {fields!r}")
            base = merged.setdefault(name, {"name": name})
            for key, value in fields.items():
                if key in ("labels", "annotations") and isinstance(value, dict):
                    base[key] = {**base.get(key, {}), **value}
                else:
                    base[key] = value
            base["name"] = name
        return {**data, "rules": merged}

    def enabled(self) -> list[AlertRule]:
        return [rule for rule in self.rules.values() if rule.enabled]

    def missing_policy(self, rule: AlertRule) -> MissingData:
        return rule.missing_data or self.missing_data

    def repeat_every(self, rule: AlertRule | None) -> timedelta:
        return (rule.repeat_interval if rule and rule.repeat_interval else None) or self.repeat_interval

    def recipients(self, rule: AlertRule) -> list[str]:
        return rule.email_to or self.engineering_leads


def check_rules(config: AlertsConfig, kpi_keys: set[str], channel_names: set[str]) -> list[str]:
    """Problems that pydantic cannot see alone: unknown KPIs and channel names."""
    problems = []
    for rule in config.enabled():
        unknown = sorted(rule.kpis - kpi_keys)
        if unknown:
            problems.append(f"alerts.rules.{rule.name}: unknown KPI {', '.join(unknown)}")
        for channel in rule.channels:
            if not channel.startswith(("#", "C", "G")) and channel not in channel_names:
                problems.append(f"alerts.rules.{rule.name}: unknown channel {channel!r}; name one of the "
                                f"config's channels ({', '.join(sorted(channel_names))}) or write #name")
    return problems
