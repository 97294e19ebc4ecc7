"""Anonymous surveys: the Friday team satisfaction survey and the monthly stakeholder feedback.

model (definitions and the `surveys:` config section) · schedule (jobs, periods, holidays) · runs (open, remind,
close) · answers (validation and anonymous storage) · results (aggregates, thresholds, themes) · blocks (Block Kit)
· export (CSV).
"""
