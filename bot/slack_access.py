"""Single-token mode: whether Slack accepts the bot token, as the last auth.test found; what /readyz reports and what
the log says (with the URL asked and the way out), once when a problem appears and then at most every REPEAT_LOG."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.error import URLError

from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)
# slack_sdk logs every failed request at ERROR itself; for auth.test the problem below says it, with the way out.
QUIET_SDK = logging.getLogger(__name__ + ".auth_test")
QUIET_SDK.setLevel(logging.CRITICAL)
REPEAT_LOG = 15 * 60.0  # seconds before the same problem is logged again (auth.test is retried every 2 s to 5 min)
REFUSED = frozenset({"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"})


def auth_test_problem(api_url: str, exc: Exception) -> str:
    """What went wrong when auth.test at `api_url` raised `exc`, and what to do about it."""
    url = api_url.rstrip("/") + "/auth.test"
    if isinstance(exc, SlackApiError):
        error = exc.response.get("error") if hasattr(exc.response, "get") else None
        if error in REFUSED:
            return (f"Slack refuses SLACK_BOT_TOKEN: {url} answered {error}. Set SLACK_BOT_TOKEN to the app's Bot "
                    "User OAuth Token (xoxb-…, on the app's OAuth & Permissions page at https://api.slack.com/apps; "
                    "reinstall the app if it was revoked).")
        return f"Slack's Web API at {url} answered {error or f'HTTP {exc.response.status_code}'}."
    reason = exc.reason if isinstance(exc, URLError) else exc
    return (f"Slack's Web API cannot be reached at {url} ({type(exc).__name__}: {reason}). Check SLACK_API_URL "
            "(unset, it is https://slack.com/api/) and that this machine reaches it (network, proxy, firewall).")


@dataclass
class SlackAccess:
    """A process's view of Slack in single-token mode: `failed` after each auth.test that did not answer, `answered`
    after one that did."""

    problem: str | None = None  # None: Slack accepted the token, or was not asked (OAuth mode, the console)
    clock: Callable[[], float] = time.monotonic
    _logged: tuple[str, float] | None = field(default=None, repr=False)

    def failed(self, problem: str) -> None:
        now = self.clock()
        self.problem = problem
        if self._logged is not None and self._logged[0] == problem and now - self._logged[1] < REPEAT_LOG:
            return
        log.warning("Slack did not confirm the bot token (the workspace is not registered; a web process is not "
                    "ready): %s The bot asks again, waiting longer each time; this is said again every %d minutes "
                    "while it lasts.", problem, REPEAT_LOG // 60)
        self._logged = (problem, now)

    def answered(self) -> None:
        if self.problem is not None:
            log.info("Slack accepts the bot token now")
        self.problem, self._logged = None, None
