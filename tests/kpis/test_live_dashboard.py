"""`/kpi dashboard live`: one message per channel, edited when values change, a Stop button, an end time."""

from __future__ import annotations

from datetime import timedelta

from aurum import demo
from aurum.core.jobs import JobRunner
from aurum.kpis import live
from aurum.kpis import service as kpis
from aurum.reports.jobs import LIVE
from tests.blockkit import assert_valid_blocks, text_of
from tests.support import chart_alt_texts


def updates(fake_slack) -> list[dict]:
    return [c.params for c in fake_slack.calls_to("chat.update")]


def run_tick(runtime) -> str:
    (outcome,) = JobRunner(runtime.ctx).run(LIVE, period=runtime.ctx.now().isoformat())
    return outcome.result


def test_live_dashboard_edits_on_change_and_stops(runtime, server, slack, fake_slack):
    ctx = runtime.ctx
    team = fake_slack.team_id
    with ctx.transaction() as session:
        demo.load(session, ctx.catalog, team, ctx.now() - timedelta(minutes=5))
    fake_slack.add_channel("wall", "C0WALL")  # a channel the bot is in
    slack.command("/kpi", "dashboard live 2", user="U7", channel="C0WALL")
    post = fake_slack.wait_for("chat.postMessage", timeout=30)[0].params  # after the chart is drawn
    assert post["channel"] == "C0WALL"
    assert_valid_blocks(post["blocks"])
    stop = post["blocks"][-1]
    assert stop["elements"][0]["action_id"] == live.STOP_ACTION
    assert "until" in text_of(post["blocks"])
    fake_slack.wait_for("files.completeUploadExternal", timeout=30)  # the chart, once, in the thread
    ((_name, alt),) = chart_alt_texts(fake_slack)
    assert "Technical metrics" in alt and ctx.catalog.get("api_response_time_p95").name + ": latest" in alt

    assert run_tick(runtime) == "0 edited, 0 ended, 1 unchanged"  # nothing changed: no edit at all
    with ctx.transaction() as session:
        kpis.record(ctx, session, team, ctx.catalog.get("api_response_time_p95"), 199.0)
    assert run_tick(runtime) == "1 edited, 0 ended, 0 unchanged"
    edit = fake_slack.wait_for("chat.update")[0].params
    assert edit["ts"] == fake_slack.messages("C0WALL")[0]["ts"] and "199 ms" in text_of(edit["blocks"])
    assert_valid_blocks(edit["blocks"])

    slack.interaction({"type": "block_actions", "user": {"id": "U8"}, "channel": {"id": "C0WALL"},
                       "actions": [{"action_id": live.STOP_ACTION, "block_id": live.STOP_BLOCK,
                                    "value": stop["elements"][0]["value"], "type": "button"}]})
    stopped = fake_slack.wait_for("chat.update", count=2)[-1].params
    assert "Live updates stopped by <@U8>" in text_of(stopped["blocks"])
    assert all(b["type"] != "actions" for b in stopped["blocks"])
    assert run_tick(runtime) == "no live dashboard"


def test_one_live_message_per_channel_and_it_ends_on_time(runtime, server, slack, fake_slack):
    ctx = runtime.ctx
    fake_slack.add_channel("wall", "C0WALL")  # a channel the bot is in
    slack.command("/kpi", "dashboard live 1", user="U7", channel="C0WALL")
    fake_slack.wait_for("chat.postMessage", timeout=30)
    first_ts = fake_slack.messages("C0WALL")[0]["ts"]
    slack.command("/kpi", "dashboard live 3", user="U7", channel="C0WALL")
    fake_slack.wait_for("chat.postMessage", count=2, timeout=30)
    replaced = fake_slack.wait_for("chat.update")[0].params
    assert replaced["ts"] == first_ts
    assert "Replaced by a newer live dashboard" in text_of(replaced["blocks"])

    real = ctx.clock
    ctx.clock = lambda: real() + timedelta(hours=3, minutes=1)
    assert run_tick(runtime) == "0 edited, 1 ended, 0 unchanged"
    # Matched by content: the jump of the clock may also hand an edit still being marked sent to a second delivery.
    ended = fake_slack.wait_for(lambda c: c.method == "chat.update" and c.params["ts"] != first_ts)[0].params
    assert "Live updates ended at" in text_of(ended["blocks"])


def test_live_hours_are_checked_in_the_ack(server, slack):
    assert "1 to 8 hours" in slack.command("/kpi", "dashboard live 30").json()["text"]
    assert "Usage: `/kpi dashboard live" in slack.command("/kpi", "dashboard forever").json()["text"]
