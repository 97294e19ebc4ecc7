"""The errors every capability may raise: bad input from a person, answered with what is wrong and how to fix it."""

from __future__ import annotations


class InputError(ValueError):
    """Bad user input; the message says what is wrong and how to fix it."""


class ImpossibleValue(InputError):
    """A value its KPI cannot hold (aurum.kpis.catalog.check_value); nothing of the write is stored."""
