"""The loop of the task queue's worker (aurum.core.queue) and of any other poller: rounds of `run_once` until stopped.

A subclass says how one round goes (`run_once` → how many rows it handled), how it idles between empty rounds
(`wait`), and, for `drain`, whether anything is still due (`idle`).
"""

from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)


class PollingWorker:
    """Claims and handles due rows in rounds; safe to run in several threads and processes at once."""

    name = "worker"  # names the worker in the log line of a failed round
    drain_rounds = 100

    def run_once(self) -> int:
        raise NotImplementedError

    def idle(self) -> bool:
        """Nothing due right now (asked by `drain` after a round that handled nothing)."""
        return True

    def wait(self, stop: threading.Event, seconds: float) -> None:
        stop.wait(seconds)

    def drain(self, rounds: int | None = None) -> None:
        """Handle rows until nothing is due now (used by the console, the CLI and tests)."""
        for _ in range(rounds or self.drain_rounds):
            if not self.run_once() and self.idle():
                return

    def run_forever(self, stop: threading.Event, poll_seconds: float = 0.5) -> None:
        while not stop.is_set():
            try:
                busy = self.run_once()
            except Exception:  # the worker must outlive a database hiccup
                log.exception("%s round failed", self.name)
                busy = 0
            if not busy:
                self.wait(stop, poll_seconds)
