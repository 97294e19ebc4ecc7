"""GitHub REST: deployments (DORA), workflow runs (CI), pull requests (reviews, onboarding, features), releases.

Lists follow `Link: rel="next"`; a token (GITHUB_TOKEN) raises the limit to 5,000 requests an hour, and
rate-limit answers wait for `x-ratelimit-reset` / `Retry-After` (see aurum.collectors.http).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import islice
from typing import Any

from aurum.collectors import devstats, dora
from aurum.collectors.base import Collected, CollectorError, Run
from aurum.collectors.http import Http, parse_time

MAX_REVIEWED = 100  # pull requests whose reviews are fetched per run


class GitHub:
    def __init__(self, run: Run):
        self.run, self.config = run, run.config
        token = run.secret("github_token")
        headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.http: Http = run.http(str(self.config.api_url), headers=headers)
        self.repo = f"/repos/{self.config.repository}"
        self.since = run.now - timedelta(days=self.config.window_days)

    def time(self, text: Any) -> datetime:
        return parse_time(self.run.source, text)

    def pages(self, path: str, params: dict[str, Any] | None = None, key: str | None = None):
        return self.http.link_pages(self.repo + path, {"per_page": 100, **(params or {})}, key,
                                    max_pages=self.config.max_pages)

    # --- deployments ---------------------------------------------------------------------------------
    def final_status(self, deployment_id: Any) -> tuple[str, datetime] | None:
        for status in self.http.json(f"{self.repo}/deployments/{deployment_id}/statuses", params={"per_page": 100}):
            if status.get("state") in dora.FINISHED:  # newest first
                return status["state"], self.time(status.get("created_at"))
        return None

    def commit_times(self, base: str | None, head: str) -> tuple[datetime, ...]:
        if base is None:
            commit = self.http.json(f"{self.repo}/commits/{head}")
            return (self.time(commit["commit"]["committer"]["date"]),)
        if base == head:
            return ()
        commits = self.pages(f"/compare/{base}...{head}", key="commits")
        return tuple(self.time(c["commit"]["committer"]["date"]) for c in commits)

    def deployments(self) -> list[dora.Deployment]:
        """Finished deployments of the environment in the window, oldest first, with their commits' times."""
        seen: list[tuple[dict, str, datetime]] = []
        for item in self.pages("/deployments", {"environment": self.config.environment}):
            final = self.final_status(item["id"])
            if final is not None:
                seen.append((item, *final))
            if self.time(item.get("created_at")) <= self.since and final and final[0] == "success":
                break  # the last success before the window: the base of the first compare
        seen.sort(key=lambda entry: entry[2])
        result, previous_sha = [], None
        for item, state, at in seen:
            commits: tuple[datetime, ...] = ()
            if state == "success":
                if at > self.since:
                    commits = self.commit_times(previous_sha, item["sha"])
                previous_sha = item["sha"]
            if at > self.since:
                result.append(dora.Deployment(id=str(item["id"]), at=at, status=state, commit_times=commits))
        return result

    # --- CI --------------------------------------------------------------------------------------------
    def workflow_runs(self) -> list[devstats.WorkflowRun]:
        path = f"/actions/workflows/{self.config.workflow}/runs" if self.config.workflow else "/actions/runs"
        params = {"status": "completed", "created": f">={self.since.date().isoformat()}"}
        runs = []
        for item in self.pages(path, params, key="workflow_runs"):
            started = item.get("run_started_at") or item.get("created_at")
            runs.append(devstats.WorkflowRun(conclusion=item.get("conclusion"), started=self.time(started),
                                             updated=self.time(item.get("updated_at"))))
        return [r for r in runs if r.started > self.since]

    # --- pull requests and releases ----------------------------------------------------------------------
    def pulls(self) -> list[devstats.PullRequest]:
        prs = []
        for item in self.pages("/pulls", {"state": "all", "sort": "created", "direction": "desc"}):
            prs.append(devstats.PullRequest(
                number=int(item["number"]), author=(item.get("user") or {}).get("login", ""),
                created=self.time(item.get("created_at")),
                merged=self.time(item["merged_at"]) if item.get("merged_at") else None,
                labels=tuple(label.get("name", "") for label in item.get("labels") or [])))
        return prs

    def first_review(self, pr: devstats.PullRequest) -> datetime | None:
        reviews = self.http.json(f"{self.repo}/pulls/{pr.number}/reviews", params={"per_page": 100})
        times = [self.time(r["submitted_at"]) for r in reviews if r.get("submitted_at")
                 and r.get("state") != "PENDING" and (r.get("user") or {}).get("login") != pr.author]
        return min(times) if times else None

    def with_reviews(self, prs: list[devstats.PullRequest]) -> list[devstats.PullRequest]:
        recent = islice((p for p in prs if p.created >= self.since), MAX_REVIEWED)
        return [devstats.PullRequest(**{**p.__dict__, "first_review": self.first_review(p)}) for p in recent]

    def releases(self, since: datetime) -> list[datetime]:
        published = []
        for item in self.pages("/releases"):
            if item.get("draft") or item.get("prerelease") or not item.get("published_at"):
                continue
            at = self.time(item["published_at"])
            if at < since:
                break
            published.append(at)
        return published


def start_dates(config) -> dict[str, datetime]:
    dates = {}
    for login, text in config.new_developers.items():
        try:
            dates[login] = datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
        except ValueError:
            raise CollectorError("github", f"new_developers.{login}: '{text}' is not a date (YYYY-MM-DD)") from None
    return dates


def collect(run: Run) -> Collected:
    gh, now, out = GitHub(run), run.now, run.collected()
    window = timedelta(days=run.config.window_days)
    deployments = gh.deployments()
    incidents = dora.restores_from_deployments(deployments) if run.config.restore_from_deployments else []
    for key, value in dora.figures(deployments, incidents, now, window).items():
        if key != "incident_recovery_time_minutes" or run.config.restore_from_deployments:
            out.add(key, value, now, run.source, f"no {dora.KPIS[key]} in the window")
    runs = gh.workflow_runs()
    out.add("ci_build_time_minutes", devstats.ci_build_minutes(runs), now, run.source, "no completed runs")
    out.add("ci_success_rate_percentage", devstats.ci_success_rate(runs), now, run.source, "no completed runs")
    prs = gh.pulls()
    out.add("code_review_time_days", devstats.review_days(gh.with_reviews(prs), gh.since), now, run.source,
            "no reviewed pull requests in the window")
    if run.config.features_from == "releases":
        features = devstats.releases_in_quarter(gh.releases(devstats.quarter_start(now, run.tz)), now, run.tz)
    else:
        features = devstats.features_by_label(prs, run.config.feature_label, now, run.tz)
    out.add("features_delivered_per_quarter", features, now, run.source)
    out.add("new_developer_productivity_days", devstats.onboarding_days(prs, now, window, start_dates(run.config)),
            now, run.source, "no new contributor merged a first pull request in the window")
    return out
