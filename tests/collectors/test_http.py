"""The shared HTTP helper against a local server: retries, Retry-After, rate-limit reset, pagination, failures."""

from __future__ import annotations

import email.utils
from datetime import timedelta

import pytest

from aurum.collectors.base import CollectorError
from aurum.collectors.http import Http, make_client, parse_time
from tests.collectors.conftest import NOW
from tests.fakes.http_api import Reply


@pytest.fixture
def http(api, waits):
    client = make_client(timeout=0.3)
    yield Http("github", client, base_url=api.url, backoff=0.25, sleep=waits.append, clock=lambda: NOW.timestamp())
    client.close()


def test_429_waits_for_retry_after_seconds_then_succeeds(api, http, waits):
    api.on("GET", "/x", Reply({"error": "slow down"}, 429, {"Retry-After": "7"}), Reply({"ok": True}))
    assert http.json("/x") == {"ok": True}
    assert waits == [7.0]
    assert len(api.calls("/x")) == 2


def test_retry_after_as_http_date(api, http, waits):
    later = email.utils.format_datetime(NOW + timedelta(seconds=30), usegmt=True)
    api.on("GET", "/x", Reply("", 503, {"Retry-After": later}), Reply({"ok": 1}))
    assert http.json("/x") == {"ok": 1}
    assert waits == [30.0]


def test_github_rate_limit_waits_until_reset(api, http, waits):
    reset = str(int(NOW.timestamp()) + 42)
    api.on("GET", "/x", Reply({"message": "API rate limit exceeded"}, 403,
                              {"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset}), Reply([1]))
    assert http.json("/x") == [1]
    assert waits == [42.0]


def test_5xx_backs_off_exponentially_and_names_the_source(api, http, waits):
    api.on("GET", "/x", Reply({"error": "boom"}, 502))
    with pytest.raises(CollectorError) as failure:
        http.json("/x")
    assert waits == [0.25, 0.5, 1.0]
    assert str(failure.value) == "github: /x: HTTP 502 (after 4 attempts)"


def test_a_wait_longer_than_allowed_gives_up_at_once(api, http, waits):
    api.on("GET", "/x", Reply({}, 429, {"Retry-After": "3600"}))
    with pytest.raises(CollectorError, match="asks to wait 3600 s"):
        http.json("/x")
    assert waits == []


def test_401_is_not_retried(api, http, waits):
    api.on("GET", "/x", Reply({"message": "Bad credentials"}, 401))
    with pytest.raises(CollectorError, match="credentials were refused"):
        http.json("/x")
    assert len(api.calls("/x")) == 1 and waits == []


def test_timeout_is_retried_then_reported(api, http, waits):
    api.on("GET", "/slow", Reply({"late": True}, delay=1.0))
    with pytest.raises(CollectorError, match="timed out"):
        http.json("/slow")
    assert len(waits) == 3


def test_malformed_json_is_a_collector_error(api, http):
    api.on("GET", "/x", Reply(b"{not json", 200))
    with pytest.raises(CollectorError, match="not JSON"):
        http.json("/x")


def test_link_header_pagination(api, http):
    def page(request):
        number = int(request.param("page", "1"))
        link = {"Link": f'<{api.url}/items?page={number + 1}&per_page=2>; rel="next"'} if number < 3 else {}
        return Reply([number * 10, number * 10 + 1], headers=link)

    api.on("GET", "/items", page)
    assert list(http.link_pages("/items", {"per_page": 2})) == [10, 11, 20, 21, 30, 31]
    assert [c.param("page") for c in api.calls("/items")] == [None, "2", "3"]


def test_start_at_pagination_ends_on_is_last_and_on_total(api, http):
    values = list(range(5))

    def sprints(request):
        start, size = int(request.param("startAt")), int(request.param("maxResults"))
        chunk = values[start:start + size]
        return Reply({"startAt": start, "maxResults": size, "isLast": start + size >= len(values), "values": chunk})

    def issues(request):
        start = int(request.param("startAt"))
        chunk = [{"n": i} for i in range(3)][start:start + 2]
        return Reply({"startAt": start, "maxResults": 2, "total": 3, "issues": chunk})

    api.on("GET", "/sprints", sprints)
    api.on("GET", "/issues", issues)
    assert list(http.start_at_pages("/sprints", page_size=2)) == values
    assert [n["n"] for n in http.start_at_pages("/issues", key="issues", page_size=2)] == [0, 1, 2]
    assert len(api.calls("/issues")) == 2


def test_offset_pagination_follows_more(api, http):
    def incidents(request):
        offset = int(request.param("offset"))
        return Reply({"incidents": [offset, offset + 1], "offset": offset, "limit": 2, "more": offset < 2})

    api.on("GET", "/incidents", incidents)
    assert list(http.offset_pages("/incidents", key="incidents", limit=2)) == [0, 1, 2, 3]


def test_unreachable_server(waits):
    client = make_client(timeout=0.5)
    http = Http("sonarqube", client, base_url="http://127.0.0.1:9", backoff=0.01, sleep=waits.append)
    with pytest.raises(CollectorError, match=r"^sonarqube: cannot connect"):
        http.json("/api/measures/component")
    client.close()


def test_api_times_parse_to_utc():
    assert parse_time("jira", "2026-11-27T10:00:00.000+0100").isoformat() == "2026-11-27T09:00:00+00:00"
    assert parse_time("github", "2026-11-27T10:00:00Z").isoformat() == "2026-11-27T10:00:00+00:00"
    with pytest.raises(CollectorError):
        parse_time("github", "yesterday")
