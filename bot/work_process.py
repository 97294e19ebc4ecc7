"""The work process: the work after the ack and the deliveries, apart from the process that answers Slack.

`aurum serve` starts one beside each web process. The web process verifies a request, runs its ack function —
which stores the request's work in the task queue (aurum.core.after_ack) — and answers; the work process does the
queued work and the deliveries. The queries, charts and Web API calls therefore use the other core instead of
taking turns with the acks for one interpreter lock, and run at a lower CPU priority than the acks.

The two talk over pipes: wake-ups (a commit that queued something) go down the child's stdin as pickled frames,
so that the work starts at once rather than at the child's next poll; its counters (commands by outcome, outbox
deliveries, …) come back every second, so the web process's /metrics shows them. When the web process goes, the
child reads the end of its stdin, finishes the tasks it is doing and exits. When the child dies, the web process
starts another, which finds everything the dead one had not finished in the queue.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import queue
import subprocess
import sys
import threading
import time
from typing import IO

from aurum.core.telemetry import Telemetry
from bot.settings import Settings

log = logging.getLogger(__name__)
RESTART_PAUSE = 1.0  # seconds before a child that died is started again
DEATH_WAIT = 10.0  # seconds a child whose counters ended is given to exit before it is killed
BATCH = 256  # most frames sent in one write


class WakeWorkProcess(threading.Event):
    """`ctx.outbox_wake` of a web process with a work process: a commit here (the push API storing a snapshot that
    fires an alert) wakes the outbox workers over there."""

    def __init__(self, work: WorkProcess):
        super().__init__()
        self.work = work

    def set(self) -> None:
        super().set()
        self.work.wake()


class WorkProcess:
    """The parent's end: starts the child, feeds it requests from one writer thread, restarts it when it dies."""

    def __init__(self, settings: Settings, telemetry: Telemetry):
        self.settings = settings
        self.telemetry = telemetry
        self.frames: queue.SimpleQueue[tuple | None] = queue.SimpleQueue()
        self.child: subprocess.Popen | None = None
        self.starts = 0
        self._wake_queued = threading.Event()
        self._ended: subprocess.Popen | None = None  # the child whose counters ended: it died
        self._stopping = threading.Event()
        self._writer: threading.Thread | None = None

    def start(self) -> None:
        self._spawn()
        self._writer = threading.Thread(target=self._write_frames, name="aurum-work-feed", daemon=True)
        self._writer.start()

    def wake(self) -> None:
        if not self._wake_queued.is_set():
            self._wake_queued.set()
            self.frames.put(("wake",))

    def shutdown(self, timeout: float = 10.0) -> None:
        """Let the child finish the tasks it is doing (it reads the end of its input), then wait for it."""
        self._stopping.set()
        self.frames.put(None)
        if self._writer is not None:
            self._writer.join(timeout)
        child = self.child
        if child is not None:
            try:
                child.wait(timeout)
            except subprocess.TimeoutExpired:
                log.warning("work process did not finish in time; killed", extra={"pid": child.pid})
                child.kill()
                child.wait()

    def _spawn(self) -> None:
        reports_read, reports_write = os.pipe()
        child = subprocess.Popen([sys.executable, "-m", "bot.work_main", str(reports_write)],
                                 stdin=subprocess.PIPE, pass_fds=(reports_write,), close_fds=True)
        os.close(reports_write)
        assert child.stdin is not None
        try:
            pickle.dump(self.settings, child.stdin)
            child.stdin.flush()
        except (OSError, ValueError):  # it died at once: not left behind, whatever it was
            child.kill()
            child.wait()
            with contextlib.suppress(OSError):
                child.stdin.close()
            os.close(reports_read)
            raise
        self.child, self.starts = child, self.starts + 1
        reader = threading.Thread(target=self._read_reports, args=(os.fdopen(reports_read, "rb"), child),
                                  name="aurum-work-reports", daemon=True)
        reader.start()
        log.info("work process started", extra={"pid": child.pid})

    def _write_frames(self) -> None:
        """Send what is queued, in batches, until shut down."""
        while True:
            batch = [self.frames.get()]
            with contextlib.suppress(queue.Empty):
                while len(batch) < BATCH and batch[-1] is not None:
                    batch.append(self.frames.get_nowait())
            if any(frame is not None and frame[0] == "wake" for frame in batch):
                self._wake_queued.clear()
            self._send([frame for frame in batch if frame is not None])
            if batch[-1] is None:  # shutting down: the end of its input tells the child to finish
                child = self.child
                if child is not None and child.stdin is not None:
                    with contextlib.suppress(OSError):
                        child.stdin.close()
                return

    def _send(self, frames: list[tuple]) -> None:
        while frames:
            child = self.child
            assert child is not None and child.stdin is not None
            if child is self._ended:  # a write to a dead child's input need not fail: see _read_reports
                self._replace(child)
                continue
            try:
                child.stdin.write(b"".join(pickle.dumps(frame) for frame in frames))
                child.stdin.flush()
                return
            except (BrokenPipeError, OSError, ValueError):
                self._replace(child)

    def _replace(self, dead: subprocess.Popen) -> None:
        """Start another child in place of one that died; keep trying (a second apart) until one starts."""
        if dead.stdin is not None:
            with contextlib.suppress(OSError):
                dead.stdin.close()
        try:
            code = dead.wait(DEATH_WAIT)
        except subprocess.TimeoutExpired:  # its counters ended but it lingers: it cannot be trusted with work
            dead.kill()
            code = dead.wait()
        log.error("work process died; starting another", extra={"pid": dead.pid, "exit_code": code})
        while True:
            time.sleep(RESTART_PAUSE)
            try:
                self._spawn()
                return
            except (OSError, ValueError) as exc:
                log.error("could not start a work process", extra={"error": repr(exc)[:200]})

    def _read_reports(self, reports: IO[bytes], child: subprocess.Popen) -> None:
        with reports:
            while True:
                try:
                    counts = pickle.load(reports)
                except (EOFError, OSError, pickle.UnpicklingError):
                    break
                self.telemetry.merge(counts)
        if not self._stopping.is_set():
            # The child died (it closes its counters only after the end of its input, i.e. at shutdown). Tell the
            # writer which one, then wake it: it replaces that child at once. Waiting for a write to the dead
            # child's input to fail is not enough: the write succeeds while any other process still holds the
            # pipe's read end, and the writer would then wait for a frame that may not come before shutdown.
            self._ended = child
            self.frames.put(("wake",))
