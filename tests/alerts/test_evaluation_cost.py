"""The evaluation's database work does not grow with the number of rules: one query for the latest values and one
for the states when nothing changes; when alerts change, a fixed number of reads and batched updates, plus one key
look-up per new message and the inserts of the new rows (one statement on PostgreSQL, one a row on SQLite, whose
RETURNING order SQLAlchemy cannot rely on)."""

from __future__ import annotations

from collections import Counter
from contextlib import contextmanager

from sqlalchemy import event

from aurum.alerts import evaluation
from storage import alerts as repo
from storage import snapshots
from storage.rollups import SnapshotBase
from tests.alerts.support import Clock, use_config

KPI = "api_error_rate_percentage"


@contextmanager
def counting(ctx):
    count: Counter[str] = Counter()

    def on_execute(_conn, _cursor, statement: str, *_args) -> None:
        count[statement.split(None, 1)[0].upper()] += 1

    event.listen(ctx.engine, "before_cursor_execute", on_execute)
    try:
        yield count
    finally:
        event.remove(ctx.engine, "before_cursor_execute", on_execute)


def statements_per_step(ctx, rules: int) -> list[tuple[Counter[str], int]]:
    """(SQL statements of the evaluation by kind, transitions): a quiet value, half the rules firing, all resolving."""
    team = f"TCOST{rules}"
    half = rules // 2
    use_config(ctx, {"alerts": {"rules": {
        **{name: {"enabled": False} for name in ("ApiErrorRateHigh", "ServiceAvailabilityLow", "DeploymentFailed",
                                                 "ApiLatencyHigh", "TestCoverageLow", "TechnicalDebtHigh")},
        **{f"Cost{i:03d}": {"kpi": KPI, "op": ">", "threshold": 1 if i < half else 50, "channels": ["#cost"],
                            "chart": False} for i in range(rules)}}}})
    clock = Clock()
    ctx.clock = clock
    steps = []
    for value in (0.5, 3.0, 0.5):
        clock.advance(minutes=1)
        with ctx.transaction() as session:
            snapshots.add_many(session, team, [SnapshotBase(kpi=KPI, value=value, at=clock.now, source="t")])
            session.flush()
            with counting(ctx) as count:
                changes = evaluation.evaluate(ctx, session, team, clock.now, kpis={KPI})
                session.flush()
        steps.append((count, len(changes)))
    with ctx.reading() as session:
        episodes = repo.history(session, team, limit=1000)
    assert len(episodes) == half and all(e.status == "resolved" for e in episodes)
    return steps


def test_the_number_of_queries_does_not_grow_with_the_rules(ctx):
    small, large = statements_per_step(ctx, 20), statements_per_step(ctx, 200)
    assert [t for _, t in small] == [0, 10, 10] and [t for _, t in large] == [0, 100, 100]
    (quiet_small, _), (firing_small, _), (resolving_small, _) = small
    (quiet_large, _), (firing_large, _), (resolving_large, _) = large
    assert quiet_small == quiet_large == Counter(SELECT=2)  # the latest values and the states
    for few, many in ((firing_small, firing_large), (resolving_small, resolving_large)):
        # Reads: the same few, plus one key look-up per new message (the alert message, then the resolution reply).
        assert many["SELECT"] - 100 == few["SELECT"] - 10
        assert many["UPDATE"] == few["UPDATE"] <= 2  # the states, the episodes: one batch each
        assert many["INSERT"] - few["INSERT"] <= 2 * 90  # the new episode and its message, at most a statement each
        assert sum(many.values()) - sum(few.values()) <= 3 * 90
