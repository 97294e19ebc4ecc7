"""Ingest 100,000 snapshots three ways into the same kind of SQLite file, in the same run:

1. the push API over HTTP (`POST /api/v1/metrics`, 1,000 values per request, to `aurum serve`'s app under uvicorn);
2. the collector path (`aurum.core.ingest.store`, 1,000 points per transaction, as a collection job stores them);
3. the baseline: raw sqlite3 `executemany` of the same upsert, 1,000 rows per commit, same pragmas.

    python bench/bench_ingest.py [--rows 100000] [--batch 1000]
"""

from __future__ import annotations

import argparse
import atexit
import logging
import os
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
import uvicorn  # noqa: E402

from aurum.core import ingest, tokens
from bot.compose import build_context, build_web  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.web import create_web_app  # noqa: E402
from storage.rollups import SnapshotBase  # noqa: E402

TEAM = "T0BENCH"
KPIS = ["api_response_time_p95", "api_response_time_p99", "requests_per_second", "cpu_usage_percentage",
        "memory_usage_percentage", "disk_usage_percentage", "network_io_mb_per_second", "api_error_rate_percentage"]
START = datetime(2026, 1, 1, tzinfo=UTC)


def rows(count: int) -> list[tuple[str, float, datetime]]:
    return [(KPIS[i % len(KPIS)], 100.0 + (i % 97), START + timedelta(seconds=30 * i)) for i in range(count)]


def settings_for(folder: str, name: str) -> Settings:
    return Settings(_env_file=None, database_url=f"sqlite:///{folder}/{name}.db", slack_bot_token="xoxb-bench",
                    slack_signing_secret="bench", slack_api_url="http://127.0.0.1:9/")


def push_api(folder: str, data, batch: int) -> float:
    runtime = build_web(settings_for(folder, "push"), work_process=False)
    with runtime.ctx.transaction() as session:
        token = tokens.create(session, TEAM, "bench", scopes="push").secret
    server = uvicorn.Server(uvicorn.Config(create_web_app(runtime, start_workers=False), host="127.0.0.1", port=0,
                                           log_level="error", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise SystemExit("the server did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    bodies = [[{"kpi": k, "value": v, "at": at.isoformat(), "source": "ci"} for k, v, at in data[i:i + batch]]
              for i in range(0, len(data), batch)]
    with httpx.Client(base_url=f"http://127.0.0.1:{port}/api/v1", timeout=60,
                      headers={"Authorization": f"Bearer {token}"}) as client:
        started = time.perf_counter()
        for body in bodies:
            answer = client.post("/metrics", json=body)
            if answer.status_code != 201:
                raise SystemExit(f"push API answered {answer.status_code}: {answer.text[:200]}")
        elapsed = time.perf_counter() - started
    server.should_exit = True
    thread.join(15)
    runtime.shutdown()
    return len(data) / elapsed


def collector_path(folder: str, data, batch: int) -> float:
    ctx = build_context(settings_for(folder, "collector"))
    points = [SnapshotBase(kpi=k, value=v, at=at, source="prometheus") for k, v, at in data]
    started = time.perf_counter()
    for i in range(0, len(points), batch):
        with ctx.transaction() as session:
            ingest.store(ctx, session, TEAM, points[i:i + batch])
    elapsed = time.perf_counter() - started
    ctx.engine.dispose()
    return len(data) / elapsed


def raw_executemany(folder: str, data, batch: int) -> float:
    build_context(settings_for(folder, "raw")).engine.dispose()  # the same migrated schema and indexes
    connection = sqlite3.connect(f"{folder}/raw.db", isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    records = [(TEAM, k, v, at.strftime("%Y-%m-%d %H:%M:%S.%f"), "raw", now) for k, v, at in data]
    sql = ("INSERT INTO kpi_snapshot (team_id, kpi, value, at, source, created_at) VALUES (?, ?, ?, ?, ?, ?) "
           "ON CONFLICT (team_id, squad, kpi, source, at) DO UPDATE SET value = excluded.value")
    started = time.perf_counter()
    for i in range(0, len(records), batch):
        connection.execute("BEGIN IMMEDIATE")
        connection.executemany(sql, records[i:i + batch])
        connection.execute("COMMIT")
    elapsed = time.perf_counter() - started
    connection.close()
    return len(data) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # no Slack here: the server's "auth.test failed" warning is expected
    folder = tempfile.mkdtemp(prefix="aurum-ingest-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)  # nothing left behind in the temp folder
    data = rows(args.rows)
    raw = raw_executemany(folder, data, args.batch)
    collector = collector_path(folder, data, args.batch)
    push = push_api(folder, data, args.batch)
    print(f"{args.rows:,} snapshots, {args.batch:,} per request/transaction, SQLite files in {folder}")
    print(f"raw sqlite3 executemany (baseline): {raw:10,.0f} rows/s")
    print(f"collector path (ingest.store):       {collector:10,.0f} rows/s  = {collector / raw:.2f} × baseline")
    print(f"push API over HTTP:                  {push:10,.0f} rows/s  = {push / raw:.2f} × baseline")
    print(f"load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
