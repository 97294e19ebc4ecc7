"""The charts' test workspace: the demo history (fixed seed) on a fixed clock, and the demo's open sprint closed
with 38 points by `/sprint end 38` a minute later."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aurum import demo
from aurum.reports import sprints

TEAM = "T0CHARTS"
LOADED = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
NOW = LOADED + timedelta(minutes=1)
SPRINT_END = 38.0


def demo_workspace(ctx) -> None:
    ctx.clock = lambda: NOW
    with ctx.transaction() as session:
        demo.load(session, ctx.catalog, TEAM, LOADED)
        sprints.end(ctx, session, TEAM, SPRINT_END)
