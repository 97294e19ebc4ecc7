"""Script: a command from the config file (never from Slack) whose output's last number becomes the value.

No shell runs: a string command is split like a shell would split it. The command is killed at its timeout.
A command that exits with a code not in `ok_exit_codes` stores nothing (`grep -c` exits 1 when it counts 0:
allow it with `ok_exit_codes: [0, 1]`).
"""

from __future__ import annotations

import re
import shlex
import subprocess

from aurum.collectors.base import Collected, CollectorError, Run
from aurum.collectors.http import finite

NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")


def last_number(output: str) -> float | None:
    numbers = NUMBER.findall(output)
    return finite(numbers[-1]) if numbers else None


def run_script(source: str, item) -> float | None:
    argv = shlex.split(item.command) if isinstance(item.command, str) else list(item.command)
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=item.timeout_seconds,
                              stdin=subprocess.DEVNULL, cwd=item.cwd, check=False)
    except subprocess.TimeoutExpired:
        raise CollectorError(source, f"{argv[0]} did not finish within {item.timeout_seconds:g} s") from None
    except OSError as exc:
        raise CollectorError(source, f"cannot run {argv[0]} ({exc.strerror})") from None
    if done.returncode not in item.ok_exit_codes:
        said = (done.stderr or done.stdout).strip().splitlines()
        tail = f": {said[-1][:200]}" if said else ""
        raise CollectorError(source, f"{argv[0]} exited with {done.returncode}{tail}")
    return last_number(done.stdout)


def collect(run: Run) -> Collected:
    return run.each(run.config, lambda item: run_script(run.source, item), "the output had no number")
