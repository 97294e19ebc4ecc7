"""The baseline for bench_ack.py: the same HTTP stack and signature check, a /kpi handler that only acks."""

from __future__ import annotations

import sys

import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_bolt.authorization import AuthorizeResult

bolt = App(signing_secret=sys.argv[2], token_verification_enabled=False,
           authorize=lambda enterprise_id, team_id, user_id: AuthorizeResult(
               enterprise_id=enterprise_id, team_id=team_id, user_id=user_id, bot_token="xoxb-bare"))


@bolt.command("/kpi")
def only_ack(ack) -> None:
    ack()


web = FastAPI()


@web.post("/slack/events")
async def events(request: Request) -> Response:
    body = await request.body()
    return to_starlette_response(await run_in_threadpool(bolt.dispatch, to_bolt_request(request, body)))


@web.get("/healthz")
async def healthz() -> Response:
    return Response("ok")


if __name__ == "__main__":
    uvicorn.run(web, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
