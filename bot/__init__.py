"""The Slack-facing side of the Aurum bot: settings, Bolt app, HTTP server, scheduler and CLI."""
