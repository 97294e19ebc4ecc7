"""The two tail probabilities the forecasts need, for whole degrees of freedom: Student's t quantile (the fallback
interval) and the chi-squared survival function (the Kruskal–Wallis seasonality test).

Both are the exact finite sums for integer degrees of freedom (Abramowitz & Stegun 26.7.3–4 for t, 26.4.4–5 for
chi-squared) in the standard library's floating point, checked against SciPy in tests/forecast/test_distributions.py.
They replace `scipy.special`, whose import alone made a work process 16 MB larger (of a 250 MB budget for the web and
work processes together) for two numbers per forecast.
"""

from __future__ import annotations

import math


def t_two_sided(t: float, df: int) -> float:
    """P(|T| <= t) for Student's t with `df` degrees of freedom (t >= 0)."""
    theta = math.atan(t / math.sqrt(df))
    sin, cos2 = math.sin(theta), math.cos(theta) ** 2
    if df % 2:  # odd: (2/π)(θ + sinθ·cosθ·(1 + 2/3·cos²θ + (2·4)/(3·5)·cos⁴θ + …))
        if df == 1:
            return 2 * theta / math.pi
        term = total = 1.0
        for k in range(1, (df - 3) // 2 + 1):
            term *= cos2 * (2 * k) / (2 * k + 1)
            total += term
        return 2 / math.pi * (theta + sin * math.cos(theta) * total)
    term = total = 1.0  # even: sinθ·(1 + 1/2·cos²θ + (1·3)/(2·4)·cos⁴θ + …)
    for k in range(1, (df - 2) // 2 + 1):
        term *= cos2 * (2 * k - 1) / (2 * k)
        total += term
    return sin * total


def t_quantile(df: int, p: float) -> float:
    """The t with P(T <= t) = p, for p in (0.5, 1): found by bisection on the exact distribution function."""
    if not 0.5 < p < 1 or df < 1:
        raise ValueError(f"t quantile needs 0.5 < p < 1 and df >= 1, got p={p}, df={df}")
    wanted = 2 * p - 1
    low, high = 0.0, 1.0
    while t_two_sided(high, df) < wanted:
        low, high = high, high * 2
    for _ in range(200):
        middle = (low + high) / 2
        if middle in (low, high):
            break
        if t_two_sided(middle, df) < wanted:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def chi2_survival(df: int, x: float) -> float:
    """P(X > x) for chi-squared with `df` degrees of freedom."""
    if df < 1:
        raise ValueError(f"chi-squared needs df >= 1, got {df}")
    if x <= 0:
        return 1.0
    half = x / 2
    if df % 2 == 0:  # e^(-x/2) Σ_{i < df/2} (x/2)^i / i!
        term = total = 1.0
        for i in range(1, df // 2):
            term *= half / i
            total += term
        return min(1.0, math.exp(-half) * total)
    total = math.erfc(math.sqrt(half))  # odd: erfc(√(x/2)) + e^(-x/2) Σ_{i=1}^{(df-1)/2} (x/2)^(i-1/2) / Γ(i+1/2)
    if df > 1:
        term = math.sqrt(half) / math.gamma(1.5)
        series = term
        for i in range(2, (df - 1) // 2 + 1):
            term *= half / (i - 0.5)
            series += term
        total += math.exp(-half) * series
    return min(1.0, total)
