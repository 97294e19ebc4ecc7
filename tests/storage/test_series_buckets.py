"""Downsampling in the database: bucket means equal the means computed by hand, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage import snapshots
from storage.models import SnapshotBase

START = datetime(2026, 1, 1, tzinfo=UTC)


def test_bucket_means_match_hand_computed_values(ctx):
    points = [SnapshotBase(kpi="api_response_time_p95", value=float(v), at=START + timedelta(hours=h), source="x")
              for h, v in [(0, 10), (1, 20), (5, 30), (6, 50), (7, 70), (10, 100)]]
    points.append(SnapshotBase(kpi="requests_per_second", value=999, at=START, source="x"))
    with ctx.transaction() as session:
        snapshots.add_many(session, "T1", points)
        snapshots.add_many(session, "T2", points[:1])
    with ctx.reading() as session:
        rows = snapshots.series_buckets(session, "T1", "api_response_time_p95", START, START + timedelta(hours=10), 5)
    # Buckets of 2 hours: [0,2) → 10, 20; [4,6) → 30; [6,8) → 50, 70; [8,10] → 100 (the end is included).
    assert rows == [(START + timedelta(hours=1), 15.0), (START + timedelta(hours=5), 30.0),
                    (START + timedelta(hours=7), 60.0), (START + timedelta(hours=9), 100.0)]


def test_a_year_of_five_minute_points_comes_back_as_at_most_400(ctx):
    points = [SnapshotBase(kpi="api_response_time_p95", value=float(i % 7), at=START + timedelta(minutes=5 * i),
                           source="x") for i in range(365 * 288)]
    with ctx.transaction() as session:
        snapshots.add_many(session, "T1", points)
    end = points[-1].at
    with ctx.reading() as session:
        rows = snapshots.series_buckets(session, "T1", "api_response_time_p95", START, end, 400)
    assert len(rows) == 400
    assert abs(sum(v for _, v in rows) / 400 - 3.0) < 0.01  # every bucket holds ~263 points of 0..6
