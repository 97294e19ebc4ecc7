"""What every capability stands on: the `Context` a process builds once, the delivery seam (post, update, upload),
the one durable task queue and the Slack outbox on it, scheduled jobs and their once-per-period claims, crontab
lines and the team's periods, the one write path of snapshots (`ingest`), input errors, the bot's own counters, and
API tokens. Nothing here imports a capability."""
