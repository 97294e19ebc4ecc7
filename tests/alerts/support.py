"""Helpers for the alert tests: a controllable clock, rule sets, and driving series through the real engine."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from aurum.alerts import evaluation
from aurum.alerts.prometheus import rule_group
from aurum.config import parse_config
from aurum.core import ingest
from aurum.core.context import Context
from storage import alerts as repo
from storage.rollups import SnapshotBase

PROMTOOL = shutil.which("promtool")


def _next_monday_morning() -> datetime:
    """09:30 UTC on a Monday after today: inside business hours, and later than the real time at which the
    outbox stamps new messages (so that they are due on the test clock)."""
    day = (datetime.now(UTC) + timedelta(days=1)).date()
    day += timedelta(days=(7 - day.weekday()) % 7)
    return datetime(day.year, day.month, day.day, 9, 30, tzinfo=UTC)


T0 = _next_monday_morning()


class Clock:
    def __init__(self, start: datetime = T0):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def set(self, at: datetime) -> datetime:
        self.now = at
        return at


def use_config(ctx: Context, data: dict[str, Any]) -> None:
    ctx.config = parse_config(data, "test config")


def prometheus_like(ctx: Context, **overrides: dict[str, Any]) -> None:
    """The seed's rules with Prometheus' view of missing data: a value older than 5 minutes is gone."""
    rules = {name: {"max_age": "5m", "missing_data": "resolve", **overrides.get(name, {})}
             for name in ctx.config.alerts.rules}
    use_config(ctx, {"alerts": {"rules": rules}})


@dataclass
class Timeline:
    states: dict[str, list[str]]  # rule → state at each minute


def run_series(ctx: Context, team_id: str, series: dict[str, list[float | None]], clock: Clock) -> Timeline:
    """Feed one sample a minute through ingest (the listener evaluates), then the minute's tick; read the states."""
    steps = max(len(v) for v in series.values())
    start = clock.now
    ctx.clock = clock
    rules = ctx.config.alerts.enabled()
    states: dict[str, list[str]] = {rule.name: [] for rule in rules}
    for i in range(steps):
        now = clock.set(start + timedelta(minutes=i))
        points = [SnapshotBase(kpi=kpi, value=values[i], at=now, source="test")
                  for kpi, values in series.items() if i < len(values) and values[i] is not None]
        with ctx.transaction() as session:
            if points:
                ingest.store(ctx, session, team_id, points)
            evaluation.evaluate(ctx, session, team_id, now)
        with ctx.reading() as session:
            found = repo.states(session, team_id)
        for rule in rules:
            row = found.get((rule.name, rule.fingerprint))
            states[rule.name].append(row.state if row else "inactive")
    return Timeline(states)


def expanding(values: list[float | None]) -> str:
    return " ".join("_" if v is None else repr(float(v)) for v in values)


def promtool_files(ctx: Context, series: dict[str, list[float | None]], timeline: Timeline) -> tuple[str, str]:
    """A rule file from our rules, and a promtool test asserting our timeline at every evaluation."""
    rules = ctx.config.alerts.enabled()
    group = rule_group(rules, annotations=False, missing_data=ctx.config.alerts.missing_data)
    rule_text = yaml.safe_dump(group, sort_keys=False)
    steps = max(len(v) for v in series.values())
    alert_tests, expr_tests = [], []
    for i in range(steps):
        samples = []
        for rule in rules:
            state = timeline.states[rule.name][i]
            labels = {"severity": rule.severity, **rule.labels}
            firing = [{"exp_labels": labels}] if state == "firing" else []
            alert_tests.append({"eval_time": f"{i}m", "alertname": rule.name, "exp_alerts": firing})
            if state != "inactive":
                all_labels = {"alertname": rule.name, "alertstate": state, **labels}
                text = ",".join(f'{k}="{v}"' for k, v in sorted(all_labels.items()))
                samples.append({"labels": f"ALERTS{{{text}}}", "value": 1})
        expr_tests.append({"expr": "ALERTS", "eval_time": f"{i}m", "exp_samples": samples})
    test = {"rule_files": ["rules.yml"], "evaluation_interval": "1m", "tests": [{
        "interval": "1m",
        "input_series": [{"series": kpi, "values": expanding(values)} for kpi, values in series.items()],
        "alert_rule_test": alert_tests,
        "promql_expr_test": expr_tests,
    }]}
    return rule_text, yaml.safe_dump(test, sort_keys=False)


def promtool_agrees(folder: Path, rule_text: str, test_text: str) -> tuple[bool, str]:
    assert PROMTOOL is not None
    (folder / "rules.yml").write_text(rule_text)
    (folder / "test.yml").write_text(test_text)
    done = subprocess.run([PROMTOOL, "test", "rules", "test.yml"], cwd=folder, capture_output=True, text=True,
                          timeout=60)
    return done.returncode == 0, done.stdout + done.stderr


TEAM = "T0001"  # the fake Slack's workspace
ALERT_CHANNELS = ("#critical-alerts", "#performance-alerts", "#quality-alerts", "#tech-debt", "#deployments")


def record(ctx: Context, kpi: str, value: float, team_id: str = TEAM) -> None:
    with ctx.transaction() as session:
        ingest.store(ctx, session, team_id, [SnapshotBase(kpi=kpi, value=value, at=ctx.now(), source="test")])


def tick(ctx: Context, team_id: str = TEAM) -> str:
    with ctx.transaction() as session:
        return evaluation.tick(ctx, session, team_id, "test")


def deliver(runtime) -> None:
    """Run the delivery workers until nothing is due on the test clock."""
    from aurum.core.outbox import OutboxWorker

    slack, side = OutboxWorker(runtime.ctx, runtime.delivery), runtime.alert_worker()
    for _ in range(3):
        slack.drain()
        side.drain()
    slack.drain()


def valid_blocks(blocks: list[dict]) -> None:
    from slack_sdk.models.blocks import Block

    assert len(blocks) <= 50
    for block in blocks:
        parsed = Block.parse(block)
        assert parsed is not None, block
        parsed.to_dict()
