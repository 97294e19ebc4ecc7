"""Every scheduled job of the bot, composed from each capability's own `jobs()`; built once per process by the
composition root and handed to the domain as `ctx.jobs`."""

from __future__ import annotations

from aurum.alerts import jobs as alerts
from aurum.collectors import jobs as collectors
from aurum.config import AurumConfig
from aurum.core import heartbeat
from aurum.core.jobs import Job
from aurum.forecast import jobs as forecast
from aurum.reports import jobs as reports
from aurum.surveys import jobs as surveys


def compose_jobs(config: AurumConfig) -> dict[str, Job]:
    found = [*heartbeat.jobs(), *collectors.jobs(config.sources), *forecast.jobs(), *alerts.jobs(), *surveys.jobs(),
             *reports.jobs()]
    return {job.name: job for job in found}
