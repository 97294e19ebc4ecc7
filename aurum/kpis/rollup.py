"""The organisation's value of a KPI from its teams' values, by the KPI's roll-up rule (catalog.Kpi.rollup_rule):

- sum: the teams' values added up (counts, story points, requests per second);
- mean: their plain mean (shares such as coverage, survey scores);
- worst: the worst team's value, by the KPI's direction (latencies, durations);
- weighted: their mean weighted by another KPI's value of each team (an error rate weighed by traffic); teams
  without a weight, or all weights zero, fall back to the plain mean.
"""

from __future__ import annotations

from collections.abc import Mapping

from aurum.kpis.catalog import Kpi


def combine(kpi: Kpi, values: Mapping[str, float], weights: Mapping[str, float] | None = None) -> float | None:
    """The organisation's value from {team: value}; None without any value."""
    if not values:
        return None
    numbers = list(values.values())
    rule = kpi.rollup_rule
    if rule == "sum":
        return sum(numbers)
    if rule == "worst":
        return min(numbers) if kpi.direction == "higher" else max(numbers)
    if rule == "weighted":
        weighed = {team: weights[team] for team in values if weights and weights.get(team, 0) > 0}
        if len(weighed) == len(values):
            return sum(values[team] * weight for team, weight in weighed.items()) / sum(weighed.values())
    return sum(numbers) / len(numbers)
