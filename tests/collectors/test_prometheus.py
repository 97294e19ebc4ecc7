"""The Prometheus collector against a local server speaking /api/v1/query's wire format."""

from __future__ import annotations

import pytest

from aurum.collectors import prometheus
from aurum.collectors.base import CollectorError
from aurum.collectors.config import PrometheusSource
from tests.collectors.conftest import NOW
from tests.fakes.http_api import Reply


def vector(*values: str) -> dict:
    return {"status": "success", "data": {"resultType": "vector", "result": [
        {"metric": {"job": f"api{i}"}, "value": [NOW.timestamp(), v]} for i, v in enumerate(values)]}}


def answer_by_query(answers: dict[str, Reply]):
    def reply(request):
        return answers[request.form()["query"][0]]
    return reply


def run_with(make_run, api, answers: dict[str, Reply]):
    api.on("POST", "/api/v1/query", answer_by_query(answers))
    config = PrometheusSource(url=api.url, queries={q: q for q in answers}, defaults=False)
    return prometheus.collect(make_run("prometheus", config))


def test_values_become_snapshots_at_the_evaluation_time(make_run, api):
    out = run_with(make_run, api, {"api_response_time_p95": Reply(vector("0.285")),
                                   "requests_per_second": Reply({"status": "success", "data": {
                                       "resultType": "scalar", "result": [NOW.timestamp(), "127"]}})})
    assert {(p.kpi, p.value, p.at, p.source) for p in out.points} == {
        ("api_response_time_p95", 0.285, NOW, "prometheus"), ("requests_per_second", 127.0, NOW, "prometheus")}
    form = api.calls("/api/v1/query")[0].form()
    assert form["time"] == [f"{NOW.timestamp():.3f}"]


@pytest.mark.parametrize("body", [vector(), vector("NaN"), vector("+Inf"), vector("-Inf")])
def test_empty_or_nan_is_no_data_never_zero(make_run, api, body):
    out = run_with(make_run, api, {"api_response_time_p95": Reply(body)})
    assert out.points == []
    assert out.notes == ["api_response_time_p95: no data (empty result or NaN)"]


def test_a_bad_query_fails_alone(make_run, api):
    out = run_with(make_run, api, {
        "api_response_time_p95": Reply(vector("0.2")),
        "cpu_usage_percentage": Reply({"status": "error", "errorType": "bad_data",
                                       "error": 'invalid parameter "query": parse error'}, 400)})
    assert [p.kpi for p in out.points] == ["api_response_time_p95"]
    assert out.errors == ['cpu_usage_percentage: query refused (bad_data): invalid parameter "query": parse error']


def test_several_series_are_refused(make_run, api):
    with pytest.raises(CollectorError, match="returned 2 series"):
        run_with(make_run, api, {"api_response_time_p95": Reply(vector("1", "2"))})


def test_server_errors_after_retries_fail_the_source_once(make_run, api, waits):
    with pytest.raises(CollectorError, match="HTTP 503") as failure:
        run_with(make_run, api, {"api_response_time_p95": Reply({"status": "error", "errorType": "timeout"}, 503),
                                 "requests_per_second": Reply(vector("1"))})
    assert failure.value.source == "prometheus"
    assert len(api.calls()) == 4  # the first query's attempts; the second query is not tried against a dead server


def test_malformed_json(make_run, api):
    with pytest.raises(CollectorError, match="not JSON"):
        run_with(make_run, api, {"api_response_time_p95": Reply(b"<html>proxy error</html>")})


def test_default_queries_cover_the_dashboard():
    queries = PrometheusSource(url="http://prometheus:9090").all_queries()
    assert queries["api_response_time_p95"].startswith(
        "histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))")
    assert {"api_error_rate_percentage", "service_availability_percentage", "cpu_usage_percentage",
            "memory_usage_percentage", "disk_usage_percentage", "network_io_mb_per_second"} <= set(queries)
