"""Every acknowledged request answered exactly once: under a failing Slack, and across a `kill -9` of the bot.

Runs `aurum serve` (its web and work processes, SQLite, demo history) against the local Slack stand-in in its
strict mode (only the scopes manifest.yml asks for, response URLs with Slack's limits, each call checked against
Slack's Web API description) and counts what reaches it:
  1. chaos: 200 commands arrive — 100 `/kpi latency private` (answered by response_url) and 100 `/kpi latency` (a
     public card in the command's channel, its chart in the thread), each from its own person and channel — then,
     for 10 s, 30 % of Web API calls and response_url posts fail at random (429 with Retry-After, 500, timeouts);
     then every answer is counted per request;
  2. crash: a burst of 200 `/kpi latency private` in under a second; every process of the bot is killed with
     SIGKILL once half of them are acknowledged; the bot is started again; every acknowledged request's answers
     are counted;
  3. a slow views.open: `/survey` (the modal opens in the ack, within Slack's 3 s) while views.open hangs for 10 s,
     and while it answers 429: the time until Slack has its HTTP answer, and how many views.open calls were made.
    python bench/bench_exactly_once.py [--commands 200]
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aurum import demo  # noqa: E402
from bot.compose import build_context  # noqa: E402
from bot.settings import Settings  # noqa: E402
from storage.db import session_scope  # noqa: E402
from tests.fakes.slack_api import FakeSlack  # noqa: E402
from tests.support import (  # noqa: E402
    BOT_TOKEN,
    SIGNING_SECRET,
    SlackSender,
    process_tree,
    serve_process,
    statuses,
)

CHAOS_SECONDS = 10.0
CHAOS_RATE = 0.3  # of the calls that fail while it lasts


def start_bot(folder: Path, name: str, database_url: str, fake: FakeSlack):
    return serve_process(folder, name, database_url=database_url, slack_bot_token=BOT_TOKEN,
                         slack_signing_secret=SIGNING_SECRET, slack_api_url=fake.base_url,
                         aurum_timezone="UTC").start()


def settled(ctx, timeout: float) -> bool:
    """Wait until the queue has nothing waiting (the work after the ack and the deliveries are done)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not {"pending", "sending"} & (set(statuses(ctx)) | set(statuses(ctx, kinds=("request",)))):
            return True
        time.sleep(0.5)
    return False


def tally(label: str, answers: Counter, asked: list[str]) -> tuple[int, int, int]:
    once = sum(1 for who in asked if answers[who] == 1)
    missing = sum(1 for who in asked if answers[who] == 0)
    twice = sum(1 for who in asked if answers[who] > 1)
    print(f"{label:<44} {len(asked):>5} asked {once:>5} exactly once {missing:>4} lost {twice:>4} duplicated")
    return once, missing, twice


