"""Alerts: rules as data, a Prometheus-compatible engine, one Slack message per episode, escalation."""
