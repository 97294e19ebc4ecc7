"""The Jira issues and GitHub issues or pull requests that people link to in what they write (report notes): which
links a text holds, and each one's title and state, read with the collectors' own clients (the configured base URL,
auth and retries of aurum.collectors.jira and aurum.collectors.github).

A link counts only where its source is configured: `PROJ-123` with `sources.jira`, a GitHub issue address or
`owner/repo#12` with `sources.github`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from pydantic import SecretStr

from aurum.collectors.base import CollectorError, Run
from aurum.collectors.config import SourcesConfig

if TYPE_CHECKING:
    import httpx

JIRA_KEY = re.compile(r"(?<![\w/#-])([A-Z][A-Z0-9_]{0,9}-[1-9]\d{0,8})(?![\w-])")
GITHUB_URL = re.compile(r"https://github\.com/([\w.-]+/[\w.-]+)/(?:issues|pull)/([1-9]\d{0,8})(?![\w/])")
GITHUB_REF = re.compile(r"(?<![\w/.-])([\w.-]+/[\w.-]+)#([1-9]\d{0,8})(?!\w)")
MAX_LINKS = 5  # per text: a note is a sentence or two, not a list of tickets


@dataclass(frozen=True)
class IssueLink:
    source: str  # "jira" | "github"
    key: str  # PROJ-123 | owner/repo#12: what the cache and the reports name it by


@dataclass(frozen=True)
class Issue:
    title: str
    state: str


def links_in(text: str, sources: SourcesConfig) -> list[IssueLink]:
    """The issue links of `text` whose source is configured, in the order written, each once, at most MAX_LINKS."""
    found: list[tuple[int, IssueLink]] = []
    if sources.github:
        found += [(m.start(), IssueLink("github", f"{m.group(1)}#{m.group(2)}"))
                  for pattern in (GITHUB_URL, GITHUB_REF) for m in pattern.finditer(text)]
    if sources.jira:
        found += [(m.start(), IssueLink("jira", m.group(1))) for m in JIRA_KEY.finditer(text)]
    return list(dict.fromkeys(link for _, link in sorted(found, key=lambda pair: pair[0])))[:MAX_LINKS]


def describe(link: IssueLink, sources: SourcesConfig, secrets: Mapping[str, SecretStr | None], now: datetime,
             client: httpx.Client | None = None, http_options: dict[str, Any] | None = None) -> Issue:
    """The issue's title and state from its source; CollectorError (naming the source) when it cannot be read."""
    from aurum.collectors import github, jira  # httpx: loaded by the processes that look links up

    run = Run(source=link.source, config=getattr(sources, link.source), now=now, tz=ZoneInfo("UTC"),
              secrets=secrets, client=client, http_options=http_options or {})
    try:
        if link.source == "jira":
            body = jira.connect(run).json(f"/rest/api/2/issue/{link.key}", params={"fields": "summary,status"})
            fields = body["fields"]
            return Issue(str(fields["summary"]), str(fields["status"]["name"]))
        repo, _, number = link.key.partition("#")
        body = github.GitHub(run).http.json(f"/repos/{repo}/issues/{number}")
        state = str(body["state"])
        if body.get("pull_request"):
            state = "merged" if body["pull_request"].get("merged_at") else f"{state} pull request"
        return Issue(str(body["title"]), state)
    except (KeyError, TypeError) as exc:
        raise CollectorError(link.source, f"unexpected answer for {link.key} ({type(exc).__name__})") from None
    finally:
        if client is None and run.client is not None:
            run.client.close()
