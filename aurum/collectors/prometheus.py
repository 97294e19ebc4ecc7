"""Prometheus: one instant query per KPI (`POST /api/v1/query`, form-encoded, evaluated at the run's time).

An empty vector, NaN or ±Inf is "no data" and stores nothing; a query that returns several series is refused
(aggregate it with sum() or avg()), so the KPI never shows one arbitrary series.
"""

from __future__ import annotations

from datetime import datetime

from aurum.collectors.base import Collected, CollectorError, Run
from aurum.collectors.http import Http, decode, finite


def query(http: Http, promql: str, at: datetime) -> float | None:
    """The value of an instant query at `at`; None for no data."""
    response = http.request("POST", "/api/v1/query", data={"query": promql, "time": f"{at.timestamp():.3f}"},
                            accept=(400, 422))
    body = decode(http.source, response)
    if not isinstance(body, dict) or body.get("status") != "success":
        error = body.get("error", "unknown error") if isinstance(body, dict) else "unexpected answer"
        kind = body.get("errorType", "error") if isinstance(body, dict) else "error"
        raise CollectorError(http.source, f"query refused ({kind}): {error}")
    data = body.get("data") or {}
    kind, result = data.get("resultType"), data.get("result")
    if kind == "scalar" and isinstance(result, list) and len(result) == 2:
        return finite(result[1])
    if kind != "vector" or not isinstance(result, list):
        raise CollectorError(http.source, f"expected an instant vector or scalar, got {kind!r}")
    if not result:
        return None
    if len(result) > 1:
        raise CollectorError(http.source, f"the query returned {len(result)} series; aggregate it to one "
                                          "(sum(), avg() or max())")
    sample = result[0].get("value") if isinstance(result[0], dict) else None
    if not isinstance(sample, list) or len(sample) != 2:
        raise CollectorError(http.source, "a sample without a value")
    return finite(sample[1])


def collect(run: Run) -> Collected:
    http = run.http(str(run.config.url))
    out = run.collected()
    for kpi, promql in run.config.all_queries().items():
        try:
            value = query(http, promql, run.now)
        except CollectorError as exc:
            if not out.points and not out.notes and "query refused" not in exc.problem:
                raise  # the server itself is unreachable: one error, not one per query
            out.errors.append(f"{kpi}: {exc.problem}")
            continue
        out.add(kpi, value, run.now, run.source, "no data (empty result or NaN)")
    return out.finish(run.source)
