"""Prometheus exposition: each KPI's latest value as a gauge, and the bot's own request metrics."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from aurum.alerts import escalation
from aurum.core import outbox
from aurum.core.context import Context
from aurum.core.telemetry import COUNTERS, Telemetry
from aurum.squads import teams as squads
from storage import queue, snapshots
from storage.workspaces import all_team_ids

# The seed's collector names these two; every other KPI is exported as roadmap_<key>.
SEED_GAUGES = {
    "story_points_completed_per_sprint": "roadmap_sprint_velocity",
    "test_coverage_percentage": "roadmap_test_coverage",
}


DEFAULT_TEAM_LABEL = "default"  # the `team` label of a workspace without `teams:`


def gauge_name(kpi_key: str) -> str:
    return SEED_GAUGES.get(kpi_key, f"roadmap_{kpi_key}")


class KpiCollector(Collector):
    """Reads the latest snapshots at scrape time, so every web process exports the same numbers."""

    def __init__(self, ctx: Context):
        self.ctx = ctx

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Each KPI's latest value per workspace (`team_id`) and team of the workspace (`team`: its key of
        `teams:`, or "default" in a workspace without teams)."""
        teams = [(squad.stored, squad.key or DEFAULT_TEAM_LABEL) for squad in squads.all_squads(self.ctx.config)]
        with self.ctx.reading() as session:
            latest = {(workspace, label): snapshots.latest_per_kpi(session, workspace, stored)
                      for workspace in all_team_ids(session) for stored, label in teams}
            tallies = queue.tallies(session)
        for kpi in self.ctx.catalog:
            family = GaugeMetricFamily(gauge_name(kpi.key), f"{kpi.name} ({kpi.unit})", labels=["team_id", "team"])
            for (workspace, label), rows in latest.items():
                if kpi.key in rows:
                    family.add_metric([workspace, label], rows[kpi.key].value)
            yield family
        target = GaugeMetricFamily("aurum_kpi_target", "Target boundary of each KPI", labels=["kpi", "bound"])
        for kpi in self.ctx.catalog:
            if kpi.target is not None:
                if kpi.target.low is not None:
                    target.add_metric([kpi.key, "low"], kpi.target.low)
                if kpi.target.high is not None:
                    target.add_metric([kpi.key, "high"], kpi.target.high)
        yield target
        yield from queue_gauges(tallies)


def queue_gauges(tallies: dict[tuple[str, str], int]) -> Iterator[GaugeMetricFamily]:
    """The task queue by kind and status, and the two views of it that dashboards read since before the queues
    were one: Slack messages (the outbox) and alert escalations."""
    tasks = GaugeMetricFamily("aurum_queued_tasks", "Tasks of the durable queue by kind and status",
                              labels=["kind", "status"])
    for (kind, status), count in sorted(tallies.items()):
        tasks.add_metric([kind, status], count)
    yield tasks
    for name, help_text, kinds, statuses in (
            ("aurum_outbox_messages", "Outbox messages by status", outbox.KINDS,
             ("pending", "sending", "sent", "dead", "superseded", "cancelled")),
            ("aurum_alert_tasks", "Alert escalation tasks (PagerDuty, e-mail, chart) by status", escalation.KINDS,
             ("pending", "sending", "done", "dead", "cancelled"))):
        family = GaugeMetricFamily(name, help_text, labels=["status"])
        for status in statuses:
            family.add_metric([status], sum(tallies.get((kind, status), 0) for kind in kinds))
        yield family


class TelemetryCollector(Collector):
    """The counters that domain code keeps in ctx.telemetry, as aurum_<name>_total."""

    def __init__(self, telemetry: Telemetry):
        self.telemetry = telemetry

    def collect(self) -> Iterator[CounterMetricFamily]:
        values = self.telemetry.snapshot()
        for name, spec in COUNTERS.items():
            family = CounterMetricFamily(f"aurum_{name}", spec.help, labels=list(spec.labels))
            for labels, value in sorted(values[name].items()):
                family.add_metric(list(labels), value)
            yield family


class BotMetrics:
    def __init__(self, ctx: Context):
        self.registry = CollectorRegistry()
        self.requests = Counter("aurum_slack_requests", "Slack requests by kind and outcome",
                                ["kind", "name", "status"], registry=self.registry)
        self.ack_seconds = Histogram(
            "aurum_slack_ack_seconds", "Time to answer a Slack request (the ack)", ["kind"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 3, 5), registry=self.registry)
        self.registry.register(KpiCollector(ctx))
        self.registry.register(TelemetryCollector(ctx.telemetry))
