"""Collectors: each source (Prometheus, GitHub, Jira, coverage, SonarQube, PagerDuty, OpenAPI, SQL, repository
counts, scripts) turns into KPI snapshots on its own schedule. See aurum.collectors.runner for storing them."""
