"""`/kpi` over HTTP: ack latency against a bare Bolt app, reply-with-chart time, start-up and memory.

Runs `aurum serve` (SQLite, demo history, a local fake Slack Web API) and bench/bare_bolt.py side by side on this
machine and prints both, with ratios, so noisy machines still give comparable figures.
    python bench/bench_ack.py [--rounds 20] [--concurrency 50]
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import compileall
import contextlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aurum import demo  # noqa: E402
from bot.compose import build_context  # noqa: E402
from bot.settings import Settings  # noqa: E402
from tests.fakes.slack_api import FakeSlack  # noqa: E402
from tests.support import BOT_TOKEN, SIGNING_SECRET, SlackSender, free_port, memory_mb  # noqa: E402

TEAM = "T0001"


def wait_healthy(url: str, process: subprocess.Popen, timeout: float = 30) -> float:
    started = time.perf_counter()
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited with {process.returncode}")
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return time.perf_counter() - started
        except httpx.HTTPError:
            pass
        if time.perf_counter() - started > timeout:
            raise RuntimeError(f"{url} not healthy after {timeout}s")
        time.sleep(0.02)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


async def burst(sender: SlackSender, rounds: int, concurrency: int, text: str) -> list[list[float]]:
    """`rounds` waves of `concurrency` simultaneous requests, each on a new connection (as Slack makes them).
    Requests are signed before the waves start and sent as raw bytes over asyncio streams, so the figures are the
    server's time, not an HTTP client library's (httpx took several ms per request of the same two cores)."""
    target = urlsplit(sender.url)
    host, port = target.hostname, target.port

    def raw(i: int) -> bytes:
        body = sender.command_body("/kpi", text, channel=f"CB{i % concurrency:04d}", user=f"U{i:05d}")
        head = "".join(f"{k}: {v}\r\n" for k, v in sender.headers(body).items())
        return (f"POST /slack/events HTTP/1.1\r\nHost: {host}:{port}\r\n{head}Content-Length: {len(body)}\r\n"
                f"Connection: close\r\n\r\n{body}").encode()

    async def one(request: bytes) -> float:
        started = time.perf_counter()
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(request)
        status = await reader.readline()
        await reader.read()  # the server closes after its answer (Connection: close)
        elapsed = time.perf_counter() - started
        writer.close()
        assert status.split()[1] == b"200", (sender.url, status)
        return elapsed

    waves: list[list[float]] = []
    for r in range(rounds):
        wave = [raw(r * concurrency + i) for i in range(concurrency)]
        waves.append(list(await asyncio.gather(*(one(request) for request in wave))))
    return waves


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--replies", type=int, default=30)
    parser.add_argument("--workers", type=int, default=1, help="worker processes of aurum serve (WEB_CONCURRENCY)")
    parser.add_argument("--text", default="latency", help="the /kpi text of the bursts (a typo is answered in the ack)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="aurum-bench-"))
    atexit.register(shutil.rmtree, workdir, ignore_errors=True)  # nothing left behind in the temp folder
    # Start-up is measured as a deployment starts: with the bot's bytecode compiled (pip compiles what it installs,
    # a container build runs compileall; an editable install in an environment with PYTHONDONTWRITEBYTECODE would
    # otherwise compile every module at every start).
    compileall.compile_dir(str(ROOT), quiet=1, rx=re.compile(r"/(\.|tests|bench)"), workers=0)
    fake = FakeSlack().start()
    database = f"sqlite:///{workdir / 'bench.db'}"
    settings = Settings(_env_file=None, database_url=database, slack_bot_token=BOT_TOKEN,
                        slack_signing_secret=SIGNING_SECRET, slack_api_url=fake.base_url)
    ctx = build_context(settings)
    with ctx.transaction() as session:
        demo.load(session, ctx.catalog, TEAM, ctx.now())
    ctx.engine.dispose()

    env = {**os.environ, "DATABASE_URL": database, "SLACK_API_URL": fake.base_url, "SLACK_BOT_TOKEN": BOT_TOKEN,
           "SLACK_SIGNING_SECRET": SIGNING_SECRET, "PYTHONPATH": str(ROOT), "AURUM_CHART_DIR": str(workdir)}
    aurum_port, bare_port = free_port(), free_port()
    log = (workdir / "serve.log").open("wb")
    env.pop("WEB_CONCURRENCY", None)  # uvicorn would read it for the bare app too
    aurum = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve", "--port", str(aurum_port), "--workers",
                              str(args.workers)], cwd=workdir, env=env, stdout=log, stderr=log)
    bare = None
    try:
        startup = wait_healthy(f"http://127.0.0.1:{aurum_port}", aurum)  # alone: nothing else starting meanwhile
        bare = subprocess.Popen([sys.executable, str(ROOT / "bench" / "bare_bolt.py"), str(bare_port),
                                 SIGNING_SECRET], cwd=workdir, env=env)
        wait_healthy(f"http://127.0.0.1:{bare_port}", bare)
        # The channels the commands come from exist (the bot is in them), and each command carries a response_url
        # the stand-in serves, as Slack's do.
        for i in range(args.concurrency):
            fake.add_channel(f"burst-{i:04d}", channel_id=f"CB{i:04d}")
        aurum_sender = SlackSender(f"http://127.0.0.1:{aurum_port}", team_id=TEAM, fake=fake)
        bare_sender = SlackSender(f"http://127.0.0.1:{bare_port}", team_id=TEAM)

        # Replies with chart, one at a time: time from the command to the chart shared in the card's thread.
        # Each a different KPI and period, so every reply renders its chart afresh (no cache hits).
        kinds = [f"{kpi} {period}" for period in ("90d", "30d", "7d", "1y") for kpi in (
            "latency", "coverage", "uptime", "velocity", "errors", "mttr", "build", "debt", "docs", "deploys",
            "features", "onboarding")]
        reply_times = []
        for i in range(args.replies):
            channel = fake.add_channel(f"reply-{i:04d}", channel_id=f"CR{i:04d}")
            started = time.perf_counter()
            aurum_sender.send(aurum_sender.command_body("/kpi", kinds[i % len(kinds)], channel=channel))
            fake.wait_for(lambda c, ch=channel: c.method == "files.completeUploadExternal"
                          and c.params.get("channel_id") == ch, timeout=30)
            reply_times.append(time.perf_counter() - started)

        # Ack latency under concurrency, interleaved so both servers see the same machine load.
        our_waves, their_waves = [], []
        for _ in range(2):
            their_waves += asyncio.run(burst(bare_sender, args.rounds // 2, args.concurrency, args.text))
            our_waves += asyncio.run(burst(aurum_sender, args.rounds // 2, args.concurrency, args.text))
        ours, theirs = [x for w in our_waves for x in w], [x for w in their_waves for x in w]
        total = args.rounds * args.concurrency
        expected = args.replies + (total if args.text == "latency" else 0)  # other texts: replies not awaited
        drain_started = time.perf_counter()
        with contextlib.suppress(AssertionError):  # a shortfall is reported below
            fake.wait_for(lambda c: c.method == "files.completeUploadExternal", count=expected, timeout=900)
        drained = time.perf_counter() - drain_started
        charts_shared = len(fake.calls_to("files.completeUploadExternal", failed=False))
        memory, proportional = memory_mb(aurum.pid), memory_mb(aurum.pid, "Pss")

        def row(name: str, values: list[float]) -> str:
            p50, p95, p99 = (percentile(values, q) * 1000 for q in (50, 95, 99))
            return f"{name:<10} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   p99 {p99:7.1f} ms   (n={len(values)})"

        print(f"/kpi ack latency at {args.concurrency} concurrent requests")
        print(row("aurum", ours))
        print(row("bare bolt", theirs))
        print(f"ratio p50 aurum/bare: {statistics.median(ours) / statistics.median(theirs):.2f}  (target <= 1.5)")
        print(f"ratio p99 aurum/bare: {percentile(ours, 99) / percentile(theirs, 99):.2f}")
        print(f"ack p99 aurum: {percentile(ours, 99) * 1000:.1f} ms  (target <= 100 ms)")
        for name, waves in (("aurum", our_waves), ("bare bolt", their_waves)):
            print(f"slowest answer of each wave, {name}: " + " ".join(f"{max(w) * 1000:.0f}" for w in waves) + " ms")
        print(f"first reply with chart after start-up: {reply_times[0] * 1000:.0f} ms")
        print(f"reply with chart, one at a time: p50 {statistics.median(reply_times) * 1000:.0f} ms, "
              f"p95 {percentile(reply_times, 95) * 1000:.0f} ms  (target p95 <= 1500 ms)")
        print(f"replies with chart delivered: {charts_shared} of {expected} "
              f"(outbox drained {drained:.0f} s after the last ack)")
        print(f"start-up to healthy: {startup:.2f} s  (target <= 3 s)")
        parts = " + ".join(f"{size:.0f}" for size in memory.values())
        print(f"resident memory after {total + args.replies} commands: {sum(memory.values()):.0f} MB "
              f"({len(memory)} processes: {parts})  (target <= 250 MB)")
        print(f"proportional set size of the same processes: {sum(proportional.values()):.0f} MB "
              "(shared pages counted once)")
    finally:
        for process in (aurum, bare):
            if process is not None:
                process.terminate()
                process.wait(20)
        fake.stop()


if __name__ == "__main__":
    main()
