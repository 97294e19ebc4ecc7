"""A setting changed in one process takes effect in the others at their next piece of work, without a restart: the
next `/kpi` card, alert evaluation and report of the serving bot (its threads, or its work process) use it."""

from __future__ import annotations

import pytest

from aurum import demo
from aurum.core.jobs import JobRunner
from aurum.settings import edits
from bot.compose import build_context
from storage import alerts as alert_states
from storage.db import session_scope
from tests.alerts.support import record
from tests.settings.conftest import ADMIN
from tests.settings.support import TEAM, home_button
from tests.support import replies, wait_until

CHANGES = {"kpis.api_response_time_p95.target": "<150", "kpis.test_coverage_percentage.target": ">85",
           "alerts.rules.ApiErrorRateHigh.threshold": 0.5}


def _change_elsewhere(settings, values: dict) -> None:
    """Change settings the way another process does (an admin's modal in another web process, `aurum config
    import`): through a context of its own on the same database."""
    other = build_context(settings)
    try:
        assert edits.change(other, TEAM, ADMIN, values)
    finally:
        other.engine.dispose()


def _card_fields(fake_slack, count: int) -> str:
    card = fake_slack.wait_for("chat.postMessage", count=count)[count - 1].params
    return " ".join(f["text"] for b in card["blocks"] if b["type"] == "section" for f in b.get("fields", []))


def _weekly_preview(slack, fake_slack) -> str:
    before = len(replies(fake_slack))
    slack.command("/report", "weekly preview", user=ADMIN)
    return str(wait_until(lambda: replies(fake_slack)[before:], timeout=60, message="the report preview")[0].params)


def _load(runtime) -> None:
    with session_scope(runtime.ctx.engine) as session:
        demo.load(session, runtime.ctx.catalog, TEAM, runtime.ctx.now())


def test_a_change_reaches_the_next_card_alert_evaluation_and_report_without_restart(runtime, server, slack,
                                                                                   fake_slack, settings):
    _load(runtime)
    slack.command("/kpi", "latency", channel="C0CHAN")
    assert "<200 ms" in _card_fields(fake_slack, 1)
    assert "(target >80%)" in _weekly_preview(slack, fake_slack)
    record(runtime.ctx, "api_error_rate_percentage", 0.8)  # below the seed's 1 %: nothing fires

    _change_elsewhere(settings, CHANGES)

    slack.command("/kpi", "latency", channel="C0CHAN")
    fields = _card_fields(fake_slack, 2)
    assert "<150 ms" in fields and "<200 ms" not in fields
    report = _weekly_preview(slack, fake_slack)
    assert "(target >85%)" in report and "(target >80%)" not in report
    JobRunner(runtime.ctx).run_now("alerts", team_id=TEAM)  # the clock's every-minute evaluation
    with runtime.ctx.reading() as session:
        states = {rule: s.state for (rule, _), s in alert_states.states(session, TEAM).items()}
    assert states["ApiErrorRateHigh"] == "firing"


@pytest.mark.work_process
@pytest.mark.timeout(300)
def test_the_work_process_takes_a_change_up_without_restart(runtime, server, slack, fake_slack, settings):
    _load(runtime)
    slack.command("/kpi", "latency", channel="C0CHAN")
    assert "<200 ms" in _card_fields(fake_slack, 1)

    _change_elsewhere(settings, CHANGES)

    slack.command("/kpi", "latency", channel="C0CHAN")
    assert "<150 ms" in _card_fields(fake_slack, 2)
    assert "(target >85%)" in _weekly_preview(slack, fake_slack)
    assert runtime.work is not None and runtime.work.child is not None

    # The web process runs no job, yet its schedules form (opened in the ack) lists every one.
    slack.interaction(home_button("schedules", ADMIN))
    view = fake_slack.wait_for("views.open")[0].params["view"]
    assert "job:weekly_summary" in str(view) and "job:alerts" in str(view)
