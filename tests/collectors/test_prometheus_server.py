"""A real Prometheus (Debian's package, started here on loopback) scraping a small exporter with known histograms:
the bot's p95 equals Prometheus's own histogram_quantile answer at the same evaluation time."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from prometheus_client import CollectorRegistry, Histogram, start_http_server
from prometheus_client.registry import Collector

from aurum.collectors import prometheus
from aurum.collectors.base import Run
from aurum.collectors.config import DEFAULT_QUERIES, PrometheusSource
from aurum.collectors.http import make_client

pytestmark = [
    pytest.mark.prometheus,
    pytest.mark.skipif(shutil.which("prometheus") is None,
                       reason="the prometheus binary is not installed (bash .ci/run installs Debian's package)"),
]
BUCKETS = (0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.5)
# Every scrape first observes this batch: 50 × 80 ms, 30 × 150 ms, 15 × 250 ms, 5 × 800 ms. By hand, with linear
# interpolation inside a bucket: p95 = 0.2 + 0.1 × (95 − 80) / 15 = 0.3 s; p99 = 0.5 + 0.5 × (99 − 95) / 5 = 0.9 s.
BATCH = [0.08] * 50 + [0.15] * 30 + [0.25] * 15 + [0.8] * 5


class TrafficPerScrape(Collector):
    """A histogram that grows by the same batch at every scrape, so its rate is steady without any timer."""

    def __init__(self, registry: CollectorRegistry):
        self.histogram = Histogram("http_request_duration_seconds", "API request duration", buckets=BUCKETS,
                                   registry=None)
        registry.register(self)

    def collect(self):
        for value in BATCH:
            self.histogram.observe(value)
        yield from self.histogram.collect()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.2)  # polling a real server's readiness with a deadline
    raise AssertionError(f"{what} not within {seconds} s")


@pytest.fixture(scope="module")
def prometheus_url(tmp_path_factory):
    registry = CollectorRegistry()
    TrafficPerScrape(registry)
    server, thread = start_http_server(0, addr="127.0.0.1", registry=registry)
    folder = tmp_path_factory.mktemp("prometheus")
    (folder / "prometheus.yml").write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        "scrape_configs:\n"
        f"  - job_name: api\n    static_configs: [{{targets: ['127.0.0.1:{server.server_port}']}}]\n")
    port = free_port()
    log = (folder / "prometheus.log").open("w")
    process = subprocess.Popen(
        ["prometheus", f"--config.file={folder / 'prometheus.yml'}", f"--storage.tsdb.path={folder / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"prometheus exited: {(folder / 'prometheus.log').read_text()[-2000:]}")
        try:
            return httpx.get(url + "/-/ready", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(ready, 30, "prometheus ready")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        log.close()
        server.shutdown()
        server.server_close()


def prometheus_answer(url: str, promql: str, at: float) -> float | None:
    body = httpx.post(url + "/api/v1/query", data={"query": promql, "time": f"{at:.3f}"}, timeout=5).json()
    result = body["data"]["result"]
    return float(result[0]["value"][1]) if result else None


def test_bot_p95_equals_prometheus_histogram_quantile(prometheus_url):
    promql = DEFAULT_QUERIES["api_response_time_p95"]
    # Enough scrapes for rate() over [5m]: a number (not NaN) answer at the newest second.
    wait_until(lambda: (prometheus_answer(prometheus_url, promql, time.time()) or 0) > 0, 45, "a p95 from rate()")
    at = datetime.fromtimestamp(round(time.time(), 3), UTC)
    config = PrometheusSource(url=prometheus_url, defaults=False, queries={
        "api_response_time_p95": promql, "api_response_time_p99": DEFAULT_QUERIES["api_response_time_p99"]})
    with make_client(5) as client:
        out = prometheus.collect(Run(source="prometheus", config=config, now=at, tz=ZoneInfo("UTC"), client=client))
    bot = {p.kpi: p.value for p in out.points}
    theirs = prometheus_answer(prometheus_url, "histogram_quantile(0.95, sum by (le) "
                                               "(rate(http_request_duration_seconds_bucket[5m])))", at.timestamp())
    assert bot["api_response_time_p95"] == theirs * 1000
    assert bot["api_response_time_p95"] == pytest.approx(300.0)  # the hand-computed value
    assert bot["api_response_time_p99"] == pytest.approx(900.0)
    assert all(p.at == at for p in out.points)


def test_an_unknown_metric_is_no_data(prometheus_url):
    config = PrometheusSource(url=prometheus_url, defaults=False, queries={
        "cpu_usage_percentage": DEFAULT_QUERIES["cpu_usage_percentage"]})
    with make_client(5) as client:
        out = prometheus.collect(Run(source="prometheus", config=config, now=datetime.now(UTC), tz=ZoneInfo("UTC"),
                                     client=client))
    assert out.points == [] and out.notes == ["cpu_usage_percentage: no data (empty result or NaN)"]
