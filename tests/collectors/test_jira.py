"""The Jira collector against a local server speaking the agile REST API's wire format."""

from __future__ import annotations

import base64

import pytest

from aurum.collectors import jira
from aurum.collectors.base import CollectorError
from aurum.collectors.config import JiraSource
from tests.fakes.http_api import Reply

BOARD = "/rest/agile/1.0/board/42"
SPRINTS = [
    {"id": 21, "state": "closed", "name": "Sprint 21", "startDate": "2026-10-19T09:00:00.000Z",
     "endDate": "2026-11-02T09:00:00.000Z", "completeDate": "2026-11-02T10:30:00.000Z", "goal": ""},
    {"id": 22, "state": "closed", "name": "Sprint 22", "startDate": "2026-11-02T09:00:00.000+0100",
     "endDate": "2026-11-16T09:00:00.000+0100", "completeDate": "2026-11-16T11:00:00.000+0100"},
    {"id": 23, "state": "active", "name": "Sprint 23", "startDate": "2026-11-16T09:00:00.000Z",
     "endDate": "2026-11-30T09:00:00.000Z"},
]


def issue(key: str, points, done: bool) -> dict:
    category = {"key": "done", "name": "Done"} if done else {"key": "indeterminate", "name": "In Progress"}
    return {"key": key, "fields": {"customfield_10016": points, "status": {"name": "x", "statusCategory": category}}}


ISSUES = {21: [issue("A-1", 8, True), issue("A-2", 5, True), issue("A-3", 3, False), issue("A-4", None, True)],
          22: [issue("A-5", 13, True), issue("A-6", 21, True), issue("A-7", 8, True), issue("A-8", 5, False),
               issue("A-9", 2.5, True)],
          23: [issue("A-10", 5, False)]}


def start_at(items: list, key: str, with_is_last: bool):
    def reply(request):
        start = int(request.param("startAt"))
        body = {"startAt": start, "maxResults": 2, key: items[start:start + 2]}
        if with_is_last:
            body["isLast"] = start + 2 >= len(items)
        else:
            body["total"] = len(items)
        return Reply(body)
    return reply


@pytest.fixture
def board(api):
    api.on("GET", f"{BOARD}/configuration", Reply({"id": 42, "name": "Aurum", "type": "scrum", "estimation": {
        "type": "field", "field": {"fieldId": "customfield_10016", "displayName": "Story Points"}}}))
    api.on("GET", f"{BOARD}/sprint", start_at(SPRINTS, "values", with_is_last=True))
    for sprint_id, issues in ISSUES.items():
        api.on("GET", f"{BOARD}/sprint/{sprint_id}/issue", start_at(issues, "issues", with_is_last=False))
    return api


def test_velocity_and_sprints(make_run, board):
    config = JiraSource(url=board.url, board_id=42, email="bot@acme.test")
    out = jira.collect(make_run("jira", config, jira_token="jira-secret"))
    assert [(p.kpi, p.value, p.at.isoformat()) for p in out.points] == [
        ("story_points_completed_per_sprint", 13.0, "2026-11-02T10:30:00+00:00"),
        ("story_points_completed_per_sprint", 44.5, "2026-11-16T10:00:00+00:00")]
    assert [(s.sprint_id, s.state, s.committed, s.completed) for s in out.sprints] == [
        ("21", "closed", 16.0, 13.0), ("22", "closed", 49.5, 44.5), ("23", "active", 5.0, 0.0)]
    assert out.sprints[2].end_at.isoformat() == "2026-11-30T09:00:00+00:00"
    auth = board.calls(f"{BOARD}/configuration")[0].headers["Authorization"]
    assert auth == "Basic " + base64.b64encode(b"bot@acme.test:jira-secret").decode()
    assert board.calls(f"{BOARD}/sprint/22/issue")[0].param("fields") == "customfield_10016,status"
    assert len(board.calls(f"{BOARD}/sprint/22/issue")) == 3 and len(board.calls(f"{BOARD}/sprint")) == 2


def test_configured_field_and_bearer_token(make_run, board):
    config = JiraSource(url=board.url, board_id=42, story_points_field="customfield_10016", sprints=1)
    out = jira.collect(make_run("jira", config, jira_token="pat"))
    assert [p.value for p in out.points] == [44.5]
    assert not board.calls(f"{BOARD}/configuration")
    assert board.calls(f"{BOARD}/sprint")[0].headers["Authorization"] == "Bearer pat"


def test_board_estimating_by_issue_count(make_run, api):
    api.on("GET", f"{BOARD}/configuration", Reply({"id": 42, "estimation": {"type": "issueCount"}}))
    with pytest.raises(CollectorError, match="set story_points_field"):
        jira.collect(make_run("jira", JiraSource(url=api.url, board_id=42), jira_token="t"))


def test_missing_token(make_run, api):
    with pytest.raises(CollectorError, match="JIRA_TOKEN"):
        jira.collect(make_run("jira", JiraSource(url=api.url, board_id=42)))
