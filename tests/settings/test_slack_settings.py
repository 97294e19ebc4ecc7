"""Settings changed from the App Home through signed requests: the modals (valid Block Kit within Slack's limits),
each change checked as the config file is (errors on the field), stored with the change log, refused to non-admins."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from aurum import demo
from aurum.alerts import ruletest
from aurum.core.jobs import JobRunner
from commands.settings import NOT_OPENED
from storage import settings as store
from storage import snapshots
from storage.db import session_scope
from storage.rollups import SnapshotBase
from tests.blockkit import VIEW_CAP, assert_valid_blocks, assert_valid_view
from tests.settings.conftest import ADMIN
from tests.settings.support import TEAM, channel, channels, home_button, option, submission, text
from tests.support import is_reply

KINDS = ["kpi", "channels", "schedules", "anonymity", "questions", "alert"]


def _opened(slack, fake_slack, kind: str, user: str = ADMIN) -> dict:
    before = len(fake_slack.views)
    response = slack.interaction(home_button(kind, user))
    assert response.status_code == 200
    fake_slack.wait_for("views.open", count=before + 1)
    return fake_slack.views[-1]["view"]


def _changes(runtime) -> list[store.SettingsChange]:
    with runtime.ctx.reading() as session:
        return store.recent_changes(session, TEAM, limit=50)


def _submit(slack, callback: str, values: dict, user: str = ADMIN, metadata: dict | None = None) -> dict:
    response = slack.interaction(submission(callback, user, values, metadata))
    assert response.status_code == 200
    return response.json()


@pytest.mark.parametrize("kind", KINDS)
def test_each_settings_modal_is_valid_block_kit_within_slacks_limits(runtime, server, slack, fake_slack, kind):
    view = _opened(slack, fake_slack, kind)
    assert_valid_view(view)  # slack_sdk's models: title ≤ 24 characters, ≤ 100 blocks, ≤ 100 options…
    assert_valid_blocks(view["blocks"], VIEW_CAP)
    assert len(view["title"]["text"]) <= 24
    for block in view["blocks"]:
        assert len((block.get("element") or {}).get("options") or []) <= 100


def test_an_admin_changes_a_kpi_target_and_the_next_card_and_the_home_show_it(runtime, server, slack, fake_slack):
    with session_scope(runtime.ctx.engine) as session:
        demo.load(session, runtime.ctx.catalog, TEAM, runtime.ctx.now())
    view = _opened(slack, fake_slack, "kpi")
    assert "api_response_time_p95" in str(view)

    answer = _submit(slack, "kpi", {"kpi": option("api_response_time_p95"), "target": text("<150"),
                                    "stretch": text(None)})
    assert answer["response_action"] == "update" and "kpis.api_response_time_p95.target" in str(answer["view"])
    assert_valid_view(answer["view"])
    assert_valid_blocks(answer["view"]["blocks"], VIEW_CAP)

    slack.command("/kpi", "latency", channel="C0CHAN")
    card = fake_slack.wait_for("chat.postMessage")[0].params
    fields = " ".join(f["text"] for b in card["blocks"] if b["type"] == "section" for f in b.get("fields", []))
    assert "<150 ms" in fields and "<200 ms" not in fields

    (change,) = _changes(runtime)
    assert (change.user_id, change.path, change.before, change.after) == (
        ADMIN, "kpis.api_response_time_p95.target", None, '"<150"')

    slack.event({"type": "app_home_opened", "user": ADMIN, "tab": "home", "channel": "D1"})
    home = fake_slack.wait_for("views.publish")[0].params["view"]
    shown = str(home)
    assert "*Settings* (admins)" in shown and "kpis.api_response_time_p95.target" in shown and "&lt;150" in shown
    assert_valid_view(home)
    assert_valid_blocks(home["blocks"], VIEW_CAP)


def test_a_bad_value_is_shown_on_its_field_and_nothing_is_stored(runtime, server, slack, fake_slack):
    answer = _submit(slack, "kpi", {"kpi": option("api_response_time_p95"), "target": text("fast"),
                                    "stretch": text(None)})
    assert answer["response_action"] == "errors"
    assert "target 'fast' is not of the form 40-60, <200, >=99.9 or =0" in answer["errors"]["target"]
    answer = _submit(slack, "kpi", {"kpi": option("api_response_time_p95"), "target": text(None),
                                    "stretch": text("soon")})
    assert answer["errors"] == {"stretch": "'soon' is not a number; write it like 150 or 99.5."}
    answer = _submit(slack, "anonymity", {"threshold": text("two")})
    assert answer["errors"] == {"threshold": "Write a whole number of people, like 5."}
    answer = _submit(slack, "anonymity", {"threshold": text("0")})
    assert answer["response_action"] == "errors" and "threshold" in answer["errors"]
    assert _changes(runtime) == []


def test_someone_not_an_admin_is_told_who_may_and_changes_nothing(runtime, server, slack, fake_slack):
    view = _opened(slack, fake_slack, "kpi", user="U0USER")
    assert "Only admins can change the bot's settings" in str(view) and "`U0USER`" in str(view)
    answer = _submit(slack, "kpi", {"kpi": option("api_response_time_p95"), "target": text("<150"),
                                    "stretch": text(None)}, user="U0USER")
    assert answer["response_action"] == "update" and "Only admins can" in str(answer["view"])
    assert _changes(runtime) == []
    slack.event({"type": "app_home_opened", "user": "U0USER", "tab": "home", "channel": "D1"})
    assert "Settings" not in str(fake_slack.wait_for("views.publish")[0].params["view"])


def test_channels_schedules_and_the_anonymity_threshold_are_changed_and_logged(runtime, server, slack, fake_slack):
    answer = _submit(slack, "channels", {"channel:roadmap_updates": channel("C0ROAD"), "channel:team": channel(None)})
    assert answer["response_action"] == "update"

    view = _opened(slack, fake_slack, "schedules")
    weekly = next(b for b in view["blocks"] if b.get("block_id") == "job:weekly_summary")
    assert weekly["hint"]["text"].startswith("Next: ") and weekly["hint"]["text"].count(",") == 2  # three runs
    answer = _submit(slack, "schedules", {"job:weekly_summary": text("0 9 * * 9")})
    assert answer["response_action"] == "errors"
    assert answer["errors"] == {"job:weekly_summary": "schedules: schedule of weekly_summary: Error validating "
                                "expression '9': the last value (9) is higher than the maximum value (6)"}
    answer = _submit(slack, "schedules", {"job:weekly_summary": text("30 8 * * 1"), "job:heartbeat": text("0 * * * *")})
    assert answer["response_action"] == "update"

    answer = _submit(slack, "anonymity", {"threshold": text("7")})
    assert answer["response_action"] == "update"

    assert sorted((c.path, c.after) for c in _changes(runtime)) == [
        ("channels.roadmap_updates", '"C0ROAD"'), ("schedules.weekly_summary", '"30 8 * * 1"'),
        ("surveys.threshold", "7")]
    with runtime.ctx.serving(TEAM):
        assert runtime.ctx.config.channels.roadmap_updates == "C0ROAD"
        assert runtime.ctx.config.surveys.threshold == 7
        runner = JobRunner(runtime.ctx)
        assert runner.cron(runner.jobs["weekly_summary"]) == "30 8 * * 1"


def test_the_alert_rule_dry_run_is_the_engines_replay_of_the_stored_series(runtime, server, slack, fake_slack):
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    runtime.ctx.clock = lambda: now
    start, step = now - timedelta(days=30), timedelta(minutes=10)
    # 0.3 % errors, with five hours at 0.8 % (below the seed's threshold of 1 %, above 0.5 %) spread over the month
    values = [0.8 if i % 864 in range(400, 406) else 0.3 for i in range(30 * 144 + 1)]
    with session_scope(runtime.ctx.engine) as session:
        snapshots.add_many(session, TEAM, [SnapshotBase(kpi="api_error_rate_percentage", value=v, at=start + i * step,
                                                        source="test") for i, v in enumerate(values)])

    answer = _submit(slack, "alert", {"rule": option("ApiErrorRateHigh"), "threshold": text("0.5"), "for": text(None),
                                      "channels": channels([])})
    assert answer["response_action"] == "update"
    assert_valid_view(answer["view"])
    assert_valid_blocks(answer["view"]["blocks"], VIEW_CAP)
    rule = runtime.ctx.config.alerts.rules["ApiErrorRateHigh"]
    changed = rule.model_copy(update={"threshold": 0.5})
    replayed = [ruletest.firings(ruletest.replay([r], {r.kpi: values}, step, timedelta(minutes=1), timedelta(days=30),
                                                 start=start), r.name) for r in (rule, changed)]
    assert replayed == [0, 5]
    assert "would have fired *5* times in the last 30 days (as it is now: 0)" in str(answer["view"])
    assert _changes(runtime) == []  # a dry run stores nothing

    saved = _submit(slack, "alert_save", {}, metadata={"rule": "ApiErrorRateHigh", "changes": {"threshold": 0.5}})
    assert saved["response_action"] == "update" and "Saved" in str(saved["view"])
    assert [(c.path, c.before, c.after) for c in _changes(runtime)] == [
        ("alerts.rules.ApiErrorRateHigh.threshold", None, "0.5")]


def test_text_no_database_stores_is_refused_on_its_field(runtime, server, slack, fake_slack):
    answer = _submit(slack, "kpi", {"kpi": option("api_response_time_p95"), "target": text("<15\x000"),
                                    "stretch": text(None)})
    assert answer["response_action"] == "errors" and set(answer["errors"]) == {"target"}
    assert "setting" in answer["errors"]["target"]
    assert _changes(runtime) == []


def test_when_slack_does_not_open_the_form_the_admin_is_told_after_one_try(runtime, server, slack, fake_slack):
    fake_slack.fail_next("views.open", status=429, retry_after=5)
    assert slack.interaction(home_button("kpi", ADMIN)).status_code == 200
    assert len(fake_slack.calls_to("views.open")) == 1
    told = fake_slack.wait_for(lambda c: is_reply(c) and "did not open the settings form" in c.params.get("text", ""))
    assert told[0].params["text"].startswith(NOT_OPENED.split("(")[0])
