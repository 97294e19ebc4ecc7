"""Load: 1,000 simultaneous slash-command users against a real `aurum serve` process, on loopback.

    python bench/bench_load.py [--users 1000] [--duration 60] [--think 10] [--database postgresql+psycopg://…]
                               [--teams 20]

Each user keeps its own connection open and sends signed `/kpi` commands (a mix of manual entries, the
catalogue overview and mistyped names answered in the ack) with a random pause averaging `--think` seconds;
the replies go through the outbox to a fake Slack Web API in another process. The server runs on SQLite unless
`--database` is given. Printed: requests, failures, ack latency p50/p99/max (and the ratio to a one-user
baseline measured first in the same run), commands acked within 3 s, and the server's RSS over time.

`--teams N`: the same load twice, on a server without teams and then on one with N teams in its config file (each
with its channel, whose members in the fake Slack are the users spread over the teams); half the users type in their
team's channel, the other half name their team (`team:<key>`). Printed as well: p50/p99 with teams over without.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support import free_port, memory_mb  # noqa: E402

SECRET = "bench-signing-secret"
TEAM = "T0001"
FAKE = (
    "import sys, time; sys.path.insert(0, {root!r})\n"
    "from tests.fakes.slack_api import FakeSlack\n"
    "fake = FakeSlack(start_ts=time.time()).start()\n"
    "for team in range({teams}):\n"
    "    fake.add_channel(f'team{{team:02d}}', f'C0TEAM{{team:02d}}')\n"
    "    fake.set_members(f'C0TEAM{{team:02d}}', [f'U{{u:05d}}' for u in range(team, {users}, {teams})])\n"
    "print(fake.base_url, flush=True)\n"
    "sys.stdin.read()\n"
)
COMMANDS = ["record coverage {n}", "record latency {n}", "help", "latency help", "record velocity {n}"]


def rss_mb(pid: int) -> float:
    """Resident memory of the server and all its processes (web workers, work processes), in MB."""
    return sum(memory_mb(pid).values())


def duration_left(until: float) -> float:
    return max(0.0, until - time.monotonic())


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def teams_config(teams: int) -> str:
    """A config file with `teams` teams, each found by its channel's members (user i is in team i mod `teams`)."""
    lines = ["teams:"]
    for team in range(teams):
        lines += [f"  team{team:02d}:", f"    members: {{channel: C0TEAM{team:02d}}}"]
    return "\n".join(lines) + "\n"


class Load:
    def __init__(self, url: str, teams: int = 0):
        self.host, port = url.removeprefix("http://").split(":")
        self.port = int(port)
        self.teams = teams
        self.verifier = SignatureVerifier(SECRET)
        self.latencies: list[float] = []
        self.failures: list[str] = []
        self.reconnects = 0

    def request(self, user: int) -> tuple[bytes, dict[str, str]]:
        text, channel, name = random.choice(COMMANDS).format(n=random.randint(40, 99)), "C0BENCH", "bench"
        if self.teams and user % 2:  # the user names its team
            text += f" team:team{user % self.teams:02d}"
        elif self.teams:  # the user types in its team's channel
            channel, name = f"C0TEAM{user % self.teams:02d}", f"team{user % self.teams:02d}"
        body = urlencode({"team_id": TEAM, "channel_id": channel, "channel_name": name, "user_id": f"U{user:05d}",
                          "command": "/kpi", "text": text, "response_url": "https://hooks.slack.invalid/x",
                          "trigger_id": f"t.{random.random()}", "api_app_id": "A0001"})
        stamp = str(int(time.time()))
        return body.encode(), {"X-Slack-Request-Timestamp": stamp,
                               "X-Slack-Signature": self.verifier.generate_signature(timestamp=stamp, body=body),
                               "Content-Type": "application/x-www-form-urlencoded"}

    async def user(self, user: int, until: float, think: float) -> None:
        """One user with one keep-alive connection (a minimal HTTP/1.1 client: the load generator shares this
        machine with the server, so it has to cost next to nothing per request)."""
        await asyncio.sleep(random.uniform(0, min(think, duration_left(until))))  # arrivals spread out
        reader, writer = await asyncio.open_connection(self.host, self.port)
        try:
            while time.monotonic() < until:
                body, headers = self.request(user)
                head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
                payload = (f"POST /slack/events HTTP/1.1\r\nHost: {self.host}\r\n{head}"
                           f"Content-Length: {len(body)}\r\n\r\n").encode() + body
                started = time.perf_counter()
                try:
                    writer.write(payload)
                    status = await read_response(reader)
                except ConnectionResetError:  # the server closed an idle keep-alive connection: send again
                    self.reconnects += 1
                    writer.close()
                    reader, writer = await asyncio.open_connection(self.host, self.port)
                    started = time.perf_counter()
                    try:
                        writer.write(payload)
                        status = await read_response(reader)
                    except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                        self.failures.append(type(exc).__name__)
                        continue
                except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                    self.failures.append(type(exc).__name__)
                    writer.close()
                    reader, writer = await asyncio.open_connection(self.host, self.port)
                    continue
                self.latencies.append(time.perf_counter() - started)
                if status != 200:
                    self.failures.append(f"HTTP {status}")
                await asyncio.sleep(max(0.0, min(random.expovariate(1 / think), until - time.monotonic())))
        finally:
            writer.close()

    async def run(self, users: int, duration: float, think: float) -> None:
        until = time.monotonic() + duration
        await asyncio.gather(*(self.user(i, until, think) for i in range(users)))


