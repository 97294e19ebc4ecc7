"""Escalation beyond Slack: PagerDuty Events API v2 and e-mail, plus the alert chart, as durable tasks.

Tasks are kinds of the durable task queue (aurum.core.queue), queued in the same transaction as the alert change that
causes them and delivered by a worker of their own (apart from the Slack kinds' workers), so a PagerDuty or SMTP
outage is retried with back-off and never holds back the Slack message. PagerDuty gets `trigger`, `acknowledge`
and `resolve` with one `dedup_key` per episode, so retries and repeats never open a second incident.
"""

from __future__ import annotations

import json
import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from aurum.alerts import blocks as alert_blocks
from aurum.core import outbox
from aurum.core.context import Context
from aurum.core.queue import Handler, QueueWorker, TaskError, enqueue
from aurum.kpis import charts
from storage import alerts as repo
from storage import snapshots
from storage.alerts import AlertEpisode
from storage.queue import QueuedTask

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)
PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
KINDS = ("pagerduty", "email", "chart")
PD_SEVERITY = {"critical": "critical", "page": "critical", "error": "error", "warning": "warning", "info": "info"}

__all__ = ["KINDS", "AlertTaskWorker", "Mailer", "PagerDuty", "TaskError", "acknowledged", "dedup_key",
           "queue_chart", "resolved", "triggered"]


def dedup_key(episode: AlertEpisode) -> str:
    return f"aurum-{episode.team_id}-{episode.rule}-{episode.id}"


def _queue(session: Session, episode: AlertEpisode, key: str, kind: str, payload: dict[str, Any]) -> None:
    enqueue(session, episode.team_id, kind, payload, key)


def _pagerduty_event(episode: AlertEpisode, action: str) -> dict[str, Any]:
    event: dict[str, Any] = {"event_action": action, "dedup_key": dedup_key(episode)}
    if action == "trigger":
        details = {"rule": episode.rule, "value": episode.value, "threshold": episode.threshold, "op": episode.op,
                   "kpi": episode.kpi, "labels": json.loads(episode.labels or "{}"), "team_id": episode.team_id}
        event["payload"] = {
            "summary": (episode.summary or f"{episode.rule} firing")[:1024],
            "source": "aurum", "severity": PD_SEVERITY.get(episode.severity, "error"),
            "timestamp": episode.fired_at.isoformat(), "component": episode.kpi or episode.rule,
            "custom_details": details,
        }
        links = [{"href": url, "text": name} for name, url in (("Runbook", episode.runbook), ("Source", episode.link))
                 if url]
        if links:
            event["links"] = links
    return event


def _email(ctx: Context, episode: AlertEpisode, state: str) -> dict[str, Any]:
    rule = ctx.config.alerts.rules.get(episode.rule)
    to = ctx.config.alerts.recipients(rule) if rule else list(ctx.config.alerts.engineering_leads)
    kpi = ctx.catalog.kpis.get(episode.kpi) if episode.kpi else None
    subject = f"[{'RESOLVED' if state == 'resolved' else episode.severity.upper()}] {episode.rule}: " \
              f"{episode.summary or 'firing'}"
    lines = [episode.summary or episode.rule, "",
             f"Value: {alert_blocks.amount(kpi, episode.value)}",
             f"Threshold: {alert_blocks.threshold_text(kpi, episode.op, episode.threshold) or '-'}",
             f"Firing since: {alert_blocks.when(episode.fired_at, ctx.tz)}"]
    if state == "resolved" and episode.resolved_at:
        lines.append(f"Resolved: {alert_blocks.when(episode.resolved_at, ctx.tz)}")
    if episode.runbook:
        lines.append(f"Runbook: {episode.runbook}")
    lines += ["", "Sent by Aurum; acknowledge or snooze it in Slack."]
    return {"to": to, "subject": subject[:200], "body": "\n".join(lines)}


def triggered(ctx: Context, session: Session, episode: AlertEpisode, targets: list[str]) -> None:
    if "pagerduty" in targets:
        _queue(session, episode, f"pd:{episode.id}:trigger", "pagerduty", _pagerduty_event(episode, "trigger"))
    if "email" in targets:
        _queue(session, episode, f"email:{episode.id}:firing", "email", _email(ctx, episode, "firing"))


def acknowledged(session: Session, episode: AlertEpisode, targets: list[str]) -> None:
    if episode.escalated and "pagerduty" in targets:
        _queue(session, episode, f"pd:{episode.id}:acknowledge", "pagerduty", _pagerduty_event(episode, "acknowledge"))


def resolved(ctx: Context, session: Session, episode: AlertEpisode, targets: list[str]) -> None:
    if "pagerduty" in targets:
        _queue(session, episode, f"pd:{episode.id}:resolve", "pagerduty", _pagerduty_event(episode, "resolve"))
    if "email" in targets:
        _queue(session, episode, f"email:{episode.id}:resolved", "email", _email(ctx, episode, "resolved"))


def queue_chart(session: Session, episode: AlertEpisode) -> None:
    _queue(session, episode, f"chart:{episode.id}", "chart", {"episode_id": episode.id})


# ----- senders ----------------------------------------------------------------------------------------------------


