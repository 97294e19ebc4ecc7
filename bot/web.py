"""The HTTP server: Slack's request URL, health and Prometheus metrics."""

from __future__ import annotations

import gc
import json
import logging
import sys
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response

from bot import alertmanager_api
from bot.compose import build_web
from bot.http_guards import RequestGuards
from bot.logs import configure
from bot.memory import limit_malloc_arenas
from bot.metrics import BotMetrics
from bot.push_api import create_push_api
from bot.runtime import Runtime, start_registration
from bot.settings import load_settings
from bot.slack_endpoint import ASGIApp, SlackEndpoint
from storage.db import ping
from storage.migrate import at_head

log = logging.getLogger(__name__)
SWITCH_INTERVAL = 0.001
BACKLOG = 4096  # pending connections the kernel queues: a burst of Slack requests waits instead of failing
KEEP_ALIVE = 75  # seconds an idle connection stays open (longer than a load balancer's usual 60 s)


def create_web_app(runtime: Runtime, *, start_workers: bool = True) -> ASGIApp:
    """The bot's ASGI app: Slack's request URL (bot/slack_endpoint.py) in front of a FastAPI app with the rest."""
    metrics = BotMetrics(runtime.ctx)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        if runtime.work is None:
            # The work after the ack runs in threads of this process: a thread waiting for the interpreter gets it
            # after 1 ms instead of 5, so acks stay quick while charts are drawn and queries run.
            sys.setswitchinterval(SWITCH_INTERVAL)
        await run_in_threadpool(start_registration, runtime, True)  # and check the configured channels
        if start_workers:
            runtime.start_workers()
        socket = None
        if runtime.settings.slack_app_token is not None:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            socket = SocketModeHandler(runtime.bolt, runtime.settings.slack_app_token.get_secret_value())
            socket.connect()
            log.info("connected to Slack over Socket Mode")
        # What start-up built lives as long as the process: out of the collector's sight, a full collection no
        # longer walks all of it (a 50-150 ms pause of every request in flight).
        gc.freeze()
        yield
        if socket is not None:
            socket.close()
        runtime.shutdown()

    web = FastAPI(title="Aurum bot", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    web.state.runtime = runtime
    web.state.metrics = metrics
    alertmanager_api.mount(web, runtime)
    @web.get("/slack/install", include_in_schema=False)
    async def slack_install(request: Request) -> Response:
        return await _oauth(request, "install")

    @web.get("/slack/oauth_redirect", include_in_schema=False)
    async def slack_oauth_redirect(request: Request) -> Response:
        return await _oauth(request, "callback")

    async def _oauth(request: Request, step: str) -> Response:
        flow = runtime.bolt.oauth_flow
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

    web.mount("/api/v1", create_push_api(runtime.ctx))

    @web.get("/readyz", include_in_schema=False)
    async def readyz() -> Response:
        """Readiness: the database is reachable and has every migration applied, and (single-token mode) Slack
        accepted the bot token when last asked; when not ready, `reason` says why and what to do."""
        reachable = await run_in_threadpool(ping, runtime.ctx.engine)
        migrated = reachable and await run_in_threadpool(at_head, runtime.ctx.engine)
        slack_problem = runtime.slack.problem
        reasons = []
        if not reachable:
            reasons.append("The database cannot be reached: check DATABASE_URL.")
        elif not migrated:
            reasons.append("The database is not at this version's newest migration: run `aurum db upgrade`.")
        if slack_problem is not None:
            reasons.append(slack_problem)
        status = {"status": "not ready" if reasons else "ready", "database": reachable, "migrations_at_head": migrated,
                  "slack": slack_problem is None}
        if reasons:
            status["reason"] = " ".join(reasons)
        return Response(json.dumps(status), status_code=503 if reasons else 200, media_type="application/json")

    @web.get("/metrics", include_in_schema=False)
    async def prometheus_metrics() -> Response:
        payload = await run_in_threadpool(generate_latest, metrics.registry)
        return Response(payload, media_type=CONTENT_TYPE_LATEST)

    # Slack's request URL in front of FastAPI (bot/slack_endpoint.py); one body-size limit and request id for
    # every path, present and future (push API, …).
    return RequestGuards(SlackEndpoint(web, runtime, metrics), max_body=runtime.settings.aurum_max_body_bytes)


def app_from_environment() -> ASGIApp:
    """The app of one `aurum serve --workers N` worker process: settings and runtime of its own."""
    limit_malloc_arenas()
    settings = load_settings()
    configure(level=settings.log_level, secrets=settings.secret_values())
    return create_web_app(build_web(settings))
