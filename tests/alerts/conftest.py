"""Local stand-ins for the alert tests: a PagerDuty Events API and an SMTP server, both on free ports."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from pydantic import SecretStr

from tests.alerts.support import Clock

ALERTMANAGER_TOKEN = "am-secret-token"
ROUTING_KEY = "R0UTINGKEY0000000000000000000000"


class PagerDutyStandIn:
    """Speaks Events API v2: 202 {"status":"success","dedup_key":...}; can fail the next N calls with a status."""

    def __init__(self) -> None:
        self.events: list[dict] = []
        self.failures: list[int] = []
        self.lock = threading.Lock()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with stand_in.lock:
                    status = stand_in.failures.pop(0) if stand_in.failures else 202
                    if status == 202:
                        stand_in.events.append(body)
                reply = ({"status": "success", "message": "Event processed", "dedup_key": body.get("dedup_key")}
                         if status == 202 else {"status": "error", "message": "try again"})
                data = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v2/enqueue"


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], str]] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        self.messages.append((list(envelope.rcpt_tos), envelope.content.decode("utf-8", "replace")))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def pagerduty() -> Iterator[PagerDutyStandIn]:
    stand_in = PagerDutyStandIn()
    stand_in.thread.start()
    yield stand_in
    stand_in.server.shutdown()
    stand_in.server.server_close()


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield box, controller.port
    controller.stop()


@pytest.fixture
def settings(settings, pagerduty, mailbox):
    """The shared settings plus PagerDuty, SMTP and the Alertmanager token pointing at the stand-ins."""
    settings.pagerduty_routing_key = SecretStr(ROUTING_KEY)
    settings.pagerduty_events_url = pagerduty.url
    settings.smtp_host, settings.smtp_port, settings.smtp_from = "127.0.0.1", mailbox[1], "aurum@example.com"
    settings.alertmanager_token = SecretStr(ALERTMANAGER_TOKEN)
    settings.aurum_admins = "UADMIN"
    return settings


@pytest.fixture
def clock() -> Clock:
    return Clock()
