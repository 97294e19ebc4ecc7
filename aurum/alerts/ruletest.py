"""`aurum alerts test FILE`: unit tests of alert rules in `promtool test rules`' shape, run by the bot's own engine.

The series are replayed on a simulated clock through the same code as the bot's evaluation (`fresh_values`,
`AlertRule.judge`, `engine.step`), with no database and no Slack. What applies of promtool's format:

    rule_files: [aurum.yml]        # optional: the bot's config files (their `alerts:` section), relative to the test
    evaluation_interval: 1m        # default 1m
    tests:
      - name: latency              # optional
        interval: 1m               # between input samples; default: evaluation_interval
        input_series:
          - series: api_response_time_p95          # the KPI key (labels, if any, are ignored)
            values: "100 350x12 _x3 stale 0+10x5"
        alert_rule_test:
          - eval_time: 10m
            alertname: ApiLatencyHigh
            exp_alerts:                            # the alerts firing then; [] or absent: none
              - exp_labels: {severity: warning}    # alertname is implied
                exp_annotations: {summary: "…"}    # compared in full, as promtool does (empty ones dropped)

Series notation (promtool's): `a` one sample; `axn` n+1 samples of a; `a+bxn` / `a-bxn` n+1 samples from a by
steps of b; `_` no sample, `_xn` n of them; `stale` a staleness marker, which the bot reads as no sample (it has
no series that end; a KPI's value simply ages past `max_age`); numbers may be `Inf`, `-Inf`, `NaN`, `1e3`.
`promql_expr_test` cases are not run (the bot has no PromQL): they are counted as skipped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aurum.alerts import engine
from aurum.alerts.evaluation import annotations_of
from aurum.alerts.rules import AlertRule, AlertsConfig, MissingData, format_duration, fresh_values, parse_duration


class RuleTestError(ValueError):
    """The test file cannot be read as a rule test."""


class _Stale:
    def __repr__(self) -> str:
        return "stale"


STALE: Any = _Stale()
Sample = float | None  # None: no sample (`_`); STALE: a staleness marker

_NUMBER = r"(?:[0-9]+\.?[0-9]*(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?|inf(?:inity)?|nan)"
_BLANK = re.compile(r"_(?:x(\d+))?")
_ITEM = re.compile(rf"(?P<first>[+-]?{_NUMBER}|stale)(?:(?P<step>[+-]{_NUMBER})?x(?P<times>\d+))?", re.IGNORECASE)
_SERIES = re.compile(r"\s*([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*(?:\{(.*)\})?\s*")
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(?:,|$)')


def _number(text: str) -> float:
    return float(text)  # Python reads inf, infinity, nan in any case, as Go's ParseFloat does


def parse_values(text: str) -> list[Any]:
    """promtool's series notation, expanded: floats, None for `_`, STALE for `stale`.

    `1+2x3` → 1 3 5 7 (the step added each time, as promtool does, so float rounding matches), `5x2` → 5 5 5,
    `_x3` → three gaps, `stalex1` → two markers."""
    out: list[Any] = []
    for item in str(text).split():
        blank = _BLANK.fullmatch(item)
        if blank:
            out.extend([None] * (int(blank[1]) if blank[1] else 1))
            continue
        match = _ITEM.fullmatch(item)
        if match is None:
            raise RuleTestError(f"series value {item!r} is not promtool's notation (a, axn, a+bxn, a-bxn, _, _xn, "
                                "stale; histograms are not supported)")
        if match["first"].lower() == "stale":
            if match["step"]:
                raise RuleTestError(f"series value {item!r}: a staleness marker cannot be incremented")
            out.extend([STALE] * (int(match["times"]) + 1 if match["times"] else 1))
            continue
        value = _number(match["first"])
        if match["times"] is None:
            out.append(value)
            continue
        step = _number(match["step"]) if match["step"] else 0.0
        for _ in range(int(match["times"]) + 1):
            out.append(value)
            value += step
    return out


def series_kpi(text: str) -> str:
    """The KPI a series names: `api_response_time_p95`, `api_response_time_p95{team_id="T1"}` or
    `{__name__="api_response_time_p95"}`."""
    match = _SERIES.fullmatch(str(text))
    if match is None:
        raise RuleTestError(f"series {text!r} is not of the form name or name{{label=\"value\", …}}")
    name, labels = match[1], {}
    if match[2] is not None and match[2].strip():
        rest = match[2]
        while rest.strip():
            label = _LABEL.match(rest)
            if label is None:
                raise RuleTestError(f"series {text!r}: labels are written label=\"value\", separated by commas")
            labels[label[1]] = label[2]
            rest = rest[label.end():]
    name = name or labels.get("__name__")
    if not name:
        raise RuleTestError(f"series {text!r} has no metric name: name it after the KPI key")
    return name


@dataclass(frozen=True)
class Alert:
    labels: tuple[tuple[str, str], ...]
    annotations: tuple[tuple[str, str], ...]

    def __str__(self) -> str:
        labels = ", ".join(f'{k}="{v}"' for k, v in self.labels)
        notes = "".join(f'\n          {k}: "{v}"' for k, v in self.annotations)
        return "{" + labels + "}" + notes


def _alert(labels: Mapping[str, str], annotations: Mapping[str, str]) -> Alert:
    return Alert(tuple(sorted(labels.items())), tuple(sorted((k, v) for k, v in annotations.items() if v)))


@dataclass
class Case:
    group: str
    alertname: str
    eval_time: timedelta
    expected: list[Alert]
    got: list[Alert] | None = None
    problem: str = ""

    @property
    def passed(self) -> bool:
        return not self.problem and self.got is not None and sorted(self.got, key=str) == sorted(self.expected,
                                                                                                  key=str)

    def describe(self) -> str:
        head = f"  {'ok  ' if self.passed else 'FAIL'} {self.alertname} at {_at(self.eval_time)}"
        if self.passed:
            return head
        if self.problem:
            return f"{head}\n      {self.problem}"

        def listing(alerts: Sequence[Alert]) -> str:
            return "".join(f"\n        {a}" for a in alerts) if alerts else " nothing firing"

        return f"{head}\n      expected:{listing(self.expected)}\n      got:{listing(self.got or [])}"


@dataclass
class Report:
    cases: list[Case] = field(default_factory=list)
    skipped: int = 0

    @property
    def failed(self) -> list[Case]:
        return [case for case in self.cases if not case.passed]

    def text(self) -> str:
        lines, group = [], None
        for case in self.cases:
            if case.group != group:
                group = case.group
                lines.append(group)
            lines.append(case.describe())
        tail = f"{len(self.cases)} cases, {len(self.cases) - len(self.failed)} passed, {len(self.failed)} failed"
        if self.skipped:
            tail += f", {self.skipped} promql_expr_test cases skipped (the bot evaluates no PromQL)"
        return "\n".join([*lines, tail])


def _at(delta: timedelta) -> str:
    return format_duration(delta)


def _duration(value: Any, where: str) -> timedelta:
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise RuleTestError(f"{where}: {exc}") from None


START = datetime(2026, 1, 5, tzinfo=UTC)  # any instant: the replay's time 0


def replay(rules: Sequence[AlertRule], series: Mapping[str, Sequence[Any]], interval: timedelta,
           evaluation_interval: timedelta, until: timedelta, missing: MissingData = "resolve",
           start: datetime = START) -> list[dict[str, engine.State]]:
    """Each rule's state after each evaluation at 0, evaluation_interval, … ≤ until, the samples of each KPI being
    at 0, interval, 2·interval … (gaps and staleness markers: no sample), as the bot evaluates them."""
    samples = {kpi: [(start + i * interval, v) for i, v in enumerate(values) if v is not None and v is not STALE]
               for kpi, values in series.items()}
    return replay_samples(rules, samples, evaluation_interval, int(until / evaluation_interval), missing, start)


def replay_samples(rules: Sequence[AlertRule], samples: Mapping[str, Sequence[tuple[datetime, float]]],
                   evaluation_interval: timedelta, steps: int, missing: MissingData = "resolve",
                   start: datetime = START) -> list[dict[str, engine.State]]:
    """Each rule's state after each evaluation at start, start + evaluation_interval, … (steps + 1 of them), over
    each KPI's samples (time order), as the bot evaluates them."""
    positions = dict.fromkeys(samples, -1)
    latest: dict[str, tuple[datetime, float]] = {}
    states = {rule.name: engine.INACTIVE for rule in rules}
    out: list[dict[str, engine.State]] = []
    for n in range(steps + 1):
        now = start + n * evaluation_interval
        for kpi, points in samples.items():
            while positions[kpi] + 1 < len(points) and points[positions[kpi] + 1][0] <= now:
                positions[kpi] += 1
                latest[kpi] = points[positions[kpi]]
        fresh_by_age: dict[timedelta, dict[str, float | None]] = {}
        for rule in rules:
            fresh = fresh_by_age.get(rule.max_age)
            if fresh is None:
                fresh = fresh_by_age[rule.max_age] = fresh_values(latest, now, rule.max_age)
            value, holds = rule.judge(fresh)
            states[rule.name] = engine.step(states[rule.name], holds, value, now, rule.for_, rule.keep_firing_for,
                                            rule.missing_data or missing).state
        out.append(dict(states))
    return out


