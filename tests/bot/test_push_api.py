"""The push API over HTTP against the running server: tokens, metrics, DORA events, coverage uploads, refusals."""

from __future__ import annotations

import hashlib
import socket
from datetime import timedelta

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from typer.testing import CliRunner

from aurum.core import tokens as api_tokens
from aurum.kpis import service as kpis
from bot import cli
from storage.api_tokens import ApiToken
from tests.collectors import dora_data as data
from tests.collectors.conftest import NOW, iso
from tests.kpis.ranges import HTTP, KPIS, entries

TEAM = "T0001"


@pytest.fixture
def token(runtime):
    with runtime.ctx.transaction() as session:
        return api_tokens.create(session, TEAM, "ci", scopes='push').secret


@pytest.fixture
def push(server, token):
    with httpx.Client(base_url=server.url + "/api/v1", headers={"Authorization": f"Bearer {token}"},
                      timeout=10) as client:
        yield client


def latest(runtime, key: str):
    with runtime.ctx.reading() as session:
        return kpis.status(runtime.ctx, session, TEAM, runtime.ctx.catalog.get(key)).latest


def count(runtime, key: str) -> int:
    with runtime.ctx.reading() as session:
        return len(kpis.series_since(session, TEAM, key, NOW - timedelta(days=3650)))


def test_one_value_many_values_and_a_wrapped_list(runtime, push):
    one = push.post("/metrics", json={"kpi": "latency", "value": 241.5})
    assert one.status_code == 201 and one.json() == {"stored": 1, "kpis": ["api_response_time_p95"]}
    assert latest(runtime, "api_response_time_p95").source == "api"
    many = push.post("/metrics", json=[{"kpi": "coverage", "value": 81.2, "at": "2026-11-27T10:00:00Z", "source": "ci"},
                                       {"kpi": "coverage", "value": 81.9, "at": "2026-11-27T10:30:00+01:00"}])
    assert many.json() == {"stored": 2, "kpis": ["test_coverage_percentage"]}
    wrapped = push.post("/metrics", json={"metrics": [{"kpi": "rps", "value": 127}]})
    assert wrapped.status_code == 201
    assert latest(runtime, "test_coverage_percentage").value == 81.2  # 10:00Z is after 10:30+01:00


def test_idempotency_key_stores_once_and_replays_the_answer(runtime, push):
    body = {"kpi": "latency", "value": 250, "at": "2026-11-27T10:00:00Z"}
    first = push.post("/metrics", json=body, headers={"Idempotency-Key": "run-42"})
    again = push.post("/metrics", json=body, headers={"Idempotency-Key": "run-42"})
    assert again.status_code == first.status_code == 201 and again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    other = push.post("/metrics", json={**body, "value": 1}, headers={"Idempotency-Key": "run-42"})
    assert other.status_code == 422 and "different body" in other.json()["detail"]
    assert count(runtime, "api_response_time_p95") == 1 and latest(runtime, "api_response_time_p95").value == 250


def test_unknown_kpi_is_404_with_suggestions_and_nothing_is_stored(runtime, push):
    answer = push.post("/metrics", json=[{"kpi": "coverage", "value": 80}, {"kpi": "lantency", "value": 1}])
    assert answer.status_code == 404
    assert answer.json() == {"detail": "Unknown KPI 'lantency'", "suggestions": ["latency", "latency_p99",
                                                                                 "cache_latency"]}
    assert latest(runtime, "test_coverage_percentage") is None


@pytest.mark.parametrize("body, loc, message", [
    ({"kpi": "latency"}, ["body", "value"], "Field required"),
    ({"kpi": "latency", "value": "fast"}, ["body", "value"], "valid number"),
    ({"kpi": "latency", "value": 1, "at": "2026-11-27T10:00:00"}, ["body", "at"], "timezone"),
    ({"kpi": "latency", "value": 1, "at": "2999-01-01T00:00:00Z"}, ["body", "0", "at"], "in the future"),
    ({"kpi": "latency", "value": 1, "colour": "red"}, ["body", "colour"], "Extra inputs"),
    ([{"kpi": "latency", "value": 1}, {"kpi": "", "value": 2}], ["body", 1, "kpi"], "at least 1 character"),
    ([], ["body"], "1 to 5,000 values"),
])
def test_field_level_422(runtime, push, body, loc, message):
    answer = push.post("/metrics", json=body)
    assert answer.status_code == 422
    (error,) = [e for e in answer.json()["detail"] if e["loc"] == loc]
    assert message in error["msg"]
    assert latest(runtime, "api_response_time_p95") is None


