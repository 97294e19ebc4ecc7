"""The one error a collector raises: a source that could not be read."""

from __future__ import annotations


class CollectorError(Exception):
    """A source that could not be read; `str()` is a short sentence fit for `/kpi sources`."""

    def __init__(self, source: str, problem: str):
        super().__init__(f"{source}: {problem}")
        self.source = source
        self.problem = problem
