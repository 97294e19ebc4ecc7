"""The GitHub collector against a local server speaking GitHub's REST wire format, on the hand-built history."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from aurum.collectors import github
from aurum.collectors.base import CollectorError
from aurum.collectors.config import GithubSource
from tests.collectors import dora_data as data
from tests.collectors.conftest import NOW, iso
from tests.fakes.http_api import Reply

REPO = "/repos/acme/aurum"
D, M = timedelta(days=1), timedelta(minutes=1)


def paged(api, path: str, items: list, size: int = 2, key: str | None = None):
    """Serve `items` `size` at a time with GitHub's Link header."""
    def reply(request):
        page = int(request.param("page", "1"))
        chunk = items[(page - 1) * size: page * size]
        more = page * size < len(items)
        link = {"Link": f'<{api.url}{path}?page={page + 1}>; rel="next", <{api.url}{path}?page=9>; rel="last"'} \
            if more else {}
        return Reply({"total_count": len(items), key: chunk} if key else chunk, headers=link)
    api.on("GET", path, reply)


def serve_deployments(api):
    newest_first = list(reversed(data.DEPLOYMENTS))
    paged(api, f"{REPO}/deployments", [
        {"id": n, "sha": f"sha-{i}", "environment": "production", "created_at": iso(at - 5 * M)}
        for n, (i, _status, at, _) in enumerate(newest_first)])
    for n, (_i, status, at, _) in enumerate(newest_first):
        api.on("GET", f"{REPO}/deployments/{n}/statuses", Reply([
            {"state": status, "created_at": iso(at)}, {"state": "in_progress", "created_at": iso(at - 4 * M)}]))
    previous = None
    for i, status, at, offsets in data.DEPLOYMENTS:
        if status != "success":
            continue
        commits = [{"sha": f"c-{i}-{h}", "commit": {"committer": {"date": iso(t)}, "author": {"date": iso(t - D)}}}
                   for h, t in zip(offsets, data.commit_times(offsets, at), strict=True)]
        if previous is not None:
            paged(api, f"{REPO}/compare/sha-{previous}...sha-{i}", commits, key="commits")
        api.on("GET", f"{REPO}/commits/sha-{i}", Reply(commits[0]))
        previous = i


def run(start, minutes, conclusion):
    return {"status": "completed", "conclusion": conclusion, "run_started_at": iso(start),
            "created_at": iso(start), "updated_at": iso(start + minutes * M), "run_attempt": 1}


RUNS = [run(NOW - 2 * D, 10, "success"), run(NOW - 3 * D, 12, "success"), run(NOW - 4 * D, 4, "failure"),
        run(NOW - 5 * D, 60, "timed_out"), run(NOW - 6 * D, 1, "cancelled"), run(NOW - 7 * D, 8, "success")]


def pr(number, author, created, merged=None, labels=()):
    return {"number": number, "user": {"login": author}, "created_at": iso(created),
            "merged_at": iso(merged) if merged else None, "labels": [{"name": n} for n in labels],
            "author_association": "MEMBER"}


PULLS = [pr(6, "erin", NOW - 3 * D), pr(5, "dave", NOW - 8 * D, NOW - 7 * D),
         pr(3, "bob", NOW - 6 * D), pr(2, "alice", NOW - 10 * D, NOW - 9 * D),
         pr(4, "carol", NOW - 20 * D, NOW - 15 * D, ["feature"]), pr(1, "alice", NOW - 100 * D, NOW - 99 * D)]
REVIEWS = {6: [("bob", None, "PENDING")], 5: [], 3: [("bob", 1 / 24, "COMMENTED"), ("alice", 2, "APPROVED")],
           2: [("bob", 1, "APPROVED")], 4: [("alice", 0.5, "CHANGES_REQUESTED"), ("bob", 1.5, "APPROVED")]}
RELEASES = [("2026-11-20T10:00:00Z", False, False), ("2026-11-01T10:00:00Z", False, True),
            (None, True, False), ("2026-10-15T10:00:00Z", False, False), ("2026-09-30T10:00:00Z", False, False)]


@pytest.fixture
def gh(api):
    serve_deployments(api)
    paged(api, f"{REPO}/actions/runs", RUNS, key="workflow_runs")
    paged(api, f"{REPO}/pulls", PULLS)
    created = {p["number"]: datetime.fromisoformat(p["created_at"]) for p in PULLS}
    for number, reviews in REVIEWS.items():
        api.on("GET", f"{REPO}/pulls/{number}/reviews", Reply([
            {"user": {"login": who}, "state": state,
             "submitted_at": iso(created[number] + after * D) if after is not None else None}
            for who, after, state in reviews]))
    paged(api, f"{REPO}/releases", [{"published_at": at, "draft": draft, "prerelease": pre}
                                    for at, draft, pre in RELEASES])
    return api


def collect(make_run, api, **config):
    settings = GithubSource(repository="acme/aurum", api_url=api.url, **config)
    out = github.collect(make_run("github", settings, github_token="ghp_test"))
    return {p.kpi: p.value for p in out.points}, out


def test_github_figures_equal_the_hand_computed_ones(make_run, gh):
    values, out = collect(make_run, gh)
    assert values == {
        "deployments_per_week": data.DEPLOYS_PER_WEEK,
        "lead_time_for_changes_hours": data.LEAD_TIME_HOURS,
        "change_failure_rate_percentage": pytest.approx(data.CHANGE_FAILURE_RATE),
        "ci_build_time_minutes": 10.0,  # median of 10, 12, 4, 60, 8 (cancelled left out)
        "ci_success_rate_percentage": 60.0,  # 3 of 5 conclusive runs
        "code_review_time_days": 1.0,  # median of 1 (#2), 2 (#3; bob's own review ignored), 0.5 (#4)
        "features_delivered_per_quarter": 2.0,  # 20 Nov and 15 Oct; no draft, pre-release or Q3 release
        "new_developer_productivity_days": 3.0,  # carol 5 days, dave 1 day; alice is not new
    }
    assert all(p.at == NOW and p.source == "github" for p in out.points)
    assert gh.calls(f"{REPO}/deployments")[0].headers["Authorization"] == "Bearer ghp_test"
    assert gh.calls(f"{REPO}/deployments")[0].param("environment") == "production"
    assert len(gh.calls(f"{REPO}/deployments")) == 4  # Link pages until D0, the success before the window


def test_github_options_restore_time_label_features_and_start_dates(make_run, gh):
    values, _ = collect(make_run, gh, restore_from_deployments=True, features_from="label",
                        new_developers={"carol": "2026-11-05"})
    assert values["incident_recovery_time_minutes"] == data.RESTORE_FROM_DEPLOYMENTS_MINUTES
    assert values["features_delivered_per_quarter"] == 1.0  # carol's merged PR labelled feature
    assert values["new_developer_productivity_days"] == 4.25  # carol 7.5 days from 5 Nov, dave 1


def test_github_rate_limit_then_success(make_run, gh, waits):
    first = gh.routes[("GET", f"{REPO}/actions/runs")][0]
    reset = str(int(NOW.timestamp()) + 12)
    gh.on("GET", f"{REPO}/actions/runs", Reply({"message": "API rate limit exceeded"}, 403,
                                                {"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset}), first)
    values, _ = collect(make_run, gh)
    assert values["ci_success_rate_percentage"] == 60.0
    assert 12.0 in waits


def test_github_bad_token(make_run, api):
    api.on("GET", f"{REPO}/deployments", Reply({"message": "Bad credentials"}, 401))
    with pytest.raises(CollectorError, match="^github: .*credentials were refused"):
        collect(make_run, api)
