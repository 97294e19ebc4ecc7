"""A post Slack refuses for good tells the admins once a day per channel and error, instead of vanishing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from aurum.core import outbox
from bot.compose import build_web
from storage import queue as repo

NOTICE = (":warning: A message for #no-such-channel was not delivered: Slack says `channel_not_found`. Slack knows "
          "no channel #no-such-channel, or it is private and I am not in it: correct the channel in the config file "
          "(`aurum check` lists the ones to fix), or `/invite @Aurum` in it. (I tell this once a day per channel and "
          "error.)")


@pytest.fixture
def admins_runtime(settings, tmp_path, request):
    config = tmp_path / "team.yml"
    config.write_text(getattr(request, "param", ""))
    rt = build_web(settings.model_copy(update={"aurum_admins": "UADMIN1,UADMIN2", "aurum_config": config}),
                   work_process=False)
    yield rt
    rt.shutdown()


def _dead_posts(runtime, count: int, prefix: str = "report") -> None:
    with runtime.ctx.transaction() as session:
        for i in range(count):
            outbox.post(session, "T0001", "#no-such-channel", f"weekly summary {i}", key=f"{prefix}:{i}")
        outbox.upload(session, "T0001", "#no-such-channel", b"png", filename="chart.png", title="Chart",
                      key=f"{prefix}:chart", alt_text="a chart")
    runtime.worker().drain()


def _texts(fake, channel: str) -> list[str]:
    return [m["text"] for m in fake.messages(channel)]


def test_dead_posts_to_an_unknown_channel_tell_each_admin_once(admins_runtime, fake_slack):
    _dead_posts(admins_runtime, 3)
    assert _texts(fake_slack, "DUADMIN1") == [NOTICE]
    assert _texts(fake_slack, "DUADMIN2") == [NOTICE]
    _dead_posts(admins_runtime, 2, prefix="later")  # the same day: told already
    assert _texts(fake_slack, "DUADMIN1") == [NOTICE]
    with admins_runtime.ctx.reading() as session:
        assert repo.counts(session) == {"dead": 7, "sent": 2}
    now = admins_runtime.ctx.now()
    admins_runtime.ctx.clock = lambda: now + timedelta(days=1)  # the next day: told again, if it still happens
    _dead_posts(admins_runtime, 1, prefix="tomorrow")
    assert _texts(fake_slack, "DUADMIN1") == [NOTICE, NOTICE]


@pytest.mark.parametrize("admins_runtime", ["ops:\n  admin_channel: '#general'\n"], indirect=True)
def test_the_admin_channel_is_told_instead_when_the_config_names_one(admins_runtime, fake_slack):
    _dead_posts(admins_runtime, 2)
    assert _texts(fake_slack, "C0CHAN") == [NOTICE]
    assert not fake_slack.messages("DUADMIN1") and not fake_slack.messages("DUADMIN2")


def test_a_reply_the_bot_could_not_post_tells_its_asker_not_the_admins(admins_runtime, fake_slack):
    asker = outbox.Requester(user="U1", channel="C0SECRET", response_url=fake_slack.response_url("C0SECRET", "U1"))
    with admins_runtime.ctx.transaction() as session:
        outbox.post(session, "T0001", "C0SECRET", "the card", asker=asker, key="card")
    admins_runtime.worker().drain()
    assert "the card" in [r["text"] for r in fake_slack.responses]  # by its response_url, as before
    assert not fake_slack.messages("DUADMIN1")
