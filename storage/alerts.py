"""Alert tables and their repository: rule state, firing episodes and silences (the alerts' PagerDuty, e-mail and
chart tasks are kinds of the task queue, storage.queue).

Repositories take a session and never commit; the alert service owns the transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import Column, Index, Row, Select, Text, UniqueConstraint, bindparam, insert, or_, select, update
from sqlalchemy.engine import Result
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col

from storage.types import table_of, utcnow, when_column


class AlertState(SQLModel, table=True):
    """Where one alert (a rule and one label set) stands: inactive, pending or firing (Prometheus' states)."""

    __tablename__ = "alert_state"
    __table_args__ = (UniqueConstraint("team_id", "rule", "fingerprint", name="uq_alert_state"),)
    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    rule: str = Field(max_length=120)
    fingerprint: str = Field(max_length=64)
    state: str = Field(default="inactive", max_length=12)
    active_at: datetime | None = Field(default=None, sa_column=when_column(nullable=True))
    fired_at: datetime | None = Field(default=None, sa_column=when_column(nullable=True))
    keep_firing_since: datetime | None = Field(default=None, sa_column=when_column(nullable=True))
    value: float | None = None
    no_data: bool = False
    episode_id: int | None = None
    updated_at: datetime = Field(default_factory=utcnow, sa_column=when_column())


class AlertEpisode(SQLModel, table=True):
    """One firing of an alert, from firing to resolved: the unit that gets exactly one Slack message."""

    __tablename__ = "alert_episode"
    __table_args__ = (
        Index("ix_alert_episode_open", "team_id", "settled"),
        Index("ix_alert_episode_rule", "team_id", "rule", "fired_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    rule: str = Field(max_length=120)
    fingerprint: str = Field(max_length=64)
    source: str = Field(default="rule", max_length=20)  # "rule" or "alertmanager"
    severity: str = Field(default="warning", max_length=20)
    kpi: str | None = Field(default=None, max_length=80)
    op: str | None = Field(default=None, max_length=4)
    threshold: float | None = None
    value: float | None = None
    no_data: bool = False
    summary: str = Field(default="", sa_column=Column(Text, nullable=False))
    runbook: str = Field(default="", sa_column=Column(Text, nullable=False))
    link: str = Field(default="", sa_column=Column(Text, nullable=False))
    labels: str = Field(default="{}", sa_column=Column(Text, nullable=False))  # JSON
    channels: str = Field(default="[]", sa_column=Column(Text, nullable=False))  # JSON list
    status: str = Field(default="firing", max_length=12)  # firing | resolved
    started_at: datetime = Field(sa_column=when_column())  # when the condition first held (pending or firing)
    fired_at: datetime = Field(sa_column=when_column())
    resolved_at: datetime | None = Field(default=None, sa_column=when_column(nullable=True))
    post_key: str | None = Field(default=None, max_length=200)  # outbox key of its one message
    posted_at: datetime | None = Field(default=None, sa_column=when_column(nullable=True))
    shown: str = Field(default="", max_length=64)  # digest of what the message shows now
    resolution_sent: bool = False
    settled: bool = False  # nothing left to tell
    escalated: bool = False
    reminders: int = 0
    last_reminder_at: datetime | None = Field(default=None, sa_column=when_column(nullable=True))
    acked_by: str | None = Field(default=None, max_length=32)
    acked_at: datetime | None = Field(default=None, sa_column=when_column(nullable=True))
    snoozed_until: datetime | None = Field(default=None, sa_column=when_column(nullable=True))
    snoozed_by: str | None = Field(default=None, max_length=32)
    feedback: str | None = Field(default=None, max_length=12)  # useful | noise
    feedback_by: str | None = Field(default=None, max_length=32)
    feedback_at: datetime | None = Field(default=None, sa_column=when_column(nullable=True))


class AlertSilence(SQLModel, table=True):
    """`/alerts silence`: no notifications for a rule until a time (evaluation goes on)."""

    __tablename__ = "alert_silence"
    __table_args__ = (Index("ix_alert_silence_rule", "team_id", "rule", "until"),)
    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    rule: str = Field(max_length=120)
    until: datetime = Field(sa_column=when_column())
    reason: str = Field(default="", sa_column=Column(Text, nullable=False))
    created_by: str = Field(default="", max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_column=when_column())


# ----- state ----------------------------------------------------------------------------------------------------


def states(session: Session, team_id: str, rules: Iterable[str] | None = None,
           lock: bool = False) -> dict[tuple[str, str], AlertState]:
    query = select(AlertState).where(col(AlertState.team_id) == team_id)
    if rules is not None:
        query = query.where(col(AlertState.rule).in_(list(rules)))
    if lock:
        query = query.with_for_update()
    return {(s.rule, s.fingerprint): s for s in session.scalars(query)}


STATE_FIELDS = ("state", "active_at", "fired_at", "keep_firing_since", "value", "no_data", "episode_id", "updated_at")
_READ_FIELDS = STATE_FIELDS[:-1]  # updated_at is written, never read back by the evaluation (parsing it costs)


def _state_rows_statement(lock: bool) -> Select:
    table = table_of(AlertState)
    query = select(table.c.id, table.c.rule, table.c.fingerprint, *(table.c[name] for name in _READ_FIELDS)).where(
        table.c.team_id == bindparam("team_id"), table.c.rule.in_(bindparam("rules", expanding=True)))
    return query.with_for_update() if lock else query


_STATE_ROWS = {lock: _state_rows_statement(lock) for lock in (False, True)}  # built once: used on every batch


def state_rows(session: Session, team_id: str, rules: Iterable[str], lock: bool = False) -> dict[tuple[str, str], Row]:
    """The state of the given rules as plain rows (id, rule, fingerprint, state, …, episode_id), in one query: the rule
    evaluation reads every rule's state on each batch of snapshots and needs no ORM objects for that."""
    rows = session.execute(_STATE_ROWS[lock], {"team_id": team_id, "rules": list(rules)})
    return {(row.rule, row.fingerprint): row for row in rows}


def write_states(session: Session, team_id: str, changed: Sequence[dict], added: Sequence[dict]) -> None:
    """Store evaluated states: `changed` rows by id (one executemany UPDATE), `added` ones (rule, fingerprint and
    STATE_FIELDS) with one INSERT. When another process inserted one of the added rows first, ours overwrites it."""
    table = table_of(AlertState)
    if changed:
        session.execute(update(table).where(table.c.id == bindparam("row_id")),
                        [{"row_id": row["id"], **{name: row[name] for name in STATE_FIELDS}} for row in changed])
    if not added:
        return
    rows = [{"team_id": team_id, "rule": row["rule"], "fingerprint": row["fingerprint"],
             **{name: row[name] for name in STATE_FIELDS}} for row in added]
    try:
        with session.begin_nested():
            session.execute(insert(table), rows)
    except IntegrityError:
        for row in rows:
            try:
                with session.begin_nested():
                    session.execute(insert(table), row)
            except IntegrityError:
                session.execute(update(table).where(
                    table.c.team_id == team_id, table.c.rule == row["rule"], table.c.fingerprint == row["fingerprint"])
                    .values({name: row[name] for name in STATE_FIELDS}))


def add_state(session: Session, state: AlertState) -> AlertState:
    """Insert a new state row; when another process inserted it first, return theirs."""
    try:
        with session.begin_nested():
            session.add(state)
    except IntegrityError:
        found = session.scalars(select(AlertState).where(
            col(AlertState.team_id) == state.team_id, col(AlertState.rule) == state.rule,
            col(AlertState.fingerprint) == state.fingerprint).with_for_update()).first()
        assert found is not None
        return found
    return state


def active_states(session: Session, team_id: str) -> list[AlertState]:
    query = select(AlertState).where(col(AlertState.team_id) == team_id, col(AlertState.state) != "inactive")
    return list(session.scalars(query.order_by(AlertState.state, AlertState.rule)))


# ----- episodes -------------------------------------------------------------------------------------------------


def episode(session: Session, team_id: str, episode_id: int, lock: bool = False) -> AlertEpisode | None:
    query = select(AlertEpisode).where(col(AlertEpisode.team_id) == team_id, col(AlertEpisode.id) == episode_id)
    return session.scalars(query.with_for_update() if lock else query).first()


def episodes_by_id(session: Session, team_id: str, ids: Iterable[int]) -> dict[int, AlertEpisode]:
    wanted = list(ids)
    if not wanted:
        return {}
    query = select(AlertEpisode).where(col(AlertEpisode.team_id) == team_id, col(AlertEpisode.id).in_(wanted))
    return {e.id: e for e in session.scalars(query)}  # type: ignore[misc]


def unsettled(session: Session, team_id: str) -> list[AlertEpisode]:
    """Episodes with something still to tell: firing ones, and resolved ones not yet announced."""
    query = select(AlertEpisode).where(col(AlertEpisode.team_id) == team_id, col(AlertEpisode.settled).is_(False))
    return list(session.scalars(query.order_by(col(AlertEpisode.id))))


def open_by_fingerprint(session: Session, team_id: str, rule: str, fingerprint: str) -> AlertEpisode | None:
    query = select(AlertEpisode).where(
        col(AlertEpisode.team_id) == team_id, col(AlertEpisode.rule) == rule,
        col(AlertEpisode.fingerprint) == fingerprint, col(AlertEpisode.status) == "firing")
    return session.scalars(query.order_by(col(AlertEpisode.id).desc()).limit(1)).first()


def latest_by_fingerprint(session: Session, team_id: str, rule: str, fingerprint: str) -> AlertEpisode | None:
    query = select(AlertEpisode).where(
        col(AlertEpisode.team_id) == team_id, col(AlertEpisode.rule) == rule,
        col(AlertEpisode.fingerprint) == fingerprint)
    return session.scalars(query.order_by(col(AlertEpisode.id).desc()).limit(1)).first()


def history(session: Session, team_id: str, *, kpi: str | None = None, rules: Sequence[str] | None = None,
            since: datetime | None = None, limit: int = 20) -> list[AlertEpisode]:
    query = select(AlertEpisode).where(col(AlertEpisode.team_id) == team_id)
    if kpi is not None or rules:
        conditions = []
        if kpi is not None:
            conditions.append(col(AlertEpisode.kpi) == kpi)
        if rules:
            conditions.append(col(AlertEpisode.rule).in_(list(rules)))
        query = query.where(or_(*conditions))
    if since is not None:
        query = query.where(col(AlertEpisode.fired_at) >= since)
    query = query.order_by(col(AlertEpisode.fired_at).desc(), col(AlertEpisode.id).desc())
    return list(session.scalars(query.limit(limit)))


FEEDBACK_WINDOW = timedelta(days=30)  # alert accuracy counts the votes on the alerts fired this long before


def feedback_counts(session: Session, team_id: str, since: datetime) -> dict[str, int]:
    query = select(col(AlertEpisode.feedback)).where(
        col(AlertEpisode.team_id) == team_id, col(AlertEpisode.feedback).is_not(None),
        col(AlertEpisode.fired_at) >= since)
    counts: dict[str, int] = {}
    rows: Result[str] = session.execute(query)
    for (feedback,) in rows:
        counts[feedback] = counts.get(feedback, 0) + 1
    return counts


# ----- silences -------------------------------------------------------------------------------------------------


def silenced_until(session: Session, team_id: str, rule: str, now: datetime) -> AlertSilence | None:
    query = select(AlertSilence).where(col(AlertSilence.team_id) == team_id, col(AlertSilence.rule) == rule,
                                       col(AlertSilence.until) > now)
    return session.scalars(query.order_by(col(AlertSilence.until).desc()).limit(1)).first()


def active_silences(session: Session, team_id: str, now: datetime) -> dict[str, AlertSilence]:
    query = select(AlertSilence).where(col(AlertSilence.team_id) == team_id, col(AlertSilence.until) > now)
    found: dict[str, AlertSilence] = {}
    for silence in session.scalars(query.order_by(col(AlertSilence.until))):
        found[silence.rule] = silence  # the one lasting longest wins
    return found


def started_between(session: Session, team_id: str, since: datetime, until: datetime) -> list[AlertEpisode]:
    """Episodes that started in (since, until], oldest first."""
    return list(session.scalars(select(AlertEpisode).where(
        col(AlertEpisode.team_id) == team_id, col(AlertEpisode.started_at) > since,
        col(AlertEpisode.started_at) <= until).order_by(col(AlertEpisode.started_at))))


def firing(session: Session, team_id: str) -> list[AlertEpisode]:
    """Episodes firing now, oldest first."""
    return list(session.scalars(select(AlertEpisode).where(
        col(AlertEpisode.team_id) == team_id, col(AlertEpisode.status) == "firing")
        .order_by(col(AlertEpisode.started_at))))
