"""Live technical dashboard: one message per channel, edited every minute (the seed's `refresh_interval: 1m`) while
its values change, for up to N hours, with a Stop button.

Edits go through the outbox, which waits out 429s and sends only the newest queued edit of a message; unchanged
values cause no edit at all, so a quiet dashboard costs Slack nothing.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime, timedelta

from sqlmodel import Session

from aurum.core import outbox
from aurum.core.context import Context
from aurum.core.errors import InputError
from aurum.kpis import blocks
from aurum.kpis import dashboard as technical
from storage import live as repo
from storage.live import LiveDashboard

STOP_ACTION = "live_dashboard_stop"
STOP_BLOCK = "live_dashboard"
DEFAULT_HOURS = 8
TEXT = "Technical metrics dashboard (live)"


def _hash(content: list[dict]) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _local(ctx: Context, at: datetime) -> str:
    return at.astimezone(ctx.tz).strftime("%H:%M %Z")


def render(ctx: Context, data: technical.Technical, row: LiveDashboard, ended: str | None = None) -> list[dict]:
    """The dashboard, then the live footer: a Stop button while live, the reason once it has ended."""
    content = data.blocks(data.as_of or row.started_at, chart_note="📈 7-day chart in the thread")
    if ended:
        return blocks.capped([*content, blocks.context(f"⏹ {ended}")])
    footer = blocks.context(f"🔴 Live — refreshed every minute while values change, until {_local(ctx, row.until)}")
    stop = blocks.actions(STOP_BLOCK, blocks.button("Stop live updates", STOP_ACTION, str(row.id), style="danger"))
    return [*content[: blocks.MAX_BLOCKS - 2], footer, stop]


def start(ctx: Context, session: Session, team_id: str, channel: str, user: str, hours: int,
          chart: bytes | None = None, chart_alt: str = "") -> LiveDashboard:
    """Post a live dashboard in the channel, replacing the channel's earlier live one."""
    limit = ctx.config.reports.live_hours_max
    if not 1 <= hours <= limit:
        raise InputError(f"A live dashboard runs for 1 to {limit} hours; `/kpi dashboard live 4` runs for 4.")
    now = ctx.now()
    row = repo.for_channel(session, team_id, channel)
    others = [r for r in repo.active(session, team_id) if r.channel != channel and r.until > now]
    if len(others) >= ctx.config.reports.live_per_team_max:
        raise InputError(f"{len(others)} live dashboards already run in this workspace (the limit); stop one with its "
                         "Stop button first.")
    data = technical.technical(ctx, session, team_id)
    if row is not None and row.stopped_at is None:
        _end(ctx, session, row, data, "Replaced by a newer live dashboard in this channel")
    if row is None:
        row = LiveDashboard(team_id=team_id, channel=channel, post_key="", until=now)
    row.post_key = f"live:{channel}:{now:%Y%m%dT%H%M%S}:{uuid.uuid4().hex[:8]}"  # two starts in one second differ
    row.started_by, row.started_at, row.until = user, now, now + timedelta(hours=hours)
    row.stopped_at = row.stopped_by = None
    session.add(row)
    session.flush()
    content = render(ctx, data, row)
    row.last_hash = _hash(content[:-2])
    outbox.post(session, team_id, channel, TEXT, content, key=row.post_key)
    if chart is not None:
        outbox.upload(session, team_id, channel, chart, filename="dashboard.png", title=technical.CHART_TITLE,
                      thread_key=row.post_key, key=f"{row.post_key}:chart", alt_text=chart_alt)
    return row


def _end(ctx: Context, session: Session, row: LiveDashboard, data: technical.Technical, reason: str,
         by: str | None = None) -> None:
    row.stopped_at, row.stopped_by = ctx.now(), by
    session.add(row)
    outbox.update(session, row.team_id, row.post_key, TEXT, render(ctx, data, row, ended=reason),
                  key=f"{row.post_key}:end")


def stop(ctx: Context, session: Session, team_id: str, live_id: int, user: str) -> bool:
    """Stop a live dashboard (the Stop button); False when it had already ended."""
    row = repo.by_id(session, team_id, live_id)
    if row is None or row.stopped_at is not None:
        return False
    data = technical.technical(ctx, session, team_id)
    _end(ctx, session, row, data, f"Live updates stopped by <@{user}> at {_local(ctx, ctx.now())}", by=user)
    return True


def tick(ctx: Context, session: Session, team_id: str) -> str:
    """Once a minute: edit each live dashboard whose values changed; end those past their time."""
    rows = repo.active(session, team_id)
    if not rows:
        return "no live dashboard"
    now = ctx.now()
    data = technical.technical(ctx, session, team_id)
    edited = ended = 0
    for row in rows:
        if now >= row.until:
            _end(ctx, session, row, data, f"Live updates ended at {_local(ctx, row.until)}")
            ended += 1
            continue
        content = render(ctx, data, row)
        digest = _hash(content[:-2])
        if digest != row.last_hash:
            row.last_hash = digest
            session.add(row)
            outbox.update(session, team_id, row.post_key, TEXT, content, key=f"{row.post_key}:{now:%Y%m%dT%H%M}")
            edited += 1
    return f"{edited} edited, {ended} ended, {len(rows) - edited - ended} unchanged"
