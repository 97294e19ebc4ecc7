"""Slash commands and interaction surfaces. Each module exposes register(app, ctx)."""

from commands import alerts, kpi

MODULES = [kpi, alerts]
