"""Survey test helpers: view_submission payloads shaped like Slack's, runs seeded straight into the database."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from aurum.core.context import Context
from aurum.surveys import answers, service
from aurum.surveys.answers import fields
from aurum.surveys.blocks import ANSWER_ACTION, CALLBACK_ID, input_block
from aurum.surveys.model import Survey
from storage import surveys as repo
from storage.surveys import SurveyRun
from tests.support import ROOT

TEAM_ANSWERS = {"q_velocity": "8", "q_priorities": "6", "q_blockers": "Flaky CI pipeline", "q_keep_doing": "Pairing"}


def state_for(survey: Survey, raw: dict[str, str | None]) -> dict[str, Any]:
    """state.values as Slack sends them for the modal's input elements."""
    values: dict[str, Any] = {}
    for field in fields(survey):
        kind = input_block(field)["element"]["type"]
        value = raw.get(field.block_id)
        if kind in ("static_select", "radio_buttons"):
            selected = {"text": {"type": "plain_text", "text": value}, "value": value} if value is not None else None
            values[field.block_id] = {ANSWER_ACTION: {"type": kind, "selected_option": selected}}
        else:
            values[field.block_id] = {ANSWER_ACTION: {"type": kind, "value": value}}
    return {"values": values}


def view_submission(survey: Survey, run_id: int, raw: dict[str, str | None], user: str = "U1",
                    team_id: str = "T0001", metadata: str | None = None) -> dict[str, Any]:
    return {
        "type": "view_submission", "token": "legacy", "api_app_id": "A0001", "trigger_id": f"t.{uuid.uuid4().hex}",
        "team": {"id": team_id, "domain": "test"}, "user": {"id": user, "team_id": team_id, "name": user.lower()},
        "view": {
            "id": f"V{uuid.uuid4().hex[:8]}", "type": "modal", "callback_id": CALLBACK_ID, "team_id": team_id,
            "private_metadata": metadata if metadata is not None else json.dumps({"run": run_id, "survey": survey.key}),
            "state": state_for(survey, raw), "hash": "1", "blocks": [],
            "title": {"type": "plain_text", "text": survey.short_name},
        },
    }


def block_action(action_id: str, value: str, user: str = "U1", team_id: str = "T0001") -> dict[str, Any]:
    return {
        "type": "block_actions", "token": "legacy", "api_app_id": "A0001", "trigger_id": f"t.{uuid.uuid4().hex}",
        "team": {"id": team_id, "domain": "test"}, "user": {"id": user, "team_id": team_id},
        "channel": {"id": f"D{user}"}, "container": {"type": "message", "channel_id": f"D{user}"},
        "actions": [{"action_id": action_id, "block_id": "survey_invite", "value": value, "type": "button",
                     "action_ts": "1.0"}],
    }


def seed_run(ctx: Context, team_id: str, users: list[str], survey: str = "team", period: str = "2026-W48",
             opens_at: datetime | None = None, state: str = "open", squad: str = "") -> SurveyRun:
    """A run (of the team `squad`, by default the default team) with its respondents, written directly (no
    invitations): for submission and results tests."""
    opens = opens_at or ctx.now() - timedelta(hours=1)
    with ctx.transaction() as session:
        run = repo.add_run(session, SurveyRun(team_id=team_id, squad=squad, survey=survey, period=period, state=state,
                                              opens_at=opens, closes_at=opens + timedelta(days=3),
                                              audience=len(users)))
        assert run is not None
        repo.add_respondents(session, team_id, run.id, users)
    return run


def answer(ctx: Context, team_id: str, user: str, run_id: int, raw: dict[str, str | None],
           survey: str = "team") -> answers.Submitted:
    given, errors = answers.check(ctx.config.surveys.survey(survey), raw)
    assert not errors, errors
    return service.respond(ctx, team_id, user, survey, given, run_id=run_id)


def send_concurrently(url: str, payloads: list[dict[str, Any]], threads: int, workdir: Path,
                      secret: str = "test-signing-secret") -> list[dict[str, Any]]:
    """Interaction payloads sent at once by tests.loadgen in another process; one result per payload, in order."""
    path = workdir / "payloads.json"
    path.write_text(json.dumps(payloads), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "tests.loadgen", url, secret, str(path), str(threads)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, check=True)
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
