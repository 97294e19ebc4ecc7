"""The outbox uploads any file type (CSV exports as well as PNG charts), and still sends uploads queued before."""

from __future__ import annotations

import base64
import json

import pytest

from aurum.core import outbox
from storage import queue as repo
from storage.queue import QueuedTask


@pytest.mark.charts_without_alt_text
def test_a_csv_and_an_upload_queued_by_the_previous_version_are_delivered(runtime, fake_slack):
    ctx = runtime.ctx
    with ctx.transaction() as session:
        outbox.upload(session, "T0001", "U7", b"a,b\n1,2\n", filename="export.csv", title="Export")
        repo.add(session, QueuedTask(team_id="T0001", key="upload:old", kind="upload",
                                     payload=json.dumps({"channel": "U8",
                                                         "png": base64.b64encode(b"\x89PNG old").decode(),
                                                         "filename": "old.png", "title": "Old"})))
    runtime.worker().drain()
    files = {f.filename: f for f in fake_slack.files.values()}
    assert files["export.csv"].bytes == b"a,b\n1,2\n" and files["export.csv"].channel == "DU7"
    assert files["old.png"].bytes == b"\x89PNG old" and files["old.png"].channel == "DU8"


def _alt_texts(fake_slack) -> list[str]:
    return [c.params.get("alt_txt") for c in fake_slack.calls_to("files.getUploadURLExternal")]


def test_a_chart_carries_its_alt_text_and_a_csv_none(runtime, fake_slack):
    with runtime.ctx.transaction() as session:
        outbox.upload(session, "T0001", "U7", b"\x89PNG new", filename="c.png", title="Chart",
                      alt_text="Line chart, Coverage, last 30d.")
        outbox.upload(session, "T0001", "U7", b"a,b\n", filename="e.csv", title="Export")
    runtime.worker().drain()
    assert sorted(_alt_texts(fake_slack), key=str) == ["Line chart, Coverage, last 30d.", None]
