"""What the reports share: KPI movements over a window, periods, the Report value and its delivery."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlmodel import Session

from aurum.core import outbox
from aurum.core.context import Context
from aurum.kpis import blocks
from aurum.kpis.catalog import Kpi
from aurum.reports.inputs import NOT_AVAILABLE


def core_kpis(ctx: Context) -> list[Kpi]:
    """The seed's KPIs with targets, without the phase success metrics and the budget (spend is no win or loss)."""
    return [k for k in ctx.catalog if k.target is not None and k.phase is None and k.category != "budget"]


# --- the report value and its delivery ----------------------------------------------------------------------------


@dataclass(frozen=True)
class File:
    content: bytes
    filename: str
    title: str
    alt_text: str = ""  # what a chart shows, for people who cannot see it


@dataclass(frozen=True)
class Report:
    kind: str  # weekly | sprint | exec | quarterly | reminder
    text: str  # notification text
    blocks: list[dict]
    files: list[File] = field(default_factory=list)  # the chart first, then attachments (uploaded in the thread)


def channel_or(default: str, configured: str | None) -> str:
    return configured or default


def deliver(session: Session, team_id: str, report: Report, channel: str, key: str) -> str:
    """Post the report with its key (one post per key), its files in the thread."""
    posted = outbox.post(session, team_id, channel, report.text, report.blocks, key=key)
    for i, item in enumerate(report.files):
        outbox.upload(session, team_id, channel, item.content, filename=item.filename, title=item.title,
                      thread_key=posted, key=f"{key}:file:{i}", alt_text=item.alt_text)
    return posted


def deliver_preview(session: Session, team_id: str, report: Report, channel: str, user: str) -> None:
    """Only for the asker: an ephemeral message, and the files by DM."""
    preview = [blocks.context("👀 Preview — only you see this"), *report.blocks][: blocks.MAX_BLOCKS]
    outbox.post(session, team_id, channel, report.text, preview, user=user)
    for item in report.files:
        outbox.upload(session, team_id, user, item.content, filename=item.filename, title=item.title,
                      alt_text=item.alt_text)


def bullet_list(lines: Iterable[str], empty: str, limit: int = 10) -> str:
    items = list(lines)
    if not items:
        return empty
    shown = items[:limit]
    more = f"\n…and {len(items) - limit} more" if len(items) > limit else ""
    return "\n".join(f"• {line}" for line in shown) + more


def not_available(what: str) -> str:
    return f"_{what}: {NOT_AVAILABLE}_"