def test_nan_and_infinity_are_refused(runtime, push):
    for literal in (b"NaN", b"Infinity", b"-Infinity"):
        answer = push.post("/metrics", content=b'{"kpi": "latency", "value": ' + literal + b"}",
                           headers={"Content-Type": "application/json"})
        assert answer.status_code == 422 and answer.json()["detail"][0]["msg"] == "Input should be a finite number"
    assert latest(runtime, "api_response_time_p95") is None


def test_bad_tokens_get_401(server, token):
    url = server.url + "/api/v1/metrics"
    body = {"kpi": "latency", "value": 1}
    for headers in ({}, {"Authorization": "Bearer aurum_wrong"}, {"Authorization": f"Basic {token}"},
                    {"Authorization": f"Bearer {token}x"}):
        answer = httpx.post(url, json=body, headers=headers)
        assert answer.status_code == 401 and answer.headers["WWW-Authenticate"] == "Bearer"
        assert "aurum token create" in answer.json()["detail"]


def test_body_over_one_megabyte_is_413(runtime, push, server, token):
    big = [{"kpi": "latency", "value": 1, "source": "x" * 60}] * 12_000
    answer = push.post("/metrics", json=big)
    assert answer.status_code == 413 and "larger than 1000000 bytes" in answer.text
    # Streamed without Content-Length (chunked): refused once the limit is crossed.
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        raw.sendall(f"POST /api/v1/metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
                    "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".encode())
        chunk = b"[" + b" " * 65536
        for _ in range(17):
            raw.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            chunk = b" " * 65536
        status_line = raw.recv(100).split(b"\r\n")[0]
    assert b"413" in status_line
    assert latest(runtime, "api_response_time_p95") is None


def test_openapi_document(server):
    document = httpx.get(server.url + "/api/v1/openapi.json").json()
    assert set(document["paths"]) == {"/metrics", "/deployments", "/incidents", "/coverage"}
    assert document["servers"] == [{"url": "/api/v1"}]
    metric = document["components"]["schemas"]["MetricIn"]
    assert metric["required"] == ["kpi", "value"]


def test_pushed_deployments_and_incidents_give_the_hand_computed_dora_figures(runtime, push):
    runtime.ctx.clock = lambda: NOW
    for i, status, at, offsets in data.DEPLOYMENTS:
        commits = [{"sha": f"{i}{h}", "committed_at": iso(t)} for h, t in zip(offsets, data.commit_times(offsets, at),
                                                                                strict=True)]
        answer = push.post("/deployments", json={"id": i, "status": status, "deployed_at": iso(at), "commits": commits})
        assert answer.status_code == 201, answer.text
    figures = answer.json()["figures"]
    assert figures["deployments_per_week"] == data.DEPLOYS_PER_WEEK
    assert figures["lead_time_for_changes_hours"] == data.LEAD_TIME_HOURS
    assert figures["change_failure_rate_percentage"] == pytest.approx(data.CHANGE_FAILURE_RATE)
    assert figures["incident_recovery_time_minutes"] is None
    for i, created, resolved, deployment in data.INCIDENTS:
        answer = push.post("/incidents", json={"id": i, "created_at": iso(created), "resolved_at": iso(resolved),
                                               "deployment_id": deployment})
    figures = answer.json()["figures"]
    assert figures["change_failure_rate_percentage"] == data.CHANGE_FAILURE_RATE_WITH_INCIDENTS
    assert figures["incident_recovery_time_minutes"] == data.MTTR_MINUTES
    assert latest(runtime, "incident_recovery_time_minutes").value == data.MTTR_MINUTES
    assert latest(runtime, "lead_time_for_changes_hours").source == "api"
    backwards = push.post("/incidents", json={"id": "I9", "created_at": iso(NOW), "resolved_at": iso(NOW - data.H)})
    assert backwards.status_code == 422 and backwards.json()["detail"][0]["loc"] == ["body", "resolved_at"]


