"""The forecasts' t quantile and chi-squared tail against SciPy's (a reference nobody here wrote)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import chdtrc, stdtrit

from aurum.forecast.distributions import chi2_survival, t_quantile


@pytest.mark.parametrize("df", [1, 2, 3, 4, 5, 6, 7, 10, 25, 88, 89, 179, 365, 1000])
@pytest.mark.parametrize("p", [0.55, 0.9, 0.95, 0.975, 0.995])
def test_t_quantile_equals_scipy(df, p):
    assert t_quantile(df, p) == pytest.approx(float(stdtrit(df, p)), rel=1e-9, abs=1e-12)


@settings(max_examples=300, deadline=None)
@given(df=st.integers(1, 400), p=st.floats(0.501, 0.9999))
def test_t_quantile_equals_scipy_anywhere(df, p):
    assert t_quantile(df, p) == pytest.approx(float(stdtrit(df, p)), rel=1e-8)


@settings(max_examples=500, deadline=None)
@given(df=st.integers(1, 60), x=st.floats(0.0, 300.0))
def test_chi2_survival_equals_scipy(df, x):
    expected = float(chdtrc(df, x))
    assert chi2_survival(df, x) == pytest.approx(expected, rel=1e-9, abs=1e-300 if expected == 0 else 1e-15)


def test_out_of_range_arguments_are_refused():
    for bad in ((0, 0.9), (5, 0.5), (5, 1.0)):
        with pytest.raises(ValueError):
            t_quantile(*bad)
    with pytest.raises(ValueError):
        chi2_survival(0, 1.0)
    assert chi2_survival(3, 0.0) == 1.0 and chi2_survival(3, -1.0) == 1.0
    assert math.isclose(chi2_survival(2, 2.0), math.exp(-1.0))
