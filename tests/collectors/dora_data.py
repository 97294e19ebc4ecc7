"""A hand-built deployment history with hand-computed DORA figures (NOW = 2026-11-27 12:00 UTC, 30-day window).

deployment  final status      at          commits shipped (hours before the deployment)
D0          success           NOW-40d     — (the base before the window)
D1          success           NOW-20d     10, 4
D2          failure           NOW-10d     —
D3          success           NOW-9d12h   30, 2, -1 (committed after the deploy: dropped)
D4          success           NOW-5d      6
D5          error             NOW-2d      —
D6          success           NOW-1d      20, 1

lead time: median(1, 2, 4, 6, 10, 20, 30) = 6 h
deployment frequency (last 7 days): D4, D6 = 2
change failure rate: failed D2, D5 of 6 finished in the window = 33.33 %; with incident I1 naming D4: 50 %
time to restore from deployments: D2→D3 = 12 h, D5→D6 = 24 h; mean 1080 min
incident I1: created NOW-3d, resolved 45 min later; incident I2: created NOW-2d, resolved 75 min later → mean 60 min
"""

from __future__ import annotations

from datetime import timedelta

from tests.collectors.conftest import NOW

H, D = timedelta(hours=1), timedelta(days=1)
DEPLOYMENTS = [  # id, status, final status time, commit offsets in hours before it
    ("D0", "success", NOW - 40 * D, [50]),
    ("D1", "success", NOW - 20 * D, [10, 4]),
    ("D2", "failure", NOW - 10 * D, []),
    ("D3", "success", NOW - 9 * D - 12 * H, [30, 2, -1]),
    ("D4", "success", NOW - 5 * D, [6]),
    ("D5", "error", NOW - 2 * D, []),
    ("D6", "success", NOW - 1 * D, [20, 1]),
]
INCIDENTS = [("I1", NOW - 3 * D, NOW - 3 * D + 45 * timedelta(minutes=1), "D4"),
             ("I2", NOW - 2 * D, NOW - 2 * D + 75 * timedelta(minutes=1), None)]

LEAD_TIME_HOURS = 6.0
DEPLOYS_PER_WEEK = 2.0
CHANGE_FAILURE_RATE = 200 / 6
CHANGE_FAILURE_RATE_WITH_INCIDENTS = 50.0
RESTORE_FROM_DEPLOYMENTS_MINUTES = 1080.0
MTTR_MINUTES = 60.0


def commit_times(offsets: list[int], at) -> list:
    return [at - h * H for h in offsets]