def test_coverage_upload(runtime, push):
    xml = b'<?xml version="1.0" ?><coverage version="7.6" line-rate="0.8" branch-rate="0.5" lines-valid="100" ' \
          b'lines-covered="80" branches-valid="20" branches-covered="10"></coverage>'
    answer = push.post("/coverage", content=xml, headers={"Content-Type": "application/xml"})
    assert answer.status_code == 201 and answer.json()["value"] == 75.0  # (80 + 10) / (100 + 20)
    as_json = push.post("/coverage?kpi=service_coverage", json={"totals": {"percent_covered": 88.5,
                                                                           "num_statements": 10}})
    assert as_json.json()["kpi"] == "service_test_coverage_percentage"
    bad = push.post("/coverage", content=b"<html/>", headers={"Content-Type": "application/xml"})
    assert bad.status_code == 422 and "not a coverage.py report" in bad.json()["detail"][0]["msg"]
    assert push.post("/coverage?kpi=coverag", content=xml).json()["suggestions"][0] == "coverage"
    assert latest(runtime, "test_coverage_percentage").value == 75.0


def test_tokens_are_stored_hashed_and_printed_once(runtime, settings):
    result = CliRunner().invoke(cli.app, ["token", "create", "--team", TEAM, "--name", "gha"],
                                env={"DATABASE_URL": settings.database_url, "SLACK_BOT_TOKEN": ""})
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("aur_") and len(token) > 40
    with runtime.ctx.reading() as session:
        row = session.scalars(select(ApiToken).where(ApiToken.name == "gha")).one()
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in str(row.model_dump())
        assert api_tokens.verify(session, token).team_id == TEAM and api_tokens.verify(session, token[:-1]) is None
    listing = CliRunner().invoke(cli.app, ["token", "list"], env={"DATABASE_URL": settings.database_url,
                                                                 "SLACK_BOT_TOKEN": ""})
    assert token[:10] in listing.output and token not in listing.output


def test_a_batch_with_impossible_values_is_refused_whole_naming_each_item(runtime, push):
    good = [{"kpi": kpi.key, "value": kpi.allowed[0]} for kpi in KPIS]
    bad = {3: ("coverage", 182.0), 7: ("latency", -5.0), 11: ("uptime", 150.0)}
    body = [dict(item) for item in good]
    for index, (name, value) in bad.items():
        body[index] = {"kpi": name, "value": value}
    for shape, wrap, prefix in (("list", lambda b: b, ["body"]), ("wrapped", lambda b: {"metrics": b},
                                                                   ["body", "metrics"])):
        refused = push.post("/metrics", json=wrap(body))
        assert refused.status_code == 422, shape
        detail = refused.json()["detail"]
        assert [(d["index"], d["loc"], d["type"]) for d in detail] == [
            (i, [*prefix, i, "value"], "out_of_range") for i in bad]
        keys = {"coverage": "test_coverage_percentage", "latency": "api_response_time_p95",
                "uptime": "service_availability_percentage"}
        assert [(d["kpi"], d["value"], d["range"]) for d in detail] == [
            (keys["coverage"], 182.0, [0.0, 100.0]), (keys["latency"], -5.0, [0.0, None]),
            (keys["uptime"], 150.0, [0.0, 100.0])]
        assert "cannot be 182; allowed: 0 to 100 (percent)" in detail[0]["msg"]
    assert all(count(runtime, kpi.key) == 0 for kpi in KPIS)  # nothing of the batch
    one = push.post("/metrics", json={"kpi": "latency", "value": -5}).json()["detail"]
    assert [(d["loc"], d["index"]) for d in one] == [(["body", "value"], 0)]
    stored = push.post("/metrics", json=good)
    assert stored.status_code == 201 and stored.json()["stored"] == len(KPIS)
    assert all(count(runtime, kpi.key) == 1 for kpi in KPIS)


def test_a_coverage_report_for_a_kpi_on_another_scale_is_refused(runtime, push):
    report = b'{"totals": {"percent_covered": 90.0, "num_statements": 10, "num_branches": 0}}'
    refused = push.post("/coverage?kpi=stakeholder_needs_rating", content=report,
                        headers={"Content-Type": "application/json"})
    assert refused.status_code == 422
    (problem,) = refused.json()["detail"]
    assert problem["kpi"] == "stakeholder_needs_rating" and problem["range"] == [1.0, 5.0]
    assert count(runtime, "stakeholder_needs_rating") == 0


