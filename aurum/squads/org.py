"""The organisation's KPI values: each KPI's teams' values combined by its roll-up rule (aurum.kpis.rollup)."""

from __future__ import annotations

from sqlmodel import Session

from aurum.core.context import Context
from aurum.kpis import service as kpis
from aurum.kpis.catalog import Kpi
from aurum.kpis.rollup import combine
from aurum.kpis.status import KpiStatus, Point, evaluate
from aurum.squads.teams import all_squads, scope

ROLLUP_SOURCE = "teams"  # the source of an organisation's value: no one source wrote it


def _combined(kpi: Kpi, points: dict[str, Point], weights: dict[str, float]) -> Point | None:
    value = combine(kpi, {team: p.value for team, p in points.items()}, weights)
    if value is None:
        return None
    return Point(at=max(p.at for p in points.values()), value=value, source=ROLLUP_SOURCE)


def statuses(ctx: Context, session: Session, team_id: str) -> dict[str, KpiStatus]:
    """Every KPI's organisation-wide status: its latest value and the one a week before, each combined over the
    teams that have one. A workspace of one team: that team's statuses."""
    squads = all_squads(ctx.config)
    if len(squads) == 1:
        return kpis.statuses(scope(ctx, squads[0]), session, team_id)
    per_team = {squad.stored: kpis.statuses(scope(ctx, squad), session, team_id) for squad in squads}
    now, phase, result = ctx.now(), ctx.config.current_phase, {}
    for kpi in ctx.catalog:
        latest = {team: s[kpi.key].latest for team, s in per_team.items() if s[kpi.key].latest is not None}
        previous = {team: s[kpi.key].previous for team, s in per_team.items() if s[kpi.key].previous is not None}
        weights = {}
        if kpi.rollup_weight is not None:
            weights = {team: weight.value for team, s in per_team.items()
                       if (weight := s[kpi.rollup_weight].latest) is not None}
        result[kpi.key] = evaluate(kpi, _combined(kpi, latest, weights),  # type: ignore[arg-type]
                                   _combined(kpi, previous, weights), now, phase)  # type: ignore[arg-type]
    return result
