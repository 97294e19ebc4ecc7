"""`aurum serve`'s work process: the web process acks, the work process does the work after the ack and delivers.

The other tests run the work in threads of the server under test (so they can move its clock); these run it the way
`aurum serve` does, in a child process started by the web process.
"""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import httpx
import pytest

from aurum import demo
from aurum.core import outbox
from bot.work_process import ForwardAfterAck
from storage.db import session_scope
from tests.support import (
    BOT_TOKEN,
    SIGNING_SECRET,
    SlackSender,
    process_tree,
    serve_process,
    statuses,
    wait_until,
)

pytestmark = [pytest.mark.timeout(300), pytest.mark.work_process]  # see tests/conftest.py


def test_the_card_is_made_and_delivered_by_the_work_process(runtime, server, slack, fake_slack):
    with session_scope(runtime.ctx.engine) as session:
        demo.load(session, runtime.ctx.catalog, fake_slack.team_id, runtime.ctx.now())
    assert isinstance(runtime.ctx.after_ack, ForwardAfterAck)
    assert not [t for t in threading.enumerate() if t.name.startswith(("aurum-outbox", "aurum-alert-tasks"))]

    response = slack.command("/kpi", "latency", channel="C0CHAN")
    assert response.status_code == 200 and response.text == ""
    card = fake_slack.wait_for("chat.postMessage")[0].params
    fields = " ".join(f["text"] for b in card["blocks"] if b["type"] == "section" for f in b.get("fields", []))
    assert "285 ms" in fields and "<200 ms" in fields and "350 ms" in fields
    completed = fake_slack.wait_for("files.completeUploadExternal")[0].params
    assert completed["channel_id"] == "C0CHAN"
    assert runtime.work is not None and runtime.work.child is not None
    assert runtime.work.child.pid in process_tree(os.getpid())[1:]

    # The work process's counters reach the web process's /metrics.
    def counted() -> bool:
        text = httpx.get(server.url + "/metrics", timeout=5).text
        return 'aurum_command_outcomes_total{command="/kpi",outcome="ok"} 1.0' in text
    wait_until(counted, timeout=20, message="the command's outcome on /metrics")


def test_input_errors_are_answered_in_the_ack_without_the_work_process(runtime, slack, fake_slack):
    response = slack.command("/kpi", "lantency")
    assert "latency" in response.json()["text"]
    assert runtime.work is not None and runtime.work.frames.empty()


def test_a_post_queued_by_the_web_process_is_delivered_by_the_work_process(runtime, server, fake_slack):
    ctx = runtime.ctx
    with ctx.transaction() as session:  # as the push API or the Alertmanager receiver do
        outbox.post(session, fake_slack.team_id, "C0PUSH", "pushed", key="pushed:1")
    assert fake_slack.wait_for("chat.postMessage")[0].params["channel"] == "C0PUSH"


def test_a_work_process_that_dies_is_replaced(runtime, server, slack, fake_slack):
    work = runtime.work
    assert work is not None and work.child is not None
    first = work.child
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    wait_until(lambda: work.starts == 2, timeout=20, message="another work process")  # before any new request
    slack.command("/kpi", "uptime", channel="C0AGAIN")
    posted = fake_slack.wait_for("chat.postMessage", timeout=60)[0].params
    assert posted["channel"] == "C0AGAIN"
    assert work.starts == 2 and work.child is not first and work.child.poll() is None


def test_shutdown_lets_the_work_process_finish_what_it_was_given(runtime, server, slack, fake_slack):
    work = runtime.work
    assert work is not None and work.child is not None
    child = work.child
    for i in range(5):
        slack.command("/kpi", "coverage", channel=f"C0LAST{i}")
    runtime.shutdown()
    assert child.returncode == 0
    # Each request's card is either delivered or stored in the outbox for the next start: none is lost.
    posted = {c.params["channel"] for c in fake_slack.calls_to("chat.postMessage", failed=False)}
    assert len(posted) + statuses(runtime.ctx).get("pending", 0) >= 5


def test_the_work_process_ends_with_its_web_process(tmp_path, database_url, fake_slack):
    env = dict(database_url=database_url, slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET,
               slack_api_url=fake_slack.base_url)
    web = serve_process(tmp_path, "serve", **env).start()
    try:
        assert web.process is not None
        children = wait_until(lambda: process_tree(web.process.pid)[1:], timeout=20, message="the work process")
        slack = SlackSender(web.url, team_id=fake_slack.team_id, fake=fake_slack)
        slack.command("/kpi", "uptime", channel="C0SUB")
        fake_slack.wait_for("chat.postMessage", timeout=60)
        slack.close()
        web.kill()  # kill -9: no shutdown of its own; the child reads the end of its input
        wait_until(lambda: not Path(f"/proc/{children[0]}").exists() or
                   "Z" in Path(f"/proc/{children[0]}/stat").read_text().split()[2], timeout=30,
                   message="the work process to exit")
    finally:
        web.stop()
