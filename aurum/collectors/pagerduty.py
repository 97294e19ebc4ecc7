"""PagerDuty: time to restore (MTTR) from incidents resolved in the window (`GET /incidents`, offset paging).

MTTR = mean of (resolved_at − created_at) in minutes over incidents created in the last `window_days` and
resolved; `last_status_change_at` stands in for accounts whose API omits `resolved_at`.
"""

from __future__ import annotations

from datetime import timedelta

from aurum.collectors import dora
from aurum.collectors.base import Collected, CollectorError, Run
from aurum.collectors.http import parse_time

KPI = "incident_recovery_time_minutes"


def incidents(run: Run) -> list[dora.Incident]:
    token = run.secret("pagerduty_token")
    if not token:
        raise CollectorError(run.source, "PAGERDUTY_TOKEN is not set")
    http = run.http(str(run.config.api_url), headers={
        "Accept": "application/vnd.pagerduty+json;version=2", "Authorization": f"Token token={token}"})
    since = run.now - timedelta(days=run.config.window_days)
    params: dict = {"since": since.isoformat(), "until": run.now.isoformat(), "statuses[]": "resolved",
                    "time_zone": "UTC"}
    if run.config.service_ids:
        params["service_ids[]"] = run.config.service_ids
    found = []
    for item in http.offset_pages("/incidents", params, key="incidents"):
        resolved = item.get("resolved_at") or item.get("last_status_change_at")
        if item.get("status") != "resolved" or not resolved:
            continue
        found.append(dora.Incident(id=str(item.get("id")), created=parse_time(run.source, item.get("created_at")),
                                   resolved=parse_time(run.source, resolved)))
    return found


def collect(run: Run) -> Collected:
    out = run.collected()
    window = timedelta(days=run.config.window_days)
    out.add(KPI, dora.time_to_restore(incidents(run), run.now, window), run.now, run.source,
            "no resolved incidents in the window")
    return out
