"""SonarQube: `GET /api/measures/component?component=KEY&metricKeys=…` (values are strings).

The token (SONAR_TOKEN) is sent as the basic-auth user name, which every SonarQube version accepts.
"""

from __future__ import annotations

from aurum.collectors.base import Collected, CollectorError, Run
from aurum.collectors.http import finite


def collect(run: Run) -> Collected:
    token = run.secret("sonar_token")
    http = run.http(str(run.config.url), auth=(token, "") if token else None)
    metrics = run.config.metrics
    body = http.json("/api/measures/component",
                     params={"component": run.config.project, "metricKeys": ",".join(metrics)})
    component = body.get("component") if isinstance(body, dict) else None
    if not isinstance(component, dict) or not isinstance(component.get("measures"), list):
        raise CollectorError(run.source, "unexpected answer: no component measures")
    values = {m.get("metric"): m.get("value") for m in component["measures"] if isinstance(m, dict)}
    out = run.collected()
    for metric, kpi in metrics.items():
        out.add(kpi, finite(values.get(metric)), run.now, run.source, f"SonarQube has no {metric} for the project")
    return out
