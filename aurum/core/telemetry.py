"""The bot's own counters, kept in memory by domain code and exported by bot/metrics.py on /metrics.

Domain code counts without knowing Prometheus: `ctx.telemetry.count("collector_errors", source="github")`.
Every counter is declared here once, with its help text and label names, so that /metrics shows it (at zero)
before the first event and a typo in a name fails loudly.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass(frozen=True)
class CounterSpec:
    name: str
    help: str
    labels: tuple[str, ...]


COUNTERS: dict[str, CounterSpec] = {spec.name: spec for spec in (
    CounterSpec("job_runs", "Scheduled job runs by job and result (ran, already_ran, failed)", ("job", "result")),
    CounterSpec("collector_errors", "Failed collector runs by source", ("source",)),
    CounterSpec("collector_runs", "Collector runs by source and result", ("source", "result")),
    CounterSpec("command_outcomes", "Slash commands and interactions by name and outcome (ok, input_error, "
                                    "refused, error)", ("command", "outcome")),
    CounterSpec("outbox_deliveries", "Outbox delivery attempts by kind and result (sent, superseded, retry, dead)",
                ("kind", "result")),
    CounterSpec("request_work", "Requests' work after the ack, queued durably in the ack, by kind and result "
                                "(done, retry, dead)", ("kind", "result")),
    CounterSpec("alert_tasks", "Alert escalation task attempts (pagerduty, email, chart) by kind and result "
                               "(done, retry, dead)", ("kind", "result")),
)}


@dataclass
class Telemetry:
    """Thread-safe counters: {(name, label values): value}."""

    _values: dict[tuple[str, tuple[str, ...]], float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, name: str, amount: float = 1.0, **labels: str) -> None:
        spec = COUNTERS.get(name)
        if spec is None:
            raise KeyError(f"unknown counter {name!r}; declare it in aurum.core.telemetry.COUNTERS")
        if set(labels) != set(spec.labels):
            raise ValueError(f"counter {name} takes labels {spec.labels}, got {tuple(labels)}")
        key = (name, tuple(str(labels[label]) for label in spec.labels))
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + amount

    def snapshot(self) -> dict[str, dict[tuple[str, ...], float]]:
        with self._lock:
            result: dict[str, dict[tuple[str, ...], float]] = {name: {} for name in COUNTERS}
            for (name, labels), value in self._values.items():
                result[name][labels] = value
        return result

    def totals(self) -> dict[tuple[str, tuple[str, ...]], float]:
        """Every counter's value by (name, label values): what another process adds with `merge`."""
        with self._lock:
            return dict(self._values)

    def merge(self, amounts: dict[tuple[str, tuple[str, ...]], float]) -> None:
        """Add counts made in another process (the work process's, reported to its web process)."""
        with self._lock:
            for (name, labels), amount in amounts.items():
                if name in COUNTERS and len(labels) == len(COUNTERS[name].labels):
                    self._values[(name, labels)] = self._values.get((name, labels), 0.0) + amount

    def value(self, name: str, **labels: str) -> float:
        spec = COUNTERS[name]
        return self.snapshot()[name].get(tuple(str(labels[label]) for label in spec.labels), 0.0)