def chaos_round(folder: Path, database_url: str, ctx, commands: int) -> None:
    with FakeSlack(start_ts=time.time()) as fake:
        bot = start_bot(folder, "chaos", database_url, fake)
        private = [f"UP{i:03d}" for i in range(commands // 2)]
        public = [fake.add_channel(f"pub-{i:03d}") for i in range(commands - commands // 2)]
        sender = SlackSender(bot.url, team_id=fake.team_id, fake=fake)
        acked: list[str] = []
        try:
            started = time.monotonic()
            for i in range(commands):  # all of them first: the bot's calls to Slack then fall in the chaos
                who = private[i // 2] if i % 2 == 0 else public[i // 2]
                text, channel, user = (("latency private", "C0CHAN", who) if i % 2 == 0
                                       else ("latency", who, f"UC{i:03d}"))
                if sender.command("/kpi", text, user=user, channel=channel).status_code == 200:
                    acked.append(who)
            calls_before = len(fake.calls)
            fake.chaos(CHAOS_RATE, seed=14, modes=("429", "500", "timeout"), delay=1.0)
            time.sleep(CHAOS_SECONDS)
            fake.chaos(0)
            during = len(fake.calls) - calls_before
            failed = Counter(c.fault for c in fake.calls if c.failed)
            done = settled(ctx, 240)
            delivered_in = time.monotonic() - started
        finally:
            sender.close()
            bot.stop()
        replies = Counter(r["user"] for r in fake.responses if r.get("response_type", "ephemeral") == "ephemeral")
        cards = Counter(m["channel"] for m in fake.delivered_posts() if not m.get("thread_ts"))
        charts = Counter(f.channel for f in fake.files.values() if f.completed)
        print(f"chaos: {CHAOS_SECONDS:.0f} s, {during} calls to Slack in it, faults injected {dict(failed)}; "
              f"{len(acked)}/{commands} acknowledged; "
              f"queue settled: {done} after {delivered_in:.1f} s; violations of Slack's rules: {len(fake.violations)}")
        tally("  ephemeral replies (response_url)", replies, [w for w in private if w in acked])
        tally("  public cards (chat.postMessage)", cards, [w for w in public if w in acked])
        tally("  charts in the card's thread (files v2)", charts, [w for w in public if w in acked])


def crash_round(folder: Path, database_url: str, ctx, commands: int) -> None:
    with FakeSlack(start_ts=time.time()) as fake:
        bot = start_bot(folder, "crash-1", database_url, fake)
        users = [f"UK{i:03d}" for i in range(commands)]
        acked: list[str] = []
        lock = threading.Lock()
        killed = threading.Event()

        def send(chunk: list[str]) -> None:
            sender = SlackSender(bot.url, team_id=fake.team_id, fake=fake)
            for user in chunk:
                try:
                    ok = sender.command("/kpi", "latency private", user=user).status_code == 200
                except Exception:  # the bot was killed under this request: not acknowledged
                    ok = False
                if ok:
                    with lock:
                        acked.append(user)
            sender.close()

        threads = [threading.Thread(target=send, args=(users[i::8],)) for i in range(8)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        while len(acked) < commands // 2 and any(t.is_alive() for t in threads):
            time.sleep(0.005)
        assert bot.process is not None
        victims = process_tree(bot.process.pid)
        for pid in victims:
            os.kill(pid, signal.SIGKILL)
        killed.set()
        burst = time.monotonic() - started
        for thread in threads:
            thread.join()
        answered_before = len({r["user"] for r in fake.responses})
        bot.process.wait()
        second = start_bot(folder, "crash-2", database_url, fake)
        try:
            done = settled(ctx, 240)
        finally:
            second.stop()
        answers = Counter(r["user"] for r in fake.responses)
        print(f"crash: {len(acked)}/{commands} acknowledged when {len(victims)} bot processes were killed "
              f"({burst:.2f} s into the burst); {answered_before} answered before the kill; queue settled after "
              f"the restart: {done}; violations of Slack's rules: {len(fake.violations)}")
        tally("  acknowledged commands' replies", answers, acked)


def modal_round(folder: Path, database_url: str) -> None:
    with FakeSlack(start_ts=time.time()) as fake:
        bot = start_bot(folder, "modal", database_url, fake)
        sender = SlackSender(bot.url, team_id=fake.team_id, fake=fake)
        try:
            for fault in ("hang", "429"):
                before = len(fake.calls_to("views.open"))
                if fault == "429":
                    fake.fail_next("views.open", status=429, retry_after=5)
                else:
                    fake.fail_next("views.open", mode="timeout", delay=10.0)
                started = time.perf_counter()
                status = sender.command("/survey", "", user=f"UM{fault}").status_code
                took = time.perf_counter() - started
                opened = len(fake.calls_to("views.open")) - before
                print(f"/survey while views.open {'hangs 10 s' if fault == 'hang' else 'answers 429'}: HTTP {status} "
                      f"after {took:.2f} s (Slack waits 3 s), views.open calls: {opened}")
        finally:
            sender.close()
            bot.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--commands", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        database_url = f"sqlite:///{folder / 'bench.db'}"
        ctx = build_context(Settings(_env_file=None, database_url=database_url, aurum_timezone="UTC"))
        with session_scope(ctx.engine) as session:
            demo.load(session, ctx.catalog, "T0001", ctx.now())
        chaos_round(folder, database_url, ctx, args.commands)
        crash_round(folder, database_url, ctx, args.commands)
        modal_round(folder, database_url)
        ctx.engine.dispose()


if __name__ == "__main__":
    main()
