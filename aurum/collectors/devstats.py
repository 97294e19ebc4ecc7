"""Developer-experience figures from GitHub records (pure functions; the definitions are in the KPI help texts).

- CI build time: median of (updated_at − run_started_at) in minutes over completed workflow runs that
  concluded success, failure or timed_out (cancelled and skipped runs say nothing about the build's length);
- CI success rate: success ÷ (success + failure + timed_out) over those runs, in percent;
- code review time: median, over pull requests opened in the window that got a review, of (first review by
  someone other than the author − opening), in days;
- features per quarter: published releases (not drafts or pre-releases), or merged pull requests carrying the
  feature label, in the current calendar quarter of the team's time zone;
- onboarding time: for each author whose first merged pull request was merged in the window, days from their
  start (the configured start date, else the opening of their first pull request) to that merge; the median.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from aurum.collectors.dora import median

CONCLUSIVE = ("success", "failure", "timed_out")
DAY = 86400.0


@dataclass(frozen=True)
class WorkflowRun:
    conclusion: str | None
    started: datetime
    updated: datetime


@dataclass(frozen=True)
class PullRequest:
    number: int
    author: str
    created: datetime
    merged: datetime | None = None
    labels: tuple[str, ...] = ()
    first_review: datetime | None = None


def ci_build_minutes(runs: Iterable[WorkflowRun]) -> float | None:
    return median((r.updated - r.started).total_seconds() / 60 for r in runs if r.conclusion in CONCLUSIVE)


def ci_success_rate(runs: Iterable[WorkflowRun]) -> float | None:
    conclusive = [r for r in runs if r.conclusion in CONCLUSIVE]
    if not conclusive:
        return None
    return sum(1 for r in conclusive if r.conclusion == "success") / len(conclusive) * 100.0


def review_days(prs: Iterable[PullRequest], since: datetime) -> float | None:
    return median((p.first_review - p.created).total_seconds() / DAY for p in prs
                  if p.created >= since and p.first_review is not None and p.first_review >= p.created)


def quarter_start(now: datetime, tz: ZoneInfo) -> datetime:
    local = now.astimezone(tz)
    return local.replace(month=(local.month - 1) // 3 * 3 + 1, day=1, hour=0, minute=0, second=0, microsecond=0)


def features_by_label(prs: Iterable[PullRequest], label: str, now: datetime, tz: ZoneInfo) -> float:
    start = quarter_start(now, tz)
    return float(sum(1 for p in prs if p.merged is not None and start <= p.merged <= now and label in p.labels))


def releases_in_quarter(published: Iterable[datetime], now: datetime, tz: ZoneInfo) -> float:
    start = quarter_start(now, tz)
    return float(sum(1 for at in published if start <= at <= now))


def onboarding_days(prs: Iterable[PullRequest], now: datetime, window: timedelta,
                    start_dates: Mapping[str, datetime]) -> float | None:
    first_opened: dict[str, datetime] = {}
    first_merged: dict[str, datetime] = {}
    for p in prs:
        first_opened[p.author] = min(first_opened.get(p.author, p.created), p.created)
        if p.merged is not None:
            first_merged[p.author] = min(first_merged.get(p.author, p.merged), p.merged)
    days = [(merged - start_dates.get(author, first_opened[author])).total_seconds() / DAY
            for author, merged in first_merged.items() if now - window < merged <= now]
    return median(d for d in days if d >= 0)
