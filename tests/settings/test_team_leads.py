"""A team's leads change their own team's KPI targets and channels from the App Home, through signed requests; not
the workspace's, nor another team's."""

from __future__ import annotations

import pytest
import yaml

from aurum.squads import teams as squads
from storage import settings as store
from tests.blockkit import VIEW_CAP, assert_valid_blocks, assert_valid_view
from tests.settings.conftest import ADMIN
from tests.settings.support import TEAM, channel, home_button, option, submission, text

LEAD = "U0LEAD"
TEAMS = {
    "payments": {"name": "Payments", "default": True, "members": {"channel": "#payments"}, "leads": [LEAD]},
    "platform": {"members": {"channel": "#platform"}, "leads": ["U0PLEAD"]},
}


@pytest.fixture
def settings(settings, tmp_path):
    config = tmp_path / "team.yml"
    config.write_text(yaml.safe_dump({"teams": TEAMS}), encoding="utf-8")
    return settings.model_copy(update={"aurum_config": config})


def _opened(slack, fake_slack, kind: str, user: str) -> dict:
    before = len(fake_slack.views)
    assert slack.interaction(home_button(kind, user)).status_code == 200
    fake_slack.wait_for("views.open", count=before + 1)
    return fake_slack.views[-1]["view"]


def _submit(slack, callback: str, values: dict, user: str, metadata: dict | None = None) -> dict:
    response = slack.interaction(submission(callback, user, values, metadata))
    assert response.status_code == 200
    return response.json()


def _paths(runtime) -> list[tuple[str, str, str | None]]:
    with runtime.ctx.reading() as session:
        return sorted((c.user_id, c.path, c.after) for c in store.recent_changes(session, TEAM, limit=50))


@pytest.mark.parametrize("kind", ["kpi", "channels"])
def test_a_lead_opens_the_form_of_their_own_team_valid_within_slacks_limits(runtime, server, slack, fake_slack, kind):
    view = _opened(slack, fake_slack, kind, LEAD)
    assert_valid_view(view)
    assert_valid_blocks(view["blocks"], VIEW_CAP)
    assert len(view["title"]["text"]) <= 24
    assert "of *Payments* only" in str(view["blocks"][0]) and view["private_metadata"] == '{"team": "payments"}'


def test_a_lead_changes_their_teams_kpi_target_and_channel_not_the_workspaces(runtime, server, slack, fake_slack):
    meta = {"team": "payments"}
    answer = _submit(slack, "kpi", {"kpi": option("api_response_time_p95"), "target": text("<150"),
                                    "stretch": text(None)}, LEAD, meta)
    assert answer["response_action"] == "update" and "teams.payments.kpis.api_response_time_p95.target" in str(answer)
    answer = _submit(slack, "channels", {"channel:roadmap_updates": channel("C0PAYROAD")}, LEAD, meta)
    assert "teams.payments.channels.roadmap_updates" in str(answer)
    assert _paths(runtime) == [(LEAD, "teams.payments.channels.roadmap_updates", '"C0PAYROAD"'),
                               (LEAD, "teams.payments.kpis.api_response_time_p95.target", '"<150"')]
    ctx = runtime.ctx
    with ctx.serving(TEAM):
        payments, platform = squads.by_key(ctx.config, "payments"), squads.by_key(ctx.config, "platform")
        assert squads.scope(ctx, payments).catalog.get("api_response_time_p95").goal == 150
        assert squads.scope(ctx, platform).catalog.get("api_response_time_p95").goal == 200
        assert squads.channel(ctx.config, payments, "roadmap_updates") == "C0PAYROAD"
        assert ctx.config.channels.roadmap_updates == "#roadmap-updates"

    slack.event({"type": "app_home_opened", "user": LEAD, "tab": "home", "channel": "D1"})
    home = fake_slack.wait_for("views.publish")[0].params["view"]
    assert_valid_view(home)
    shown = str(home)
    assert "*Settings of Payments* (team leads)" in shown and "teams.payments.channels.roadmap_updates" in shown
    assert "settings_open_schedules" not in shown


def test_a_lead_is_refused_the_workspaces_settings_and_another_teams(runtime, server, slack, fake_slack):
    view = _opened(slack, fake_slack, "schedules", LEAD)
    assert "Only admins can change the bot's settings" in str(view)
    answer = _submit(slack, "channels", {"channel:roadmap_updates": channel("C0ROAD")}, LEAD)  # the workspace's
    assert "Only admins can change the bot's settings" in str(answer["view"])
    answer = _submit(slack, "channels", {"channel:roadmap_updates": channel("C0ROAD")}, LEAD, {"team": "platform"})
    assert "Only admins or the team leads of platform (<@U0PLEAD>) can change the settings of platform" \
        in str(answer["view"])
    answer = _submit(slack, "anonymity", {"threshold": text("7")}, LEAD, {"team": "payments"})
    assert "Only admins can change the bot's settings" in str(answer["view"])
    answer = _submit(slack, "channels", {"channel:roadmap_updates": channel("C0ROAD")}, "U0DEV", {"team": "payments"})
    assert "Only admins or the team leads of Payments (<@U0LEAD>)" in str(answer["view"])
    assert _paths(runtime) == []


def test_an_admin_changes_a_teams_settings_too(runtime, server, slack, fake_slack):
    answer = _submit(slack, "channels", {"channel:roadmap_updates": channel("C0PLAT")}, ADMIN, {"team": "platform"})
    assert "teams.platform.channels.roadmap_updates" in str(answer)
    answer = _submit(slack, "channels", {"channel:team": channel("C0PLAT")}, ADMIN, {"team": "gone"})
    assert "This form is out of date" in str(answer["view"])
