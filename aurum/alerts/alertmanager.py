"""Alertmanager's webhook (payload version 4): its alerts go through the same one-message lifecycle, by fingerprint.

Alertmanager repeats a firing alert every repeat interval and sends each alert again when its group changes;
an alert is one episode from its first firing to its resolved notification, so the repeats only edit the message.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlmodel import Session

from aurum.alerts import notify
from aurum.core.context import Context
from storage import alerts as repo
from storage.alerts import AlertEpisode, AlertState

ZERO_TIME = datetime(1, 1, 1, tzinfo=UTC)
SEVERITIES = {"critical": "critical", "page": "critical", "error": "critical", "warning": "warning",
              "info": "info", "none": "info"}


class WebhookAlert(BaseModel):
    model_config = ConfigDict(extra="ignore")
    status: Literal["firing", "resolved"]
    labels: dict[str, str]
    annotations: dict[str, str] = {}
    starts_at: datetime = Field(alias="startsAt")
    ends_at: datetime | None = Field(default=None, alias="endsAt")
    generator_url: str = Field(default="", alias="generatorURL")
    fingerprint: str = Field(min_length=1, max_length=64)

    @field_validator("ends_at")
    @classmethod
    def _zero_is_unset(cls, value: datetime | None) -> datetime | None:
        return None if value is None or value.year <= 1 else value


class WebhookPayload(BaseModel):
    model_config = ConfigDict(extra="ignore")
    version: Literal["4"]
    status: Literal["firing", "resolved"]
    receiver: str = ""
    group_key: str = Field(default="", alias="groupKey")
    alerts: list[WebhookAlert] = Field(max_length=1000)
    truncated_alerts: int = Field(default=0, alias="truncatedAlerts")


def _episode_fields(ctx: Context, alert: WebhookAlert) -> dict[str, Any]:
    notes = alert.annotations
    channel = alert.labels.get("slack_channel") or ctx.config.alerts.alertmanager_channel
    return {
        "severity": SEVERITIES.get(alert.labels.get("severity", "").lower(), "warning"),
        "summary": notes.get("summary") or notes.get("description") or notes.get("message") or "",
        "runbook": notes.get("runbook_url") or notes.get("runbook") or "",
        "link": alert.generator_url,
        "labels": json.dumps(alert.labels, sort_keys=True),
        "channels": json.dumps([channel]),
    }


def _state(session: Session, team_id: str, rule: str, fingerprint: str) -> AlertState:
    found = repo.states(session, team_id, [rule], lock=True).get((rule, fingerprint))
    return found or repo.add_state(session, AlertState(team_id=team_id, rule=rule, fingerprint=fingerprint))


def receive(ctx: Context, session: Session, team_id: str, payload: WebhookPayload) -> int:
    """Apply every alert of one notification; returns how many changed an episode."""
    now = ctx.now()
    changed = 0
    for alert in payload.alerts:
        rule = alert.labels.get("alertname", "Alertmanager")[:120]
        state = _state(session, team_id, rule, alert.fingerprint)
        episode = repo.open_by_fingerprint(session, team_id, rule, alert.fingerprint)
        fields = _episode_fields(ctx, alert)
        if alert.status == "firing":
            if episode is None:
                last = repo.latest_by_fingerprint(session, team_id, rule, alert.fingerprint)
                if last is not None and last.fired_at == alert.starts_at:
                    continue  # a late repeat of an alert already resolved
                episode = AlertEpisode(team_id=team_id, rule=rule, fingerprint=alert.fingerprint,
                                       source="alertmanager", started_at=alert.starts_at,
                                       fired_at=alert.starts_at, **fields)
                session.add(episode)
                session.flush()
            else:
                for name, value in fields.items():
                    setattr(episode, name, value)
            state.state, state.active_at, state.fired_at = "firing", alert.starts_at, alert.starts_at
            state.episode_id = episode.id
        else:
            state.state = "inactive"
            if episode is None:
                continue
            episode.status, episode.resolved_at = "resolved", alert.ends_at or now
        state.updated_at = now
        session.add(state)
        session.add(episode)
        notify.sync(ctx, session, episode, now)
        changed += 1
    return changed
