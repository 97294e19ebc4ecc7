"""The domain of the Aurum bot, one sub-package per capability; imports run from the top of this list down.

- `config`, `home`, `demo`: what gathers every capability (the config file's schema, the App Home, demo data)
- `reports`: weekly summaries, sprint retrospectives, executive and quarterly reports, reminders, notes
- `surveys`, `alerts`, `forecast`, `recognition`: the Friday survey, alerting, forecasts, kudos and celebrations
- `collectors`: the numbers from Prometheus, GitHub, Jira, coverage, SonarQube, PagerDuty, SQL and CI events
- `kpis`: the catalogue, status, the KPI service, charts, dashboards
- `core`: context, delivery, the durable queue, jobs, periods, ingest, errors, telemetry, tokens
"""
