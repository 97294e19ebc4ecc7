"""Slash commands and interaction surfaces. Each module exposes register(app, ctx)."""

from commands import alerts, blocker, home, kpi, kudos, report, roadmap, settings, sprint, survey, survey_modal

MODULES = [kpi, alerts, survey, survey_modal, blocker, sprint, report, roadmap, kudos, home, settings]
