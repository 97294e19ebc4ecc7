"""Jira Software: sprint velocity, committed vs completed, sprint dates and state.

- the story-point field comes from the board configuration (`estimation.field.fieldId`) unless configured;
- sprints: `GET /rest/agile/1.0/board/{id}/sprint?state=active,closed` (startAt / isLast);
- issues: `GET /rest/agile/1.0/board/{id}/sprint/{sprintId}/issue` (startAt / total);
- committed = story points of every issue in the sprint; completed = story points of its issues whose status
  category is Done. Jira keeps unfinished issues in a closed sprint's list, so this is the closing view
  (scope added mid-sprint counts as committed). Velocity = completed points of each closed sprint, stored at
  the sprint's completion time.
"""

from __future__ import annotations

from typing import Any

from aurum.collectors.base import Collected, CollectorError, Run, SprintRecord
from aurum.collectors.http import Http, finite, parse_time

KPI = "story_points_completed_per_sprint"


def connect(run: Run) -> Http:
    """Jira's REST API with the configured auth (JIRA_TOKEN, basic auth with `email` on Jira Cloud)."""
    token = run.secret("jira_token")
    if not token:
        raise CollectorError(run.source, "JIRA_TOKEN is not set")
    if run.config.email:
        return run.http(str(run.config.url), auth=(run.config.email, token))
    return run.http(str(run.config.url), headers={"Authorization": f"Bearer {token}"})


def story_point_field(http: Http, board: int) -> str:
    body = http.json(f"/rest/agile/1.0/board/{board}/configuration")
    estimation = body.get("estimation") if isinstance(body, dict) else None
    field = (estimation or {}).get("field") or {}
    if not field.get("fieldId"):
        raise CollectorError(http.source, f"board {board} does not estimate with a field; set story_points_field")
    return str(field["fieldId"])


def _points(issues: list[dict[str, Any]], field: str, done_only: bool) -> float:
    total = 0.0
    for issue in issues:
        fields = issue.get("fields") or {}
        category = ((fields.get("status") or {}).get("statusCategory") or {}).get("key")
        if done_only and category != "done":
            continue
        total += finite(fields.get(field)) or 0.0
    return total


def _when(run: Run, text: Any):
    return parse_time(run.source, text) if text else None


def collect(run: Run) -> Collected:
    http, board = connect(run), run.config.board_id
    field = run.config.story_points_field or story_point_field(http, board)
    sprints = [s for s in http.start_at_pages(f"/rest/agile/1.0/board/{board}/sprint",
                                              {"state": "active,closed"}) if isinstance(s, dict)]
    closed = [s for s in sprints if s.get("state") == "closed"][-run.config.sprints:]
    chosen = closed + [s for s in sprints if s.get("state") == "active"]
    out = run.collected()
    for sprint in chosen:
        issues = list(http.start_at_pages(f"/rest/agile/1.0/board/{board}/sprint/{sprint['id']}/issue",
                                          {"fields": f"{field},status"}, key="issues", page_size=100))
        record = SprintRecord(
            board=str(board), sprint_id=str(sprint["id"]), name=str(sprint.get("name", "")),
            state=str(sprint.get("state", "")), start_at=_when(run, sprint.get("startDate")),
            end_at=_when(run, sprint.get("endDate")), complete_at=_when(run, sprint.get("completeDate")),
            committed=_points(issues, field, done_only=False), completed=_points(issues, field, done_only=True))
        out.sprints.append(record)
        finished = record.complete_at or record.end_at
        if record.state == "closed" and finished is not None:
            out.add(KPI, record.completed, finished, run.source)
    if not closed:
        out.notes.append(f"{KPI}: board {board} has no closed sprint yet")
    return out
