"""What the reports share: KPI movements over a window, periods, the Report value and its delivery."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlmodel import Session

from aurum import blocks, formatting, outbox
from aurum.catalog import Kpi
from aurum.context import Context
from aurum.reports.inputs import NOT_AVAILABLE
from aurum.status import state_of
from storage import snapshots

NOTABLE = 5.0  # a move of at least 5 points of the baseline→goal way (or 5 % of the value) counts as a win/regression


@dataclass(frozen=True)
class Movement:
    """A KPI between two moments: values, the change, and how much of the way to its goal it moved."""

    kpi: Kpi
    start: float | None
    end: float | None

    @property
    def change(self) -> float | None:
        return None if self.start is None or self.end is None else self.end - self.start

    @property
    def score(self) -> float | None:
        """Points of progress gained (positive = better): share of the baseline→goal way, else relative change."""
        if self.change is None:
            return None
        kpi = self.kpi
        if kpi.baseline is not None and kpi.goal is not None and kpi.goal != kpi.baseline:
            return self.change / (kpi.goal - kpi.baseline) * 100.0
        if not self.start:
            return None
        sign = 1.0 if kpi.direction == "higher" else -1.0
        return sign * self.change / abs(self.start) * 100.0

    @property
    def reached_target(self) -> bool:
        return (self.end is not None and state_of(self.kpi, self.end) == "on_track"
                and (self.start is None or state_of(self.kpi, self.start) != "on_track"))

    @property
    def fell_off_target(self) -> bool:
        return (self.start is not None and self.end is not None and state_of(self.kpi, self.start) == "on_track"
                and state_of(self.kpi, self.end) != "on_track")

    @property
    def improved(self) -> bool:
        return self.score is not None and self.score >= NOTABLE

    @property
    def regressed(self) -> bool:
        return self.score is not None and self.score <= -NOTABLE

    def change_text(self) -> str:
        if self.change is None:
            return "no earlier value"
        pct = self.change / abs(self.start) * 100.0 if self.start else None
        return formatting.change(self.kpi, self.change, pct)

    def line(self) -> str:
        """`API p95 response time: 350 ms → 285 ms (↓ 19%)`."""
        if self.end is None:
            return f"*{self.kpi.name}*: no data"
        if self.start is None:
            return f"*{self.kpi.name}*: {formatting.value(self.kpi, self.end)} (new)"
        return (f"*{self.kpi.name}*: {formatting.value(self.kpi, self.start)} → "
                f"{formatting.value(self.kpi, self.end)} ({self.change_text()})")


def value_at(session: Session, team_id: str, key: str, at: datetime) -> float | None:
    return _value(snapshots.latest(session, team_id, key, before=at))


def movement(session: Session, team_id: str, kpi: Kpi, since: datetime, until: datetime) -> Movement:
    return Movement(kpi, value_at(session, team_id, kpi.key, since), value_at(session, team_id, kpi.key, until))


def movements(ctx: Context, session: Session, team_id: str, since: datetime, until: datetime,
              kpis: Iterable[Kpi] | None = None) -> list[Movement]:
    """Every KPI with a target (or the given ones) from `since` to `until`."""
    chosen = list(kpis) if kpis is not None else [k for k in ctx.catalog if k.target is not None]
    start = snapshots.latest_many(session, team_id, {kpi.key: since for kpi in chosen})
    end = snapshots.latest_many(session, team_id, {kpi.key: until for kpi in chosen})
    return [Movement(kpi, _value(start.get(kpi.key)), _value(end.get(kpi.key))) for kpi in chosen]


def _value(row) -> float | None:
    return row.value if row is not None else None


def core_kpis(ctx: Context) -> list[Kpi]:
    """The seed's KPIs with targets, without the phase success metrics and the budget (spend is no win or loss)."""
    return [k for k in ctx.catalog if k.target is not None and k.phase is None and k.category != "budget"]


# --- periods (local time of the team) -------------------------------------------------------------------------


def week_key(local: datetime) -> str:
    year, week, _ = local.isocalendar()
    return f"{year}-W{week:02d}"


def month_key(local: datetime) -> str:
    return local.strftime("%Y-%m")


def quarter_key(local: datetime) -> str:
    return f"{local.year}-Q{(local.month - 1) // 3 + 1}"


def week_start(local: datetime) -> date:
    return (local - timedelta(days=local.weekday())).date()


def local_midnight(ctx: Context, day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=ctx.tz)


def month_start(ctx: Context, local: datetime) -> datetime:
    return datetime(local.year, local.month, 1, tzinfo=ctx.tz)


def quarter_start(ctx: Context, local: datetime) -> datetime:
    return datetime(local.year, 3 * ((local.month - 1) // 3) + 1, 1, tzinfo=ctx.tz)


# --- the report value and its delivery ----------------------------------------------------------------------------


@dataclass(frozen=True)
class File:
    content: bytes
    filename: str
    title: str


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
                      thread_key=posted, key=f"{key}:file:{i}")
    return posted


def deliver_preview(session: Session, team_id: str, report: Report, channel: str, user: str) -> None:
    """Only for the asker: an ephemeral message, and the files by DM."""
    preview = [blocks.context("👀 Preview — only you see this"), *report.blocks][: blocks.MAX_BLOCKS]
    outbox.post(session, team_id, channel, report.text, preview, user=user)
    for item in report.files:
        outbox.upload(session, team_id, user, item.content, filename=item.filename, title=item.title)


def bullet_list(lines: Iterable[str], empty: str, limit: int = 10) -> str:
    items = list(lines)
    if not items:
        return empty
    shown = items[:limit]
    more = f"\n…and {len(items) - limit} more" if len(items) > limit else ""
    return "\n".join(f"• {line}" for line in shown) + more


def not_available(what: str) -> str:
    return f"_{what}: {NOT_AVAILABLE}_"