async def read_response(reader: asyncio.StreamReader) -> int:
    line = await reader.readline()
    if not line:
        raise ConnectionResetError("closed by the server")
    status = int(line.split()[1])
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        if name.lower() == "content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return status


async def sample_rss(pid: int, every: float, until: float, samples: list[tuple[float, float]]) -> None:
    start = time.monotonic()
    while time.monotonic() < until:
        samples.append((time.monotonic() - start, rss_mb(pid)))
        await asyncio.sleep(every)


async def measure(url: str, pid: int, users: int, duration: float, think: float,
                  teams: int = 0) -> tuple[Load, list]:
    load = Load(url, teams)
    samples: list[tuple[float, float]] = []
    until = time.monotonic() + duration
    await asyncio.gather(load.run(users, duration, think), sample_rss(pid, 5, until + 1, samples))
    return load, samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--think", type=float, default=10, help="mean seconds between one user's commands")
    parser.add_argument("--database", default=None, help="DATABASE_URL (default: a fresh SQLite file)")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes (WEB_CONCURRENCY)")
    parser.add_argument("--teams", type=int, default=0,
                        help="also run the load with this many teams configured, and compare (default: no teams)")
    args = parser.parse_args()
    without = run_once(args, teams=0)
    if args.teams:
        with_teams = run_once(args, teams=args.teams)
        print(f"with {args.teams} teams over without: p50 {with_teams[0] / without[0]:.2f}x, "
              f"p99 {with_teams[1] / without[1]:.2f}x")


def run_once(args: argparse.Namespace, teams: int) -> tuple[float, float]:
    """Start a fake Slack and `aurum serve` (with `teams` teams configured), load it; (p50, p99) of the acks."""
    with tempfile.TemporaryDirectory() as tmp:
        fake = subprocess.Popen([sys.executable, "-c", FAKE.format(root=str(ROOT), teams=teams, users=args.users)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        base_url = fake.stdout.readline().strip()
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "AURUM_", "DATABASE_URL"))}
        env.update(SLACK_BOT_TOKEN="xoxb-bench", SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=base_url,
                   DATABASE_URL=args.database or f"sqlite:///{tmp}/bench.db", AURUM_LOG_LEVEL="WARNING",
                   WEB_CONCURRENCY=str(args.workers),
                   PYTHONPATH=str(ROOT))
        if teams:
            (Path(tmp) / "aurum.yml").write_text(teams_config(teams), encoding="utf-8")
            env["AURUM_CONFIG"] = str(Path(tmp) / "aurum.yml")
        log = open(Path(tmp) / "serve.log", "wb")  # noqa: SIM115 - closed below
        server = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port",
                                   str(port)], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while not _ready(url):
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("the server did not start:\n" + (Path(tmp) / "serve.log").read_text())
                time.sleep(0.2)
            database = "PostgreSQL" if args.database else "SQLite"
            print(f"aurum serve (pid {server.pid}, {args.workers} worker processes, {database}, "
                  f"{f'{teams} teams' if teams else 'no teams'}) on {url}; idle RSS {rss_mb(server.pid):.0f} MB")
            baseline, _ = asyncio.run(measure(url, server.pid, users=1, duration=5, think=0.05, teams=teams))
            base_p50 = statistics.median(baseline.latencies)
            print(f"baseline, 1 user back to back: {len(baseline.latencies)} requests, p50 {base_p50 * 1000:.1f} ms")
            started = time.monotonic()
            load, samples = asyncio.run(measure(url, server.pid, args.users, args.duration, args.think, teams))
            took = time.monotonic() - started
            return report(args, load, samples, took, base_p50)
        finally:
            # SIGTERM: the server stops taking requests and finishes the work after the acks it already gave.
            stopping = time.perf_counter()
            server.terminate()
            try:
                server.wait(300)
                print(f"stopped {time.perf_counter() - stopping:.0f} s after SIGTERM (the queued work after the acks "
                      "done first)")
            except subprocess.TimeoutExpired:
                server.kill()
                print("still busy 300 s after SIGTERM: killed")
            log.close()
            fake.stdin.close()
            fake.wait(10)


def report(args: argparse.Namespace, load: Load, samples: list, took: float, base_p50: float) -> tuple[float, float]:
    lat = load.latencies
    within = sum(1 for x in lat if x <= 3.0)
    p50, p99 = percentile(lat, 0.50), percentile(lat, 0.99)
    print(f"{args.users} users for {args.duration:.0f} s (mean pause {args.think:g} s): {len(lat)} commands "
          f"acked, {len(lat) / took:.0f}/s, failures {len(load.failures)}"
          + (f" ({', '.join(sorted(set(load.failures)))})" if load.failures else ""))
    print(f"ack latency p50 {p50 * 1000:.1f} ms ({p50 / base_p50:.1f}x baseline), "
          f"p99 {p99 * 1000:.1f} ms ({p99 / base_p50:.1f}x baseline), max {max(lat) * 1000:.0f} ms; "
          f"acked within 3 s: {within}/{len(lat)} ({100 * within / max(1, len(lat)):.2f} %)")
    print("server RSS over time: " + ", ".join(f"{t:.0f}s {mb:.0f} MB" for t, mb in samples))
    verdict = not load.failures and within == len(lat) and len(lat) > 0
    print("PASS: no failed request, every command acked within 3 s" if verdict else "FAIL")
    return p50, p99


def _ready(url: str) -> bool:
    try:
        return httpx.get(url + "/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


if __name__ == "__main__":
    main()
