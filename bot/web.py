"""The HTTP server: Slack's request URL, health and Prometheus metrics."""

from __future__ import annotations

import json
import logging
import sys
import time
from contextlib import asynccontextmanager
from urllib.parse import parse_qs

import anyio.to_thread
from fastapi import FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response

from bot import alertmanager_api
from bot.http_guards import ReplayGuard, RequestGuards
from bot.logs import REQUEST_ID
from bot.metrics import BotMetrics
from bot.runtime import Runtime, start_registration
from bot.work_process import dispatch
from storage.db import ping
from storage.migrate import at_head

log = logging.getLogger(__name__)
SWITCH_INTERVAL = 0.001
BACKLOG = 4096  # pending connections the kernel queues: a burst of Slack requests waits instead of failing
KEEP_ALIVE = 75  # seconds an idle connection stays open (longer than a load balancer's usual 60 s)


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
        # Bolt dispatch runs in this thread pool; the ack path does no I/O, so threads only wait for the GIL.
        anyio.to_thread.current_default_thread_limiter().total_tokens = runtime.settings.aurum_web_threads
        # A thread waiting for the interpreter gets it after 1 ms instead of 5: acks stay quick while
        # chart rendering and queries run in the other threads.
        sys.setswitchinterval(SWITCH_INTERVAL)
        await run_in_threadpool(start_registration, runtime)
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
    # One body-size limit and request id for every route, present and future (push API, …).
    web.add_middleware(RequestGuards, max_body=runtime.settings.aurum_max_body_bytes)
    replays = ReplayGuard()

    @web.post("/slack/events", include_in_schema=False)
    async def slack_events(request: Request) -> Response:
        started = time.perf_counter()
        body = await request.body()
        kind, name = _describe(body, request.headers.get("content-type", ""))
        signature = request.headers.get("x-slack-signature", "")
        if signature and not replays.first_time(signature):
            log.warning("replayed Slack request ignored", extra={"kind": kind, "request_name": name})
            metrics.requests.labels(kind, name, "replay").inc()
            return Response(status_code=200, headers={"X-Aurum-Replay": "ignored"})
        bolt_request = to_bolt_request(request, body)
        bolt_response, work_asked = await run_in_threadpool(dispatch, runtime.app, bolt_request)
        if work_asked and runtime.work is not None:
            runtime.work.forward(bolt_request, REQUEST_ID.get())
        if bolt_response.status == 401:
            replays.forget(signature)
        metrics.requests.labels(kind, name, str(bolt_response.status)).inc()
        metrics.ack_seconds.labels(kind).observe(time.perf_counter() - started)
        return to_starlette_response(bolt_response)

    alertmanager_api.mount(web, runtime)
    @web.get("/slack/install", include_in_schema=False)
    async def slack_install(request: Request) -> Response:
        return await _oauth(request, "install")

    @web.get("/slack/oauth_redirect", include_in_schema=False)
    async def slack_oauth_redirect(request: Request) -> Response:
        return await _oauth(request, "callback")

    async def _oauth(request: Request, step: str) -> Response:
        flow = runtime.app.oauth_flow
        if flow is None:
            return Response("This bot runs with a single workspace's token; there is nothing to install here.",
                            status_code=404, media_type="text/plain")
        bolt_request = to_bolt_request(request, await request.body())
        handle = flow.handle_installation if step == "install" else flow.handle_callback
        return to_starlette_response(await run_in_threadpool(handle, bolt_request))

    @web.get("/healthz", include_in_schema=False)
    async def healthz() -> Response:
        """Liveness: the process answers and reaches its database."""
        healthy = await run_in_threadpool(ping, runtime.ctx.engine)
        status = {"status": "ok" if healthy else "database unreachable"}
        return Response(json.dumps(status), status_code=200 if healthy else 503, media_type="application/json")

    from bot.push_api import create_push_api

    web.mount("/api/v1", create_push_api(runtime.ctx))
    @web.get("/readyz", include_in_schema=False)
    async def readyz() -> Response:
        """Readiness: the database is reachable and has every migration applied."""
        reachable = await run_in_threadpool(ping, runtime.ctx.engine)
        migrated = reachable and await run_in_threadpool(at_head, runtime.ctx.engine)
        ready = reachable and migrated
        status = {"status": "ready" if ready else "not ready", "database": reachable, "migrations_at_head": migrated}
        return Response(json.dumps(status), status_code=200 if ready else 503, media_type="application/json")

    @web.get("/metrics", include_in_schema=False)
    async def prometheus_metrics() -> Response:
        payload = await run_in_threadpool(generate_latest, metrics.registry)
        return Response(payload, media_type=CONTENT_TYPE_LATEST)

    return web


def app_from_environment() -> FastAPI:
    """The app of one `aurum serve --workers N` worker process: settings and runtime of its own."""
    from bot.logs import configure
    from bot.memory import limit_malloc_arenas
    from bot.runtime import build_runtime
    from bot.settings import load_settings

    limit_malloc_arenas()
    settings = load_settings()
    configure(level=settings.log_level, secrets=settings.secret_values())
    return create_web_app(build_runtime(settings, work_process=settings.aurum_work_process))
