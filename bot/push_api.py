"""The push API for CI pipelines, mounted at /api/v1: metrics, deployments, incidents and coverage reports.

Each workspace has its own bearer tokens (`aurum token create`). Rejected requests change nothing: validation,
KPI look-ups and the body limit all come before the one transaction that stores the values.
"""


import hashlib
import json
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError

from aurum.collectors import coverage, events
from aurum.collectors.base import CollectorError
from aurum.core import ingest, tokens
from aurum.core.context import Context
from aurum.core.errors import InputError
from aurum.kpis.catalog import Kpi, check_value
from aurum.squads import teams as squads
from bot.push_api_models import (
    MAX_METRICS,
    CoverageStored,
    DeploymentIn,
    Figures,
    IncidentIn,
    MetricIn,
    MetricsIn,
    Problem,
    Stored,
)
from storage import api_tokens as token_repo
from storage.api_tokens import ApiRequest
from storage.rollups import SnapshotBase

MAX_BODY = 1_000_000
FUTURE_TOLERANCE = timedelta(minutes=5)
UNAUTHORIZED: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "missing or unknown bearer token"},
    413: {"model": Problem, "description": "body over 1 MB"},
}


class BodyLimit:
    """Refuse bodies over MAX_BODY with 413 before anything parses them (Content-Length or streamed)."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
            return await _too_large(scope, receive, send)
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
            if size > MAX_BODY:
                return await _too_large(scope, receive, send)
        body, sent = b"".join(chunks), False

        async def replay():
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        return await self.app(scope, replay, send)


async def _too_large(scope, receive, send) -> None:
    response = JSONResponse({"detail": f"request body over {MAX_BODY:,} bytes; send fewer values per request"}, 413)
    await response(scope, receive, send)


def _future(ctx: Context, at: datetime | None, field: str) -> dict | None:
    if at is not None and at - ctx.now() > FUTURE_TOLERANCE:
        return {"type": "value_error", "loc": ["body", *field.split(".")],
                "msg": "is in the future; give a time up to now"}
    return None


def _impossible(kpi: Kpi, value: float, loc: list, index: int = 0) -> dict | None:
    """A 422 entry for a value the KPI cannot hold (check_value), naming the item, KPI, value and range."""
    problem = check_value(kpi, value)
    if problem is None:
        return None
    return {"type": "out_of_range", "loc": loc, "msg": problem, "index": index, "kpi": kpi.key, "value": value,
            "range": list(kpi.allowed)}


UNION_TAGS = {"MetricIn": dict, "list[MetricIn]": list, "MetricsIn": "metrics"}


def field_errors(errors: Any, body: Any) -> list[dict]:
    """Pydantic's errors as {loc, msg, type}; for the one-or-many metrics body, only the shape that was sent."""
    shape = "MetricsIn" if isinstance(body, dict) and "metrics" in body else \
        "list[MetricIn]" if isinstance(body, list) else "MetricIn"
    result = []
    for error in errors:
        loc = list(error.get("loc", ()))
        if len(loc) > 1 and loc[1] in UNION_TAGS:
            if loc[1] != shape:
                continue
            del loc[1]
        result.append({"loc": loc, "msg": str(error.get("msg", "")).removeprefix("Value error, "),
                       "type": error.get("type", "value_error")})
    return result


def _refuse(errors: list[dict]) -> None:
    if errors:
        raise HTTPException(422, detail=errors)


