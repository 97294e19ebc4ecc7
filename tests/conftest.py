"""Fixtures: a fresh database per test, the fake Slack Web API, settings, context and a running server."""

from __future__ import annotations

import time

import pytest
from pydantic import SecretStr

from bot.compose import build_context, build_web
from bot.settings import Settings
from bot.web import create_web_app
from tests.fakes import slack_api
from tests.fakes.slack_api import FakeSlack
from tests.support import (
    BOT_TOKEN,
    CLIENT_ID,
    CLIENT_SECRET,
    SIGNING_SECRET,
    SlackSender,
    chart_alt_texts,
    running,
    test_database_url,
)


@pytest.fixture(scope="session", autouse=True)
def matplotlib_loaded():
    """Pay matplotlib's import (seconds on a busy machine) once, before any test waits for a chart with a deadline."""
    import matplotlib.backends.backend_agg  # noqa: F401
    import matplotlib.dates  # noqa: F401
    import matplotlib.figure  # noqa: F401


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Every test is a check against Slack's Web API: the test fails if a FakeSlack saw a call real Slack refuses or
    ignores (unknown method or argument, missing scope, bad trigger id, used or expired response_url), or a chart
    uploaded without its alt text (accessibility). In the call phase, so that `xfail` covers it."""
    slack_api.STARTED[:] = [fake for fake in slack_api.STARTED if fake._server is not None]  # earlier tests' fakes
    try:
        result = yield
    except BaseException:
        violations = [v for fake in slack_api.STARTED for v in fake.take_violations()]
        if violations:  # shown with the failure: often its cause
            item.add_report_section("call", "Slack violations", "\n".join(violations))
        raise
    finally:
        fakes, slack_api.STARTED[:] = list(slack_api.STARTED), []
    violations = [v for fake in fakes for v in fake.take_violations()]
    if not item.get_closest_marker("charts_without_alt_text"):
        violations += [f"the chart {alt[0]} was uploaded without alt_txt" for fake in fakes
                       for alt in chart_alt_texts(fake) if not alt[1]]
    if violations:
        pytest.fail("the fake Slack saw calls real Slack refuses or ignores:\n  " + "\n  ".join(violations),
                    pytrace=False)
    return result


@pytest.fixture
def database_url(tmp_path) -> str:
    return test_database_url(tmp_path)


@pytest.fixture
def fake_slack():
    # Message timestamps on the real clock, like Slack's: the outbox's crash recovery looks up history by time.
    with FakeSlack(start_ts=time.time()) as fake:
        yield fake


@pytest.fixture
def settings(database_url, fake_slack, tmp_path) -> Settings:
    return Settings(
        _env_file=None,
        database_url=database_url,
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake_slack.base_url,
        aurum_chart_dir=tmp_path / "charts",
        aurum_timezone="UTC",
    )


@pytest.fixture
def ctx(settings):
    context = build_context(settings)
    yield context
    context.engine.dispose()


@pytest.fixture
def runtime(settings, request):
    # Tests marked work_process run the work after the ack in a child process, as `aurum serve` does; the others
    # in threads of the server under test, so that they can move its clock.
    rt = build_web(settings, work_process=request.node.get_closest_marker("work_process") is not None)
    yield rt
    rt.shutdown()


@pytest.fixture
def server(runtime):
    with running(create_web_app(runtime)) as srv:
        yield srv


@pytest.fixture
def slack(server, fake_slack):
    sender = SlackSender(server.url, team_id=fake_slack.team_id, fake=fake_slack)
    yield sender
    sender.close()


@pytest.fixture
def oauth_settings(settings) -> Settings:
    """OAuth mode: no bot token, client credentials; workspaces install through /slack/install."""
    return settings.model_copy(update={"slack_bot_token": None, "slack_client_id": CLIENT_ID,
                                       "slack_client_secret": SecretStr(CLIENT_SECRET)})


@pytest.fixture
def oauth_runtime(oauth_settings):
    rt = build_web(oauth_settings, work_process=False)
    yield rt
    rt.shutdown()


@pytest.fixture
def oauth_server(oauth_runtime):
    with running(create_web_app(oauth_runtime)) as srv:
        yield srv
