"""Hypothesis strategies for the KPIs' allowed ranges, shared by the tests of every writer."""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from aurum.kpis.catalog import Kpi, load_catalog

CATALOG = load_catalog()
KPIS = sorted(CATALOG, key=lambda k: k.key)
FAR = 1e12  # how far beyond a bound the strategies go (and the stand-in for "no bound" inside)

# Over HTTP: few examples, the same ones on every run; the fixtures (server, database) are shared by the examples,
# so each example compares counts before and after itself.
HTTP = settings(max_examples=25, derandomize=True, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def inside(kpi: Kpi) -> st.SearchStrategy[float]:
    low, high = kpi.allowed
    return st.floats(min_value=-FAR if low is None else low, max_value=FAR if high is None else high,
                     allow_nan=False, allow_infinity=False, allow_subnormal=False)


def outside(kpi: Kpi) -> st.SearchStrategy[float]:
    low, high = kpi.allowed
    sides = []
    if low is not None:
        sides.append(st.floats(min_value=low - FAR, max_value=low, exclude_max=True, allow_subnormal=False))
    if high is not None:
        sides.append(st.floats(min_value=high, max_value=high + FAR, exclude_min=True, allow_subnormal=False))
    return st.one_of(sides)


def possible(kpi: Kpi, value: float) -> bool:
    """The test's own oracle: plain comparisons with the KPI's range."""
    low, high = kpi.allowed
    return (low is None or value >= low) and (high is None or value <= high)


@st.composite
def entries(draw, kpis: list[Kpi] = KPIS) -> tuple[Kpi, float, bool]:
    """A KPI, a value, and whether the value is inside its range (both kinds drawn about equally)."""
    kpi = draw(st.sampled_from(kpis))
    good = draw(st.booleans())
    value = draw(inside(kpi) if good else outside(kpi))
    assert possible(kpi, value) == good
    return kpi, value, good
