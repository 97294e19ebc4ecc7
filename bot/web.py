"""The HTTP server: Slack's request URL, health and Prometheus metrics."""

from __future__ import annotations

import json
import logging
import time
from contextlib import asynccontextmanager
from urllib.parse import parse_qs

from fastapi import FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response

from bot import alertmanager_api
from bot.metrics import BotMetrics
from bot.runtime import Runtime, register_workspace
from storage.db import ping

log = logging.getLogger(__name__)
MAX_BODY = 1_000_000


def _describe(body: bytes, content_type: str) -> tuple[str, str]:
    """(kind, name) of a Slack request, for metrics: command name, interaction type or event type."""
    try:
        if "json" in content_type:
            data = json.loads(body)
            return "event", (data.get("event") or {}).get("type", data.get("type", "unknown"))
        form = parse_qs(body.decode("utf-8"))
        if "command" in form:
            return "command", form["command"][0]
        if "payload" in form:
            return "interaction", json.loads(form["payload"][0]).get("type", "unknown")
    except (ValueError, UnicodeDecodeError):
        pass
    return "unknown", "unknown"


def create_web_app(runtime: Runtime, *, start_workers: bool = True) -> FastAPI:
    metrics = BotMetrics(runtime.ctx)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        await run_in_threadpool(register_workspace, runtime)
        if start_workers:
            runtime.start_workers()
        socket = None
        if runtime.settings.slack_app_token is not None:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            socket = SocketModeHandler(runtime.app, runtime.settings.slack_app_token.get_secret_value())
            socket.connect()
            log.info("connected to Slack over Socket Mode")
        yield
        if socket is not None:
            socket.close()
        runtime.shutdown()

    web = FastAPI(title="Aurum bot", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    web.state.runtime = runtime
    web.state.metrics = metrics

    @web.post("/slack/events", include_in_schema=False)
    async def slack_events(request: Request) -> Response:
        started = time.perf_counter()
        body = await request.body()
        if len(body) > MAX_BODY:
            return Response(status_code=413, content="request body too large")
        kind, name = _describe(body, request.headers.get("content-type", ""))
        bolt_request = to_bolt_request(request, body)
        bolt_response = await run_in_threadpool(runtime.app.dispatch, bolt_request)
        metrics.requests.labels(kind, name, str(bolt_response.status)).inc()
        metrics.ack_seconds.labels(kind).observe(time.perf_counter() - started)
        return to_starlette_response(bolt_response)

    alertmanager_api.mount(web, runtime)

    @web.get("/healthz", include_in_schema=False)
    async def healthz() -> Response:
        healthy = await run_in_threadpool(ping, runtime.ctx.engine)
        status = {"status": "ok" if healthy else "database unreachable"}
        return Response(json.dumps(status), status_code=200 if healthy else 503, media_type="application/json")

    from bot.push_api import create_push_api

    web.mount("/api/v1", create_push_api(runtime.ctx))

    @web.get("/metrics", include_in_schema=False)
    async def prometheus_metrics() -> Response:
        payload = await run_in_threadpool(generate_latest, metrics.registry)
        return Response(payload, media_type=CONTENT_TYPE_LATEST)

    return web
