"""Each person's time zone: asked of Slack (users.info) once, cached a day, the team's when Slack cannot say."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from aurum.core import zones

NOW = datetime(2027, 11, 5, 9, 0, tzinfo=UTC)


def _zones(runtime, fake_slack, *users: str, ask: bool = True) -> dict[str, str]:
    with runtime.ctx.transaction() as session:
        found = zones.zones(runtime.ctx, session, fake_slack.team_id, users, ask=ask)
    return {user: zone.key for user, zone in found.items()}


def test_a_zone_is_asked_once_a_day(runtime, fake_slack):
    runtime.ctx.tz = ZoneInfo("Europe/Berlin")
    clock = [NOW]
    runtime.ctx.clock = lambda: clock[0]
    fake_slack.set_user("U1", tz="Asia/Tokyo")
    assert _zones(runtime, fake_slack, "U1") == {"U1": "Asia/Tokyo"}
    fake_slack.set_user("U1", tz="America/Los_Angeles")  # moved
    clock[0] = NOW + timedelta(hours=23)
    assert _zones(runtime, fake_slack, "U1") == {"U1": "Asia/Tokyo"}  # the cached answer
    clock[0] = NOW + timedelta(hours=24)
    assert _zones(runtime, fake_slack, "U1") == {"U1": "America/Los_Angeles"}
    assert [call.params["user"] for call in fake_slack.calls_to("users.info")] == ["U1", "U1"]


def test_the_team_zone_when_slack_cannot_say(runtime, fake_slack):
    runtime.ctx.tz = ZoneInfo("Europe/Berlin")
    runtime.ctx.clock = lambda: NOW
    fake_slack.set_user("UHIDDEN", error="user_not_visible")
    assert _zones(runtime, fake_slack, "UHIDDEN") == {"UHIDDEN": "Europe/Berlin"}
    assert _zones(runtime, fake_slack, "UHIDDEN") == {"UHIDDEN": "Europe/Berlin"}
    assert len(fake_slack.calls_to("users.info")) == 1  # a failed lookup is not asked again within the day


def test_without_asking_the_known_zone_or_the_teams(runtime, fake_slack):
    runtime.ctx.tz = ZoneInfo("America/New_York")
    runtime.ctx.clock = lambda: NOW
    fake_slack.set_user("U1", tz="Asia/Tokyo")
    assert _zones(runtime, fake_slack, "U1", ask=False) == {"U1": "America/New_York"}
    assert fake_slack.calls_to("users.info") == []
    _zones(runtime, fake_slack, "U1")
    assert _zones(runtime, fake_slack, "U1", ask=False) == {"U1": "Asia/Tokyo"}


def test_a_large_team_is_asked_over_several_calls(runtime, fake_slack):
    runtime.ctx.clock = lambda: NOW
    people = [f"U{i:03d}" for i in range(zones.ASK_AT_MOST + 5)]
    for user in people:
        fake_slack.set_user(user, tz="Asia/Tokyo")
    first = _zones(runtime, fake_slack, *people)
    assert list(first.values()).count("Asia/Tokyo") == zones.ASK_AT_MOST
    assert set(_zones(runtime, fake_slack, *people).values()) == {"Asia/Tokyo"}
    assert len(fake_slack.calls_to("users.info")) == len(people)