@HTTP
@given(batch=st.lists(entries(), min_size=1, max_size=6, unique_by=lambda entry: entry[0].key))
def test_push_stores_a_batch_of_possible_values_once_and_refuses_any_other_whole(runtime, push, batch):
    before = {kpi.key: count(runtime, kpi.key) for kpi, _v, _g in batch}
    answer = push.post("/metrics", json=[{"kpi": kpi.key, "value": value} for kpi, value, _good in batch])
    if all(good for _k, _v, good in batch):
        assert answer.status_code == 201 and answer.json()["stored"] == len(batch)
        added = {key: sum(1 for kpi, _v, _g in batch if kpi.key == key) for key in before}
    else:
        assert answer.status_code == 422
        assert [(d["index"], d["kpi"], d["value"]) for d in answer.json()["detail"]] == [
            (i, kpi.key, value) for i, (kpi, value, good) in enumerate(batch) if not good]
        added = dict.fromkeys(before, 0)
    assert {key: count(runtime, key) - before[key] for key in before} == added


@pytest.mark.parametrize(("path", "body", "loc"), [
    ("/metrics", {"kpi": "latency", "value": 1, "source": "ci\x00"}, ["body", "source"]),
    ("/metrics", [{"kpi": "latency", "value": 1}, {"kpi": "late\x00ncy", "value": 2}], ["body", 1, "kpi"]),
    ("/deployments", {"status": "success", "environment": "prod\x00"}, ["body", "environment"]),
    ("/deployments", {"status": "success", "commits": [{"sha": "ab\x00c", "committed_at": "2026-11-27T10:00:00Z"}]},
     ["body", "commits", 0, "sha"]),
    ("/incidents", {"id": "inc\x00-1", "created_at": "2026-11-27T10:00:00Z"}, ["body", "id"]),
])
def test_a_nul_in_a_string_field_is_422_naming_the_field(runtime, push, path, body, loc):
    answer = push.post(path, json=body)
    assert answer.status_code == 422
    (error,) = answer.json()["detail"]
    assert error["loc"] == loc and "NUL character" in error["msg"] and "Remove it" in error["msg"]
    assert count(runtime, "latency") == 0


def test_a_lone_surrogate_is_422_naming_the_field(runtime, push):
    answer = push.post("/metrics", content=b'{"kpi": "latency", "value": 1, "source": "ci\\ud800"}',
                       headers={"Content-Type": "application/json"})
    assert answer.status_code == 422
    (error,) = answer.json()["detail"]
    assert error["loc"] == ["body", "source"] and "unpaired UTF-16 surrogate" in error["msg"]
    assert count(runtime, "latency") == 0
    fine = push.post("/metrics", json={"kpi": "latency", "value": 1, "source": "github-actions"})
    assert fine.status_code == 201 and fine.json()["stored"] == 1


def test_a_value_for_a_team_is_stored_for_that_team_and_an_unknown_team_is_refused(runtime, push):
    from aurum.config import parse_config
    from aurum.squads import teams

    ctx = runtime.ctx
    ctx.config = parse_config({"teams": {"payments": {"members": {"channel": "#payments"}},
                                         "platform": {"members": {"usergroup": "S0PLATFORM"}}}})
    stored = push.post("/metrics", json={"metrics": [{"kpi": "latency", "value": 456, "team": "platform"},
                                                     {"kpi": "latency", "value": 123}]})
    assert stored.status_code == 201 and stored.json()["stored"] == 2
    platform = teams.scope(ctx, teams.by_key(ctx.config, "platform"))
    with ctx.reading() as session:
        assert kpis.status(platform, session, TEAM, ctx.catalog.get("api_response_time_p95")).latest.value == 456
    assert latest(runtime, "api_response_time_p95").value == 123  # no team: the default team (payments)
    refused = push.post("/metrics", json=[{"kpi": "latency", "value": 1, "team": "platfrom"}])
    assert refused.status_code == 422
    (error,) = refused.json()["detail"]
    assert error["loc"] == ["body", 0, "team"]
    assert "unknown team 'platfrom'; did you mean 'platform'?" in error["msg"]
