"""SonarQube, PagerDuty and OpenAPI collectors against local servers in their wire formats."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest

from aurum.collectors import openapi, pagerduty, sonarqube
from aurum.collectors.base import CollectorError
from aurum.collectors.config import OpenapiSource, PagerdutySource, SonarqubeSource
from tests.collectors.conftest import NOW, iso
from tests.fakes.http_api import Reply


def test_sonarqube_measures_are_strings_and_missing_ones_are_no_data(make_run, api):
    api.on("GET", "/api/measures/component", Reply({"component": {"key": "aurum", "measures": [
        {"metric": "sqale_debt_ratio", "value": "15.2", "bestValue": False}]}}))
    out = sonarqube.collect(make_run("sonarqube", SonarqubeSource(url=api.url, project="aurum"), sonar_token="squ_x"))
    assert [(p.kpi, p.value) for p in out.points] == [("technical_debt_percentage", 15.2)]
    assert out.notes == ["test_coverage_percentage: SonarQube has no coverage for the project"]
    call = api.calls()[0]
    assert call.param("component") == "aurum" and call.param("metricKeys") == "sqale_debt_ratio,coverage"
    assert call.headers["Authorization"] == "Basic " + base64.b64encode(b"squ_x:").decode()


def test_sonarqube_unknown_project(make_run, api):
    api.on("GET", "/api/measures/component", Reply({"errors": [{"msg": "Component key 'x' not found"}]}, 404))
    with pytest.raises(CollectorError, match="not found"):
        sonarqube.collect(make_run("sonarqube", SonarqubeSource(url=api.url, project="x")))


def _incident(n: int, created, resolved, status="resolved") -> dict:
    return {"id": f"P{n}", "type": "incident", "status": status, "created_at": iso(created),
            "resolved_at": iso(resolved) if resolved else None}


def test_pagerduty_mttr_is_the_mean_over_resolved_incidents(make_run, api):
    day = NOW - timedelta(days=3)
    incidents = [_incident(1, day, day + timedelta(minutes=20)), _incident(2, day, day + timedelta(minutes=70)),
                 _incident(3, day, day + timedelta(minutes=30)), _incident(4, day, None, status="triggered")]

    def page(request):
        offset = int(request.param("offset"))
        return Reply({"incidents": incidents[offset:offset + 2], "limit": 2, "offset": offset,
                      "more": offset + 2 < len(incidents), "total": None})

    api.on("GET", "/incidents", page)
    out = pagerduty.collect(make_run("pagerduty", PagerdutySource(api_url=api.url), pagerduty_token="pd-key"))
    assert [(p.kpi, p.value) for p in out.points] == [("incident_recovery_time_minutes", 40.0)]
    first = api.calls("/incidents")[0]
    assert first.headers["Authorization"] == "Token token=pd-key"
    assert first.headers["Accept"] == "application/vnd.pagerduty+json;version=2"
    assert first.param("statuses[]") == "resolved"
    assert len(api.calls("/incidents")) == 2


def test_pagerduty_without_incidents_is_no_data(make_run, api):
    api.on("GET", "/incidents", Reply({"incidents": [], "limit": 100, "offset": 0, "more": False}))
    out = pagerduty.collect(make_run("pagerduty", PagerdutySource(api_url=api.url), pagerduty_token="k"))
    assert out.points == [] and out.notes


def test_pagerduty_needs_its_token(make_run, api):
    with pytest.raises(CollectorError, match="PAGERDUTY_TOKEN"):
        pagerduty.collect(make_run("pagerduty", PagerdutySource(api_url=api.url)))


SPEC = {"openapi": "3.1.0", "info": {"title": "x", "version": "1"}, "paths": {
    "/a": {"get": {"summary": "List"}, "post": {"description": "Create"}, "parameters": []},
    "/b": {"delete": {}, "put": {"summary": "  "}}}}


def test_openapi_documentation_coverage(make_run, api, tmp_path):
    (tmp_path / "openapi.yaml").write_text("openapi: 3.1.0\npaths:\n  /a:\n    get: {summary: List}\n    post: {}\n")
    out = openapi.collect(make_run("openapi", OpenapiSource(path=tmp_path / "openapi.yaml")))
    assert [(p.kpi, p.value) for p in out.points] == [("api_documentation_coverage_percentage", 50.0)]
    api.on("GET", "/openapi.json", Reply(SPEC))
    out = openapi.collect(make_run("openapi", OpenapiSource(url=f"{api.url}/openapi.json")))
    assert out.points[0].value == 50.0


def test_openapi_that_is_not_a_spec(make_run, api):
    api.on("GET", "/openapi.json", Reply(json.dumps(["not", "a", "spec"]).encode()))
    with pytest.raises(CollectorError, match="not an OpenAPI document"):
        openapi.collect(make_run("openapi", OpenapiSource(url=f"{api.url}/openapi.json")))
