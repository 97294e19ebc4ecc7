"""Downsampling in the database: bucket means equal the means computed by hand, on SQLite and PostgreSQL; buckets of
an hour or more are read from the hourly rollups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import event

from storage import snapshots
from storage.rollups import SnapshotBase

START = datetime(2026, 1, 1, tzinfo=UTC)


def _store(ctx, points: list[SnapshotBase]) -> None:
    with ctx.transaction() as session:
        snapshots.add_many(session, "T1", points)
        snapshots.add_many(session, "T2", points[:1])


def test_short_buckets_are_means_of_the_snapshots(ctx):
    points = [SnapshotBase(kpi="api_response_time_p95", value=float(v), at=START + timedelta(minutes=m), source="x")
              for m, v in [(0, 10), (1, 20), (5, 30), (6, 50), (7, 70), (10, 100)]]
    points.append(SnapshotBase(kpi="requests_per_second", value=999, at=START, source="x"))
    _store(ctx, points)
    with ctx.reading() as session:
        rows = snapshots.series_buckets(session, "T1", "api_response_time_p95", START, START + timedelta(minutes=10), 5)
    # Buckets of 2 minutes: [0,2) → 10, 20; [4,6) → 30; [6,8) → 50, 70; [8,10] → 100 (the end is included).
    assert rows == [(START + timedelta(minutes=1), 15.0), (START + timedelta(minutes=5), 30.0),
                    (START + timedelta(minutes=7), 60.0), (START + timedelta(minutes=9), 100.0)]


def test_long_buckets_are_whole_hours_read_from_the_rollups(ctx):
    hours = [(0, 0, 10), (0, 30, 20), (1, 15, 30), (2, 0, 40), (5, 45, 50), (9, 0, 60), (10, 20, 70), (11, 0, 80)]
    points = [SnapshotBase(kpi="api_response_time_p95", value=float(v), at=START + timedelta(hours=h, minutes=m),
                           source="x") for h, m, v in hours]
    points.append(SnapshotBase(kpi="requests_per_second", value=999, at=START, source="x"))
    _store(ctx, points)
    statements: list[str] = []
    event.listen(ctx.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    with ctx.reading() as session:
        # 10 h 20 min in 4 buckets: groups of 4 whole hours from midnight; 00:00 is before `since` (its hour is left
        # out), 10:20 ends the period and its hour counts (11:00 is after it).
        rows = snapshots.series_buckets(session, "T1", "api_response_time_p95", START + timedelta(minutes=1),
                                        START + timedelta(hours=10, minutes=20), 4)
    assert [s for s in statements if "kpi_snapshot" in s] == []
    assert rows == [  # each drawn at the mean time of its points
        (START + timedelta(hours=1, minutes=37.5), 35.0),  # hours 1-3: 01:15 (30) and 02:00 (40)
        (START + timedelta(hours=5, minutes=45), 50.0),  # hours 4-7: 05:45 (50)
        (START + timedelta(hours=9, minutes=40), 65.0),  # hours 8-10: 09:00 (60), 10:20 (70)
    ]


def test_a_year_of_five_minute_points_comes_back_as_a_few_hundred(ctx):
    points = [SnapshotBase(kpi="api_response_time_p95", value=float(i % 7), at=START + timedelta(minutes=5 * i),
                           source="x") for i in range(365 * 288)]
    with ctx.transaction() as session:
        snapshots.add_many(session, "T1", points)
    end = points[-1].at
    with ctx.reading() as session:
        rows = snapshots.series_buckets(session, "T1", "api_response_time_p95", START, end, 400)
    assert 350 <= len(rows) <= 400
    assert [t for t, _ in rows] == sorted(t for t, _ in rows)
    assert abs(sum(v for _, v in rows) / len(rows) - 3.0) < 0.01  # every bucket holds 264 points of 0..6
