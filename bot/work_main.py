"""The work process's own side (`python -m bot.work_main`, started by bot/work_process.py): run the queue's workers
(the requests' work after the ack, the deliveries), woken by its web process's commits; report counters back."""

from __future__ import annotations

import logging
import os
import pickle
import signal
import sys
import threading
from typing import IO, Any

from aurum.core.telemetry import Telemetry
from bot.compose import build_work
from bot.logs import configure
from bot.memory import limit_malloc_arenas
from bot.runtime import start_registration
from bot.settings import Settings

log = logging.getLogger(__name__)
NICE = 10  # how much lower our CPU priority is than the web process's: acks first when both want a core
REPORT_EVERY = 1.0  # seconds between counter reports


def _report_counts(telemetry: Telemetry, reports: IO[bytes], stop: threading.Event) -> None:
    """In the child: send the counters' increase since the last report, every second and once at the end."""
    sent: dict = {}
    while True:
        stopping = stop.wait(REPORT_EVERY)
        now = telemetry.totals()
        delta = {key: value - sent.get(key, 0.0) for key, value in now.items() if value != sent.get(key, 0.0)}
        if delta:
            try:
                pickle.dump(delta, reports)
                reports.flush()
            except (BrokenPipeError, OSError):
                return
            sent = now
        if stopping:
            return


def serve_queue(reports_fd: int, source: IO[bytes] = sys.stdin.buffer) -> None:
    """The child's main loop: wake the workers when told, until the parent closes our input."""
    # Ctrl-C and a platform's SIGTERM reach the whole process group: the web process decides when we stop, by
    # closing our input once its own requests are answered; we then finish the work we were given.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    limit_malloc_arenas()
    os.nice(NICE)
    settings: Settings = pickle.load(source)
    configure(level=settings.log_level, secrets=settings.secret_values())
    runtime = build_work(settings)
    reports = os.fdopen(reports_fd, "wb")
    stop_reports = threading.Event()
    reporter = threading.Thread(target=_report_counts, args=(runtime.ctx.telemetry, reports, stop_reports),
                                name="aurum-work-counts", daemon=True)
    reporter.start()
    start_registration(runtime)
    runtime.start_workers()
    while True:
        try:
            frame: tuple[Any, ...] = pickle.load(source)
        except EOFError:
            break
        if frame[0] == "wake":
            runtime.ctx.outbox_wake.set()
    runtime.shutdown()
    stop_reports.set()
    reporter.join()
    reports.close()


if __name__ == "__main__":
    serve_queue(int(sys.argv[1]))