def create_push_api(ctx: Context) -> FastAPI:
    api = FastAPI(title="Aurum push API", version="1", openapi_url="/openapi.json", docs_url=None, redoc_url=None,
                  description="Push KPI values, deployments, incidents and coverage reports from CI. "
                              "Authenticate with `Authorization: Bearer <token>` (`aurum token create`).")
    api.add_middleware(BodyLimit)

    def team(authorization: Annotated[str | None, Header(description="Bearer <token>")] = None) -> str:
        scheme, _, token = (authorization or "").partition(" ")
        found = None
        if scheme.lower() == "bearer" and token:
            with ctx.reading() as session:
                row = tokens.verify(session, token.strip())
                found = row.team_id if row is not None else None
        if found is None:
            raise HTTPException(401, "missing or unknown bearer token; create one with `aurum token create`",
                                headers={"WWW-Authenticate": "Bearer"})
        return found

    Team = Annotated[str, Depends(team)]

    def idempotent(team_id: str, key: str | None, body: Callable[[], Any], work) -> JSONResponse:
        """Run `work(session)` once per Idempotency-Key; a retry gets the first answer back."""
        body_hash = hashlib.sha256(json.dumps(body(), sort_keys=True, default=str).encode()).hexdigest() if key else ""
        if key:
            with ctx.reading() as session:
                seen = token_repo.request(session, team_id, key)
            if seen is not None:
                if seen.body_hash != body_hash:
                    raise HTTPException(422, "this Idempotency-Key was used for a different body")
                return JSONResponse(json.loads(seen.response), seen.status, headers={"Idempotent-Replayed": "true"})
        try:
            with ctx.serving(team_id), ctx.transaction() as session:  # its alert rules, as stored now
                status, content = work(session)
                if key:
                    token_repo.remember(session, ApiRequest(team_id=team_id, key=key, body_hash=body_hash,
                                                            status=status, response=json.dumps(content)))
        except IntegrityError:
            raise HTTPException(409, "a request with this Idempotency-Key is being processed; retry") from None
        return JSONResponse(content, status)

    Key = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200,
                                       description="repeat a request safely: the same key stores once")]

    @api.post("/metrics", status_code=201, response_model=Stored,
              responses={**UNAUTHORIZED, 404: {"model": Problem, "description": "unknown KPI"}})
    def post_metrics(body: MetricIn | list[MetricIn] | MetricsIn, team_id: Team, key: Key = None) -> JSONResponse:
        """Store one value, a list of values, or {"metrics": [...]} (at most 5,000 per request)."""
        items = body.metrics if isinstance(body, MetricsIn) else body if isinstance(body, list) else [body]
        if not 1 <= len(items) <= MAX_METRICS:
            _refuse([{"type": "length", "loc": ["body"], "msg": f"give 1 to {MAX_METRICS:,} values per request"}])
        _refuse([e for i, m in enumerate(items) if (e := _future(ctx, m.at, f"{i}.at"))])
        points: dict[str, list[SnapshotBase]] = {}  # by team (its squad key)
        problems = []
        prefix = ["body", "metrics"] if isinstance(body, MetricsIn) else ["body"]
        teams = {squad.key: squad for squad in squads.all_squads(ctx.config)}
        for index, item in enumerate(items):
            if item.team is not None:
                try:
                    squads.by_key(ctx.config, item.team)
                except InputError as exc:
                    where = ["body", "team"] if isinstance(body, MetricIn) else [*prefix, index, "team"]
                    _refuse([{"type": "value_error", "loc": where, "msg": str(exc)}])
            kpi = ctx.catalog.resolve(item.kpi)
            if kpi is None:
                raise HTTPException(404, detail={"detail": f"Unknown KPI '{item.kpi}'",
                                                 "suggestions": ctx.catalog.suggest(item.kpi)})
            loc = ["body", "value"] if isinstance(body, MetricIn) else [*prefix, index, "value"]
            if problem := _impossible(kpi, item.value, loc, index):
                problems.append(problem)
            squad = teams[item.team.lower()] if item.team is not None else squads.default_squad(ctx.config)
            points.setdefault(squad.key, []).append(
                SnapshotBase(kpi=kpi.key, value=item.value, at=item.at or ctx.now(), source=item.source))
        _refuse(problems)  # one impossible value refuses the whole batch

        def work(session):
            stored = sum(ingest.store(squads.scope(ctx, teams[key]), session, team_id, batch)
                         for key, batch in points.items())
            return 201, {"stored": stored, "kpis": sorted({p.kpi for batch in points.values() for p in batch})}

        return idempotent(team_id, key, lambda: [m.model_dump(mode="json") for m in items], work)

    @api.post("/deployments", status_code=201, response_model=Figures, responses=UNAUTHORIZED)
    def post_deployment(body: DeploymentIn, team_id: Team, key: Key = None) -> JSONResponse:
        """Record a finished deployment; lead time, change failure rate and frequency are recomputed."""
        _refuse([e for e in [_future(ctx, body.deployed_at, "deployed_at")] if e])
        external_id = body.id or f"deploy-{uuid.uuid4().hex[:12]}"

        def work(session):
            figures = events.record_deployment(ctx, session, team_id, external_id, body.status,
                                               body.deployed_at or ctx.now(), [c.committed_at for c in body.commits],
                                               body.environment)
            return 201, {"id": external_id, "figures": figures}

        return idempotent(team_id, key, lambda: body.model_dump(mode="json"), work)

    @api.post("/incidents", status_code=201, response_model=Figures, responses=UNAUTHORIZED)
    def post_incident(body: IncidentIn, team_id: Team, key: Key = None) -> JSONResponse:
        """Record an incident (send it again with resolved_at once it is over); time to restore is recomputed."""
        errors = [e for e in [_future(ctx, body.created_at, "created_at"), _future(ctx, body.resolved_at,
                                                                                   "resolved_at")] if e]
        if body.resolved_at is not None and body.resolved_at < body.created_at:
            errors.append({"type": "value_error", "loc": ["body", "resolved_at"], "msg": "is before created_at"})
        _refuse(errors)

        def work(session):
            figures = events.record_incident(ctx, session, team_id, body.id, body.created_at, body.resolved_at,
                                             body.deployment_id)
            return 201, {"id": body.id, "figures": figures}

        return idempotent(team_id, key, lambda: body.model_dump(mode="json"), work)

    @api.post("/coverage", status_code=201, response_model=CoverageStored,
              responses={**UNAUTHORIZED, 404: {"model": Problem, "description": "unknown KPI"}},
              openapi_extra={"requestBody": {"required": True, "content": {
                  "application/xml": {"schema": {"type": "string"}},
                  "application/json": {"schema": {"type": "object"}}},
                  "description": "coverage.xml (Cobertura) or coverage.json as coverage.py writes them"}})
    async def post_coverage(request: Request, team_id: Team, key: Key = None,
                            kpi: Annotated[str, Query(max_length=80)] = "test_coverage_percentage",
                            at: Annotated[datetime | None, Query(description="ISO time with zone")] = None):
        """Upload a coverage report; the percentage `coverage report` prints is stored."""
        found = ctx.catalog.resolve(kpi)
        if found is None:
            raise HTTPException(404, detail={"detail": f"Unknown KPI '{kpi}'", "suggestions": ctx.catalog.suggest(kpi)})
        if at is not None and at.tzinfo is None:
            _refuse([{"type": "timezone_aware", "loc": ["query", "at"], "msg": "give a time zone, e.g. Z"}])
        _refuse([e for e in [_future(ctx, at, "at")] if e])
        data = await request.body()
        try:
            value = coverage.percent("coverage", data)
        except CollectorError as exc:
            _refuse([{"type": "value_error", "loc": ["body"], "msg": exc.problem}])
        if value is None:
            raise HTTPException(422, detail=[{"type": "value_error", "loc": ["body"],
                                              "msg": "the report measured nothing"}])
        _refuse([e for e in [_impossible(found, value, ["body"])] if e])
        when = at or ctx.now()

        def work(session):
            ingest.store(ctx, session, team_id, [SnapshotBase(kpi=found.key, value=value, at=when, source="ci")])
            return 201, {"kpi": found.key, "value": value, "at": when.isoformat()}

        digest = hashlib.sha256(data).hexdigest()
        return await run_in_threadpool(idempotent, team_id, key, lambda: {"kpi": found.key, "body": digest}, work)

    @api.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        """422 with one entry per field: where (loc), what is wrong (msg) and its type; never the input echoed."""
        return JSONResponse({"detail": field_errors(exc.errors(), exc.body)}, 422)

    @api.exception_handler(HTTPException)
    async def problem(_request: Request, exc: HTTPException) -> JSONResponse:
        content = exc.detail if isinstance(exc.detail, dict) else {"detail": exc.detail}
        return JSONResponse(content, exc.status_code, headers=exc.headers)

    return api
