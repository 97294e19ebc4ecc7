"""Opening a modal from an ack function: views.open must use the trigger_id within 3 seconds, so the ack function
opens the view itself, once, with the ack client's 2-second timeout and no retries (bot.app). When Slack does not
open it (a 429, a timeout), the person is told to try again, by the request's response_url."""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError

from aurum.core.context import Context
from aurum.core.text import outgoing
from commands.common import Asker, tell

log = logging.getLogger(__name__)


def open_modal(client: Any, ctx: Context, asker: Asker, trigger_id: str, view: dict, not_opened: str) -> None:
    """Open `view`; if Slack does not, tell the person `not_opened` (with `{reason}` filled in)."""
    try:
        client.views_open(trigger_id=trigger_id, view=outgoing(view))
    except SlackApiError as exc:
        error = exc.response.get("error") if hasattr(exc.response, "get") else None
        reason = f"Slack answered {error or exc.response.status_code}"
        log.warning("views.open failed", extra={"error": error, "status": exc.response.status_code})
        tell(ctx, asker, not_opened.format(reason=reason))
    except (SlackClientError, OSError, TimeoutError) as exc:
        log.warning("views.open failed", extra={"error": type(exc).__name__})
        tell(ctx, asker, not_opened.format(reason="Slack did not answer in time"))


def view_metadata(body: dict[str, Any]) -> dict[str, Any]:
    """A view submission's private_metadata as the view stored it (a JSON object), or {} when it is not one."""
    try:
        found = json.loads((body.get("view") or {}).get("private_metadata") or "{}")
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}