def firings(states: Sequence[Mapping[str, engine.State]], rule: str) -> int:
    """How many times the rule started firing in a replay's states."""
    was = False
    count = 0
    for step in states:
        now = step[rule].state == "firing"
        count += now and not was
        was = now
    return count


def firing(rule: AlertRule, state: engine.State, runbook_base_url: str | None) -> list[Alert]:
    if state.state != "firing":
        return []
    return [_alert(rule.all_labels, annotations_of(rule, None if state.no_data else state.value, runbook_base_url))]


def run(document: Any, alerts: AlertsConfig) -> Report:
    """Run a parsed test file against the rules of `alerts`."""
    if not isinstance(document, dict) or not isinstance(document.get("tests"), list):
        raise RuleTestError("the file must hold a mapping with a `tests:` list, as promtool's test files do")
    evaluation_interval = _duration(document.get("evaluation_interval", "1m"), "evaluation_interval")
    if evaluation_interval <= timedelta(0):
        raise RuleTestError("evaluation_interval must be positive")
    rules = {rule.name: rule for rule in alerts.enabled()}
    report = Report()
    for index, group in enumerate(document["tests"]):
        label = f"tests[{index}]" + (f" {group['name']!r}" if isinstance(group, dict) and group.get("name") else "")
        if not isinstance(group, dict):
            raise RuleTestError(f"{label}: expected a mapping")
        interval = _duration(group.get("interval", evaluation_interval), f"{label}.interval")
        if interval <= timedelta(0):
            raise RuleTestError(f"{label}.interval must be positive")
        series: dict[str, list[Any]] = {}
        for entry in group.get("input_series") or []:
            if not isinstance(entry, dict) or "series" not in entry:
                raise RuleTestError(f"{label}.input_series: each entry needs `series` and `values`")
            kpi = series_kpi(entry["series"])
            if kpi in series:
                raise RuleTestError(f"{label}: KPI {kpi} is given twice (the bot keeps one series per KPI)")
            try:
                series[kpi] = parse_values(entry.get("values", ""))
            except RuleTestError as exc:
                raise RuleTestError(f"{label}, series {entry['series']}: {exc}") from None
        report.skipped += len(group.get("promql_expr_test") or [])
        cases = []
        for test in group.get("alert_rule_test") or []:
            if not isinstance(test, dict) or "alertname" not in test or "eval_time" not in test:
                raise RuleTestError(f"{label}.alert_rule_test: each case needs eval_time and alertname")
            name = str(test["alertname"])
            expected = [_alert({**{str(k): str(v) for k, v in (exp.get("exp_labels") or {}).items()},
                                "alertname": name},
                               {str(k): str(v) for k, v in (exp.get("exp_annotations") or {}).items()})
                        for exp in test.get("exp_alerts") or []]
            case = Case(label, name, _duration(test["eval_time"], f"{label}.eval_time"), expected)
            if name not in rules:
                case.problem = f"no enabled rule is named {name} (rules: {', '.join(sorted(rules))})"
            cases.append(case)
        if cases:
            until = max(case.eval_time for case in cases)
            timeline = replay(list(rules.values()), series, interval, evaluation_interval, until,
                              alerts.missing_data)
            for case in cases:
                if case.problem:
                    continue
                states = timeline[int(case.eval_time / evaluation_interval)]
                case.got = firing(rules[case.alertname], states[case.alertname], alerts.runbook_base_url)
        report.cases.extend(cases)
    return report


def expected_alerts(rule: AlertRule, state: engine.State) -> list[dict[str, Any]]:
    """A state as promtool's `exp_alerts` (labels only; alertname implied)."""
    if state.state != "firing":
        return []
    return [{"exp_labels": {k: v for k, v in rule.all_labels.items() if k != "alertname"}}]
