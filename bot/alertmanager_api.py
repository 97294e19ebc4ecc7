"""`POST /api/v1/alertmanager`: Alertmanager's webhook receiver (payload version 4), token or basic auth.

Alertmanager config:
    receivers:
      - name: aurum
        webhook_configs:
          - url: https://aurum.example.com/api/v1/alertmanager
            http_config: {authorization: {credentials: <ALERTMANAGER_TOKEN>}}   # or basic_auth with it as password
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging

from fastapi import FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError

from aurum.alerts.alertmanager import WebhookPayload, receive
from bot.runtime import Runtime
from storage.workspaces import all_team_ids

log = logging.getLogger(__name__)
PATH = "/api/v1/alertmanager"
MAX_BODY = 2_000_000


def _json(status: int, body: dict) -> Response:
    return Response(json.dumps(body), status_code=status, media_type="application/json")


def authorized(header: str, token: str) -> bool:
    """`Bearer <token>`, or basic auth whose password is the token (any user name)."""
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer":
        return hmac.compare_digest(credentials.strip().encode(), token.encode())
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return hmac.compare_digest(decoded.partition(":")[2].encode(), token.encode())
    return False


def _team(runtime: Runtime, asked: str | None) -> str | None:
    with runtime.ctx.reading() as session:
        teams = all_team_ids(session)
    if asked:
        return asked if asked in teams else None
    return teams[0] if len(teams) == 1 else None


def mount(web: FastAPI, runtime: Runtime) -> None:
    @web.post(PATH, include_in_schema=False)
    async def alertmanager(request: Request) -> Response:
        token = runtime.settings.alertmanager_token
        if token is None:
            return _json(503, {"error": "ALERTMANAGER_TOKEN is not set: the receiver is off"})
        if not authorized(request.headers.get("authorization", ""), token.get_secret_value()):
            return Response(status_code=401, headers={"WWW-Authenticate": 'Bearer, Basic realm="aurum"'})
        body = await request.body()
        if len(body) > MAX_BODY:
            return _json(413, {"error": "payload too large"})
        try:
            payload = WebhookPayload.model_validate_json(body)
        except ValidationError as exc:
            return _json(400, {"error": "not an Alertmanager webhook payload (version 4)",
                               "details": [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5]]})
        team_id = await run_in_threadpool(_team, runtime, request.query_params.get("team"))
        if team_id is None:
            return _json(400, {"error": "unknown workspace: add ?team=<Slack team id>"})

        def apply() -> int:
            with runtime.ctx.transaction() as session:
                return receive(runtime.ctx, session, team_id, payload)

        changed = await run_in_threadpool(apply)
        log.info("alertmanager notification", extra={"team_id": team_id, "alerts": len(payload.alerts),
                                                       "changed": changed, "group": payload.group_key})
        return _json(200, {"status": "ok", "alerts": len(payload.alerts), "changed": changed})
