"""Slash commands and interaction surfaces. Each module exposes register(app, ctx)."""

from commands import alerts, kpi, survey, survey_modal

MODULES = [kpi, alerts, survey, survey_modal]
