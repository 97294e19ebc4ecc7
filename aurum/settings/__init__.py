"""Settings admins change from Slack's App Home: a KPI's target, the channels, the schedules, the survey anonymity
threshold and an alert rule (with a dry run over the stored series). Each change is checked as the config file is
and stored as the workspace's settings (aurum.core.settings), which every process takes up without a restart."""
