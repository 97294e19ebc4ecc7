"""Issue links in what people write, and their title and state from local servers speaking Jira's REST API and
GitHub's REST API wire format, through the collectors' own clients (auth, retries, one error type)."""

from __future__ import annotations

import base64

import pytest
from pydantic import SecretStr

from aurum.collectors import issues
from aurum.collectors.base import CollectorError
from aurum.collectors.config import GithubSource, JiraSource, SourcesConfig
from aurum.collectors.issues import IssueLink
from tests.collectors.conftest import NOW
from tests.fakes.http_api import Reply

BOTH = SourcesConfig(jira=JiraSource(url="https://acme.atlassian.net", board_id=1),
                     github=GithubSource(repository="acme/shop"))


def test_links_are_found_in_the_order_written_and_only_for_configured_sources():
    text = "See PROJ-12, https://github.com/acme/shop/pull/7 and acme/api#3; again PROJ-12. utf-8 x/PROJ-9 AB-0"
    assert issues.links_in(text, BOTH) == [IssueLink("jira", "PROJ-12"), IssueLink("github", "acme/shop#7"),
                                           IssueLink("github", "acme/api#3")]
    assert issues.links_in(text, SourcesConfig(jira=BOTH.jira)) == [IssueLink("jira", "PROJ-12")]
    assert issues.links_in(text, SourcesConfig()) == []
    many = " ".join(f"A-{n}" for n in range(1, 9))
    assert len(issues.links_in(many, BOTH)) == issues.MAX_LINKS


def test_a_jira_issue_with_basic_auth_and_a_pull_request_from_github(api, waits):
    api.on("GET", "/rest/api/2/issue/PROJ-12", Reply({"key": "PROJ-12", "fields": {
        "summary": "Login fails", "status": {"name": "Done", "statusCategory": {"key": "done"}}}}))
    api.on("GET", "/repos/acme/shop/issues/7", Reply(None, status=503, headers={"Retry-After": "2"}),
           Reply({"number": 7, "title": "Faster cache", "state": "closed",
                  "pull_request": {"merged_at": "2026-11-20T10:00:00Z"}}))
    sources = SourcesConfig(jira=JiraSource(url=api.url, board_id=1, email="bot@acme.test"),
                            github=GithubSource(repository="acme/shop", api_url=api.url))
    secrets = {"jira_token": SecretStr("jt"), "github_token": SecretStr("gt")}
    options = {"sleep": waits.append, "backoff": 0.01}
    assert issues.describe(IssueLink("jira", "PROJ-12"), sources, secrets, NOW, http_options=options) == \
        issues.Issue("Login fails", "Done")
    assert api.calls("/rest/api/2/issue/PROJ-12")[0].headers["Authorization"] == \
        "Basic " + base64.b64encode(b"bot@acme.test:jt").decode()
    assert issues.describe(IssueLink("github", "acme/shop#7"), sources, secrets, NOW, http_options=options) == \
        issues.Issue("Faster cache", "merged")
    assert waits == [2.0]  # the 503's Retry-After, honoured


def test_an_unreadable_issue_is_one_error_naming_the_source(api):
    api.on("GET", "/rest/api/2/issue/PROJ-1", Reply({"errorMessages": ["Issue does not exist"]}, status=404))
    api.on("GET", "/rest/api/2/issue/PROJ-2", Reply({"key": "PROJ-2", "fields": {}}))
    sources = SourcesConfig(jira=JiraSource(url=api.url, board_id=1))
    secrets = {"jira_token": SecretStr("jt")}
    with pytest.raises(CollectorError, match="jira: /rest/api/2/issue/PROJ-1: not found"):
        issues.describe(IssueLink("jira", "PROJ-1"), sources, secrets, NOW)
    with pytest.raises(CollectorError, match="jira: unexpected answer for PROJ-2"):
        issues.describe(IssueLink("jira", "PROJ-2"), sources, secrets, NOW)
    with pytest.raises(CollectorError, match="JIRA_TOKEN is not set"):
        issues.describe(IssueLink("jira", "PROJ-1"), sources, {}, NOW)
