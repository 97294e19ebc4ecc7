"""`/kpi` through the real HTTP endpoint, with signed requests, answered into the fake Slack Web API."""

from __future__ import annotations

import time
from datetime import timedelta

from hypothesis import given

from aurum import demo
from aurum.kpis import dashboard as technical_dashboard
from aurum.kpis import service as kpis
from aurum.kpis.catalog import range_text
from storage.db import session_scope
from tests.kpis.ranges import HTTP, KPIS, entries
from tests.support import SlackSender, chart_alt_texts, is_reply, replies, wait_until


def _load_demo(runtime, team_id: str) -> None:
    with session_scope(runtime.ctx.engine) as session:
        demo.load(session, runtime.ctx.catalog, team_id, runtime.ctx.now())


def test_kpi_latency_posts_card_and_chart(runtime, server, slack, fake_slack):
    _load_demo(runtime, fake_slack.team_id)
    response = slack.command("/kpi", "latency", channel="C0CHAN")
    assert response.status_code == 200
    assert response.text == ""  # acked empty; the card is posted in the channel

    posts = fake_slack.wait_for("chat.postMessage")
    card = posts[0].params
    assert card["channel"] == "C0CHAN"
    fields = " ".join(f["text"] for b in card["blocks"] if b["type"] == "section" for f in b.get("fields", []))
    assert "285 ms" in fields and "<200 ms" in fields and "350 ms" in fields
    assert "off track" in fields
    completed = fake_slack.wait_for("files.completeUploadExternal")[0].params
    stored = fake_slack.messages("C0CHAN")[0]
    assert completed["channel_id"] == "C0CHAN" and completed["thread_ts"] == stored["ts"]
    (upload,) = fake_slack.files.values()
    assert upload.bytes.startswith(b"\x89PNG") and upload.channel == "C0CHAN"
    ((_name, alt),) = chart_alt_texts(fake_slack)  # the KPI, the period, the latest value and the target
    assert alt.startswith("Line chart, API p95 response time, last 30d.") and "latest 285 ms" in alt
    assert "target <200 ms" in alt


def test_private_card_is_ephemeral_and_chart_goes_by_dm(runtime, server, slack, fake_slack):
    _load_demo(runtime, fake_slack.team_id)
    slack.command("/kpi", "uptime 90d private", user="U42")
    ephemeral = fake_slack.wait_for(is_reply)[0].params
    assert ephemeral["user"] == "U42"
    fake_slack.wait_for("files.completeUploadExternal")
    (upload,) = fake_slack.files.values()
    assert upload.channel == "DU42"
    assert not fake_slack.calls_to("chat.postMessage")


def test_unknown_kpi_suggests_the_right_one(server, slack, fake_slack):
    response = slack.command("/kpi", "lantency")
    assert response.status_code == 200
    body = response.json()
    assert body["text"].startswith("Unknown KPI 'lantency' — did you mean `latency`")
    assert "`latency`" in body["text"]
    assert not fake_slack.calls_to("chat.postMessage")


def test_bad_period_explains_the_accepted_forms(server, slack):
    body = slack.command("/kpi", "latency 2w").json()
    assert "2w" in body["text"] and "`1y`" in body["text"]


def test_bad_signature_and_old_timestamp_get_401(server, slack):
    body = slack.command_body("/kpi", "latency")
    forged = SlackSender(server.url, secret="not-the-secret")
    assert forged.send(body).status_code == 401
    six_minutes_ago = int(time.time()) - 6 * 60
    assert slack.send(body, timestamp=six_minutes_ago).status_code == 401
    forged.close()


def test_record_stores_the_value_and_confirms(runtime, server, slack, fake_slack):
    slack.command("/kpi", "record coverage 82.5", user="U7")
    reply = fake_slack.wait_for(is_reply)[0].params
    assert "82.5%" in reply["blocks"][0]["text"]["text"]
    with runtime.ctx.reading() as session:
        status = kpis.status(runtime.ctx, session, fake_slack.team_id, runtime.ctx.catalog.get(
            "test_coverage_percentage"))
    assert status.latest.value == 82.5 and status.latest.source == "manual:U7"


def test_record_refuses_a_bad_value_with_the_form(server, slack, fake_slack):
    body = slack.command("/kpi", "record coverage lots").json()
    assert "'lots' is not a number" in body["text"]


