"""Reports: the weekly team status, the sprint retrospective, the executive dashboard, the quarterly review pack,
review reminders and the roadmap — each computed from stored snapshots and sprints, then rendered as Block Kit."""
