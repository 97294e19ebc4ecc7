"""Collector test helpers: a fake API per test and Runs whose retries wait on a recorded clock, not for real."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from pydantic import SecretStr

from aurum.collectors.base import Run
from aurum.collectors.http import make_client
from tests.fakes.http_api import FakeApi

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def iso(at: datetime) -> str:
    """A time as the APIs write it: 2026-11-27T12:00:00Z."""
    return at.isoformat().replace("+00:00", "Z")


@pytest.fixture
def api():
    with FakeApi() as fake:
        yield fake


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def make_run(waits):
    clients = []

    def make(source: str, config, now: datetime = NOW, timeout: float = 2.0, **secrets: str) -> Run:
        client = make_client(timeout)
        clients.append(client)
        return Run(source=source, config=config, now=now, tz=ZoneInfo("UTC"),
                   secrets={k: SecretStr(v) for k, v in secrets.items()}, client=client,
                   http_options={"sleep": waits.append, "backoff": 0.01, "clock": lambda: NOW.timestamp()})

    yield make
    for client in clients:
        client.close()
