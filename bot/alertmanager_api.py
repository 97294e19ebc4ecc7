"""`POST /api/v1/alertmanager`: Alertmanager's webhook receiver (payload version 4), token or basic auth.

The credential is either a workspace's API token with the `alertmanager` scope (`aurum token create --name am
--team T --scopes alertmanager`; the alerts go to that workspace and no other), or the operator's ALERTMANAGER_TOKEN
(the workspace then comes from `?team=`, or is the only one served).

Alertmanager config:
    receivers:
      - name: aurum
        webhook_configs:
          - url: https://aurum.example.com/api/v1/alertmanager
            http_config: {authorization: {credentials: <token>}}   # or basic_auth with it as password
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
from aurum.core import tokens
from bot.runtime import Runtime
from storage.workspaces import all_team_ids

log = logging.getLogger(__name__)
PATH = "/api/v1/alertmanager"
MAX_BODY = 2_000_000


def _json(status: int, body: dict) -> Response:
    return Response(json.dumps(body), status_code=status, media_type="application/json")


SCOPE = "alertmanager"
UNAUTHORIZED = Response(status_code=401, headers={"WWW-Authenticate": 'Bearer, Basic realm="aurum"'})


def presented(header: str) -> str:
    """The secret of `Bearer <token>`, or the password of basic auth (any user name); "" if neither."""
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer":
        return credentials.strip()
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(credentials.strip(), validate=True).decode("utf-8").partition(":")[2]
        except (binascii.Error, UnicodeDecodeError):
            return ""
    return ""


def _team(runtime: Runtime, secret: str, asked: str | None) -> str | None:
    """The workspace the credential speaks for; None if it is no valid credential or names no workspace."""
    with runtime.ctx.transaction() as session:
        token = tokens.verify(session, secret, scope=SCOPE, now=runtime.ctx.now())
        if token is not None:
            return token.team_id  # a workspace's token never reaches another workspace, whatever ?team= says
        operator = runtime.settings.alertmanager_token
        expected = operator.get_secret_value().encode() if operator is not None else b""
        if not expected or not secret or not hmac.compare_digest(secret.encode(), expected):
            return None
        teams = all_team_ids(session)
    if asked:
        return asked if asked in teams else ""
    return teams[0] if len(teams) == 1 else ""


def mount(web: FastAPI, runtime: Runtime) -> None:
    @web.post(PATH, include_in_schema=False)
    async def alertmanager(request: Request) -> Response:
        secret = presented(request.headers.get("authorization", ""))
        team_id = await run_in_threadpool(_team, runtime, secret, request.query_params.get("team"))
        if team_id is None:
            return UNAUTHORIZED
        if not team_id:
            return _json(400, {"error": "unknown workspace: add ?team=<Slack team id>, or use the workspace's own "
                                        "token (aurum token create --name am --team T --scopes alertmanager)"})
        body = await request.body()
        if len(body) > MAX_BODY:
            return _json(413, {"error": "payload too large"})
        try:
            payload = WebhookPayload.model_validate_json(body)
        except ValidationError as exc:
            return _json(400, {"error": "not an Alertmanager webhook payload (version 4)",
                               "details": [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5]]})

        def apply() -> int:
            with runtime.ctx.transaction() as session:
                return receive(runtime.ctx, session, team_id, payload)

        changed = await run_in_threadpool(apply)
        log.info("alertmanager notification", extra={"team_id": team_id, "alerts": len(payload.alerts),
                                                       "changed": changed, "group": payload.group_key})
        return _json(200, {"status": "ok", "alerts": len(payload.alerts), "changed": changed})
