"""Slash commands and interaction surfaces. Each module exposes register(app, ctx)."""

from commands import kpi, survey, survey_modal

MODULES = [kpi, survey, survey_modal]
