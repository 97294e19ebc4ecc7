"""The clock process: APScheduler 3 fires the jobs; the claims in aurum.core.jobs make each run happen once."""

from __future__ import annotations

import logging
import signal
import threading

from apscheduler.schedulers.background import BackgroundScheduler
from prometheus_client import start_http_server

from aurum.core.jobs import JobRunner
from bot.metrics import BotMetrics
from bot.runtime import Runtime, start_registration

log = logging.getLogger(__name__)
CATCH_UP_MINUTES = 5


def build_scheduler(runner: JobRunner) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone=runner.ctx.tz)
    for job in runner.jobs.values():
        scheduler.add_job(
            runner.fire, trigger=runner.trigger(job), args=[job.name], id=job.name, name=job.description,
            replace_existing=True, coalesce=True, max_instances=1,
            misfire_grace_time=int(runner.grace.total_seconds()),
        )
    # A safety net: every few minutes, run anything still due within the grace window (a failed run, a
    # missed fire after a suspend). Claims make this a no-op when everything already ran.
    scheduler.add_job(runner.due, "interval", minutes=CATCH_UP_MINUTES, id="catch-up", name="Catch up on due jobs",
                      replace_existing=True, coalesce=True, max_instances=1)
    # The jobs a workspace scheduled otherwise in Slack, at its own times (the timetable above is the config file's).
    scheduler.add_job(runner.own_schedules, "interval", minutes=1, id="own-schedules",
                      name="Jobs at the times a workspace chose", replace_existing=True, coalesce=True,
                      max_instances=1, misfire_grace_time=60)
    return scheduler


def serve_metrics(runtime: Runtime, port: int) -> None:
    """The clock's own /metrics (job runs by job and result, outbox deliveries), on a port of its own."""
    start_http_server(port, addr="127.0.0.1", registry=BotMetrics(runtime.ctx).registry)
    log.info("clock metrics served", extra={"port": port})


def run_clock(runtime: Runtime, stop: threading.Event | None = None, metrics_port: int | None = None) -> None:
    """Catch up on runs missed within the grace window, then fire on schedule until SIGTERM/SIGINT."""
    stop = stop or runtime.stop
    if threading.current_thread() is threading.main_thread():
        # Before the catch-up: a SIGTERM while it runs (several jobs may be due) still stops the clock cleanly.
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    if metrics_port:
        serve_metrics(runtime, metrics_port)
    start_registration(runtime)
    runner = JobRunner(runtime.ctx)
    for outcome in runner.due():
        log.info("catch-up", extra={"job": outcome.job, "period": outcome.period, "result": outcome.result})
    scheduler = build_scheduler(runner)
    runtime.start_workers(outbox_threads=1)
    scheduler.start()
    for job in scheduler.get_jobs():
        log.info("scheduled", extra={"job": job.id, "next_run": str(job.next_run_time)})
    stop.wait()
    log.info("clock stopping")
    scheduler.shutdown(wait=True)
    runtime.shutdown()