def test_record_in_the_future_is_refused(runtime, server, slack, fake_slack):
    later = (runtime.ctx.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    slack.command("/kpi", f"record coverage 90 at {later}")
    reply = fake_slack.wait_for(is_reply)[0].params
    assert "in the future" in reply["text"]


def test_help_lists_catalogue_with_status(runtime, server, slack, fake_slack):
    _load_demo(runtime, fake_slack.team_id)
    slack.command("/kpi", "")
    blocks = fake_slack.wait_for(is_reply)[0].params["blocks"]
    text = "\n".join(b["text"]["text"] for b in blocks if b["type"] == "section")
    assert "🔴 *API p95 response time* `latency`" in text
    assert "Development velocity" in text


def test_dashboard_posts_one_message_with_one_chart(runtime, server, slack, fake_slack):
    _load_demo(runtime, fake_slack.team_id)
    slack.command("/kpi", "dashboard")
    message = fake_slack.wait_for("chat.postMessage")[0].params
    text = str(message["blocks"])
    assert "API performance" in text and "System health" in text and "Quality gates" in text
    fake_slack.wait_for("files.completeUploadExternal")
    assert len(fake_slack.files) == 1
    ((_name, alt),) = chart_alt_texts(fake_slack)
    assert alt.startswith("Technical metrics, last 7 days: one line chart per KPI.")
    for key in technical_dashboard.CHART_KPIS:
        assert runtime.ctx.catalog.get(key).name + ": latest" in alt


def test_healthz_and_metrics(runtime, server, fake_slack):
    import httpx

    _load_demo(runtime, fake_slack.team_id)
    assert httpx.get(server.url + "/healthz").json() == {"status": "ok"}
    exposition = httpx.get(server.url + "/metrics").text
    assert 'roadmap_sprint_velocity{team="default",team_id="T0001"} 52.0' in exposition
    assert "roadmap_test_coverage" in exposition
    assert 'roadmap_api_response_time_p95{team="default",team_id="T0001"} 285.0' in exposition


def test_private_card_reaches_someone_typing_in_a_dm_the_bot_is_not_in(runtime, server, slack, fake_slack):
    _load_demo(runtime, fake_slack.team_id)
    their_dm = fake_slack.add_dm("U42")  # U42 and a colleague; the bot is not in it
    slack.command("/kpi", "uptime 90d private", user="U42", channel=their_dm)
    wait_until(lambda: fake_slack.responses or fake_slack.calls_to("chat.postEphemeral"), timeout=20,
               message="the reply")
    assert fake_slack.responses, "no reply through the response_url"
    assert fake_slack.responses[0]["user"] == "U42" and fake_slack.responses[0]["response_type"] == "ephemeral"


def _stored(runtime, team_id: str, key: str) -> list[float]:
    with runtime.ctx.reading() as session:
        return [v for _at, v in kpis.series_since(session, team_id, key, runtime.ctx.now() - timedelta(days=3650))]


@HTTP
@given(entry=entries())
def test_record_over_http_stores_a_possible_value_once_and_refuses_the_rest(runtime, server, slack, fake_slack,
                                                                             entry):
    kpi, value, good = entry
    before, answered = _stored(runtime, fake_slack.team_id, kpi.key), len(replies(fake_slack))
    response = slack.command("/kpi", f"record {kpi.key} {value!r}")
    assert response.status_code == 200
    if good:
        fake_slack.wait_for(is_reply, count=answered + 1)
        assert _stored(runtime, fake_slack.team_id, kpi.key) == [*before, value]
    else:  # answered in the ack: no work queued, nothing stored, posted or celebrated
        text = response.json()["text"]
        assert f"(`{kpi.key}`) cannot be" in text and "allowed:" in text and "Nothing was stored." in text
        assert _stored(runtime, fake_slack.team_id, kpi.key) == before
        assert len(replies(fake_slack)) == answered


def test_record_out_of_range_is_refused_for_every_kpi_and_nothing_is_celebrated(runtime, server, slack, fake_slack):
    for kpi in KPIS:
        low, high = kpi.allowed
        for value in (low - 1, *((high + 1,) if high is not None else ())):
            name = kpi.aliases[0] if kpi.aliases else kpi.key
            text = slack.command("/kpi", f"record {name} {value:g}").json()["text"]
            assert f"{kpi.name} (`{kpi.key}`) cannot be {value:g}; allowed: {range_text(kpi)}." in text, text
    body = slack.command("/kpi", "record coverage 182").json()
    assert "Code coverage (`test_coverage_percentage`) cannot be 182; allowed: 0 to 100 (percent)" in body["text"]
    time.sleep(0.5)  # any work would have been queued by now
    assert not fake_slack.calls_to("chat.postMessage") and not replies(fake_slack)
    assert all(_stored(runtime, fake_slack.team_id, kpi.key) == [] for kpi in KPIS)
