"""Slash commands and interaction surfaces. Each module exposes register(app, ctx)."""

from commands import blocker, home, kpi, kudos, report, roadmap, sprint

MODULES = [kpi, blocker, sprint, report, roadmap, kudos, home]
