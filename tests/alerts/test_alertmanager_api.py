"""`POST /api/v1/alertmanager`: Alertmanager 0.25 webhook payloads through the one-message lifecycle."""

from __future__ import annotations

import base64
import copy
import json

import httpx
import pytest
from sqlmodel import select

from aurum.core import tokens
from storage.alerts import AlertEpisode
from storage.workspaces import ensure
from tests.alerts.conftest import ALERTMANAGER_TOKEN
from tests.alerts.support import valid_blocks

# What Alertmanager 0.25 sends to a webhook receiver (version 4), firing; the resolved one differs in status and endsAt.
FIRING = {
    "receiver": "aurum", "status": "firing",
    "alerts": [{
        "status": "firing",
        "labels": {"alertname": "HighErrorRate", "job": "api", "severity": "page"},
        "annotations": {"summary": "High 5xx ratio on api", "runbook_url": "https://runbooks.example.com/5xx"},
        "startsAt": "2026-11-28T09:59:19Z", "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph?g0.expr=job%3Aerrors%3Aratio5m+%3E+0.01",
        "fingerprint": "8e6582a18bc324d3",
    }],
    "groupLabels": {"alertname": "HighErrorRate"},
    "commonLabels": {"alertname": "HighErrorRate", "job": "api", "severity": "page"},
    "commonAnnotations": {"summary": "High 5xx ratio on api"},
    "externalURL": "http://am:9093", "version": "4", "groupKey": '{}:{alertname="HighErrorRate"}',
    "truncatedAlerts": 0,
}


def resolved_payload() -> dict:
    payload = copy.deepcopy(FIRING)
    payload["status"] = payload["alerts"][0]["status"] = "resolved"
    payload["alerts"][0]["endsAt"] = "2026-11-28T10:41:19Z"
    return payload


@pytest.fixture
def post(server):
    client = httpx.Client(base_url=server.url, timeout=10)

    def send(payload, token: str | None = ALERTMANAGER_TOKEN, headers: dict | None = None,
             params: dict | None = None) -> httpx.Response:
        auth = {"Authorization": f"Bearer {token}"} if token else {}
        return client.post("/api/v1/alertmanager", content=json.dumps(payload), params=params,
                           headers={"Content-Type": "application/json", **auth, **(headers or {})})

    yield send
    client.close()


def test_firing_then_resolved_ends_in_one_message_updated_to_resolved(post, fake_slack):
    cid = fake_slack.add_channel("#critical-alerts")
    response = post(FIRING)
    assert response.status_code == 200 and response.json() == {"status": "ok", "alerts": 1, "changed": 1}
    (posted,) = fake_slack.wait_for("chat.postMessage")
    assert posted.params["channel"] == cid
    assert "HighErrorRate" in posted.params["text"] and "High 5xx ratio on api" in posted.params["text"]
    valid_blocks(posted.params["blocks"])

    assert post(FIRING).status_code == 200  # Alertmanager's repeat: nothing new to say
    assert post(resolved_payload()).status_code == 200
    (update,) = fake_slack.wait_for("chat.update")
    reply = fake_slack.wait_for(lambda c: c.method == "chat.postMessage" and c.params.get("thread_ts"))[0]
    top = [m for m in fake_slack.messages(cid) if not m.get("thread_ts")]
    assert len(top) == 1
    assert "Resolved · HighErrorRate" in str(top[0]["blocks"]) and "after 42 min" in str(top[0]["blocks"])
    assert "runbooks.example.com/5xx" in str(top[0]["blocks"])
    assert update.params["ts"] == top[0]["ts"] and reply.params["thread_ts"] == top[0]["ts"]
    assert reply.params["text"].startswith("✅ Resolved after 42 min")
    assert len([c for c in fake_slack.calls_to("chat.postMessage") if not c.params.get("thread_ts")]) == 1


def test_basic_auth_with_the_token_as_password_is_accepted(post, fake_slack):
    fake_slack.add_channel("#critical-alerts")
    basic = base64.b64encode(f"alertmanager:{ALERTMANAGER_TOKEN}".encode()).decode()
    assert post(FIRING, token=None, headers={"Authorization": f"Basic {basic}"}).status_code == 200
    fake_slack.wait_for("chat.postMessage")


def test_wrong_or_missing_credentials_get_401_and_change_nothing(post, fake_slack):
    assert post(FIRING, token="guess").status_code == 401
    assert post(FIRING, token=None).status_code == 401
    wrong = base64.b64encode(b"alertmanager:guess").decode()
    assert post(FIRING, token=None, headers={"Authorization": f"Basic {wrong}"}).status_code == 401
    assert not fake_slack.calls_to("chat.postMessage")


def test_a_payload_that_is_not_version_4_is_refused_with_the_reason(post):
    bad = {**FIRING, "version": "3"}
    response = post(bad)
    assert response.status_code == 400 and response.json()["details"][0].startswith("version:")



def test_a_workspace_token_raises_alerts_in_its_own_workspace_only(post, runtime, fake_slack):
    fake_slack.add_channel("#critical-alerts")
    with runtime.ctx.transaction() as session:
        ensure(session, "T0OTHER", "Other")
        ours = tokens.create(session, fake_slack.team_id, "am", scopes="alertmanager").secret
        push_only = tokens.create(session, fake_slack.team_id, "ci", scopes="push").secret
    assert post(FIRING, token=push_only).status_code == 401  # a token without the scope is no credential here
    assert post(FIRING, token=ours, params={"team": "T0OTHER"}).status_code == 200  # ?team= cannot redirect it
    fake_slack.wait_for("chat.postMessage")
    with runtime.ctx.reading() as session:
        assert {e.team_id for e in session.exec(select(AlertEpisode)).all()} == {fake_slack.team_id}


def test_the_operator_token_needs_a_team_once_several_workspaces_are_served(post, runtime, fake_slack):
    with runtime.ctx.transaction() as session:
        ensure(session, fake_slack.team_id, "Ours")
        ensure(session, "T0OTHER", "Other")
    refused = post(FIRING)
    assert refused.status_code == 400 and "?team=" in refused.json()["error"]
    assert post(FIRING, params={"team": "T0NOBODY"}).status_code == 400
    assert not fake_slack.calls_to("chat.postMessage")
