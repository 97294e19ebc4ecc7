"""Forecasts: when each KPI reaches its targets, with 80 % intervals calibrated on the errors of past forecasts."""