@dataclass
class PagerDuty:
    client: httpx.Client
    routing_key: str | None
    url: str = PAGERDUTY_EVENTS_URL

    def send(self, event: dict[str, Any]) -> None:
        import httpx  # imported by the process that escalates, not by every web process

        if not self.routing_key:
            raise TaskError("PAGERDUTY_ROUTING_KEY is not set", permanent=True)
        try:
            response = self.client.post(self.url, json={"routing_key": self.routing_key, **event})
        except httpx.HTTPError as exc:
            raise TaskError(f"PagerDuty unreachable: {type(exc).__name__}") from None
        if response.status_code in (200, 201, 202):
            return
        if response.status_code == 429 or response.status_code >= 500:
            retry_after = response.headers.get("retry-after")
            raise TaskError(f"PagerDuty answered {response.status_code}",
                            retry_after=float(retry_after) if retry_after and retry_after.isdigit() else None)
        raise TaskError(f"PagerDuty refused the event ({response.status_code}): {response.text[:200]}",
                        permanent=True)


@dataclass
class Mailer:
    host: str | None
    port: int = 587
    user: str | None = None
    password: str | None = None
    sender: str = "aurum@localhost"
    starttls: bool = True
    timeout: float = 10.0

    def send(self, mail: dict[str, Any]) -> None:
        import smtplib  # with the e-mail package: loaded by the process that escalates
        from email.message import EmailMessage

        if not self.host:
            raise TaskError("SMTP_HOST is not set", permanent=True)
        if not mail.get("to"):
            raise TaskError("no recipients: set alerts.engineering_leads or the rule's email_to", permanent=True)
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, ", ".join(mail["to"]), mail["subject"]
        message.set_content(mail["body"])
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                smtp.ehlo()
                if self.starttls and smtp.has_extn("starttls"):
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                if self.user:
                    smtp.login(self.user, self.password or "")
                smtp.send_message(message)
        except smtplib.SMTPResponseException as exc:
            raise TaskError(f"SMTP server answered {exc.smtp_code}", permanent=500 <= exc.smtp_code < 600
                            and exc.smtp_code not in (521, 554)) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise TaskError(f"SMTP failed: {type(exc).__name__}") from None


# ----- the worker -------------------------------------------------------------------------------------------------


class Escalation(Handler):
    """An alert task kind: one call to PagerDuty or an SMTP server, or a chart rendered and queued for Slack."""

    counter = "alert_tasks"
    claim_for = timedelta(minutes=2)  # an SMTP conversation or a chart may take a while; never two at once

    def __init__(self, send: Callable[[QueuedTask, dict[str, Any]], None]):
        self.send = send

    def run(self, task: QueuedTask, payload: dict[str, Any], prepared: None) -> None:
        self.send(task, payload)


def _need(sender: Any, name: str) -> Any:
    if sender is None:
        raise TaskError(f"{name} is not configured in this process", permanent=True)
    return sender


def handlers(ctx: Context, pagerduty: PagerDuty | None, mailer: Mailer | None) -> dict[str, Handler]:
    return {"pagerduty": Escalation(lambda _task, event: _need(pagerduty, "PagerDuty").send(event)),
            "email": Escalation(lambda _task, mail: _need(mailer, "SMTP").send(mail)),
            "chart": Escalation(lambda task, payload: _chart(ctx, task, payload))}


class AlertTaskWorker(QueueWorker):
    """The queue worker for the alert kinds (PagerDuty, e-mail, chart)."""

    name = "alert task"
    # Polls: clearing the wake-up event shared with the Slack workers could make one of them miss it, and half a
    # second matters for a reply in Slack, not for a page or an e-mail.
    woken_by_commits = False

    def __init__(self, ctx: Context, pagerduty: PagerDuty | None = None, mailer: Mailer | None = None):
        super().__init__(ctx, handlers(ctx, pagerduty, mailer))


def _chart(ctx: Context, task: QueuedTask, payload: dict[str, Any]) -> None:
    with ctx.serving(task.team_id):  # the workspace's own rules and KPIs
        _draw_chart(ctx, task, payload)


def _draw_chart(ctx: Context, task: QueuedTask, payload: dict[str, Any]) -> None:
    with ctx.reading() as session:
        episode = repo.episode(session, task.team_id, payload["episode_id"])
        if episode is None or episode.post_key is None or episode.kpi not in ctx.catalog.kpis:
            return
        kpi = ctx.catalog.kpis[episode.kpi]
        rule = ctx.config.alerts.rules.get(episode.rule)
        window = min(timedelta(days=90), max(timedelta(hours=6), 12 * rule.max_age if rule else timedelta(0)))
        points = snapshots.series(session, task.team_id, kpi.key, since=episode.fired_at - window,
                                  until=episode.fired_at + window)
    title = f"{kpi.name} — {episode.rule}"
    line = charts.Line(f"threshold {alert_blocks.threshold_text(kpi, episode.op, episode.threshold)}",
                       episode.threshold or 0.0, "#cf222e", "-")
    png = charts.kpi_chart(kpi, points, ctx.tz, title, extra_lines=[line])
    alt = charts.kpi_alt_text(kpi, points, ctx.tz, f"{title}, around when the alert fired",
                              f"The alert's {line.label} is drawn in red.")
    with ctx.transaction() as session:
        outbox.upload(session, task.team_id, "", png, filename=f"{episode.rule}.png", title=title,
                      thread_key=episode.post_key, key=f"{episode.post_key}:chart", alt_text=alt)
