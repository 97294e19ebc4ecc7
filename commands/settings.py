"""The settings admins change from the App Home: each button opens its modal (in the ack: views.open takes the
trigger_id within 3 seconds), each submission is checked as the config file is and stored inside its ack, so the
admin sees field errors, the dry run of an alert rule, or the confirmation right in the modal."""

from __future__ import annotations

import re
from typing import Any

from aurum.core.context import Context
from aurum.settings import blocks, service
from aurum.surveys.blocks import notice_modal
from commands.common import ONLY_ADMINS, Asker
from commands.modals import open_modal, view_metadata

OPEN_ACTIONS = re.compile(f"^{blocks.OPEN_PREFIX}({'|'.join(blocks.KINDS)})$")
CALLBACKS = re.compile(f"^{blocks.CALLBACK_PREFIX}({'|'.join([*blocks.KINDS, blocks.ALERT_SAVE])})$")
DOING = "change the bot's settings"
NOT_OPENED = "Slack did not open the settings form just now ({reason}). Please try again in a minute."


def _refusal(asker: Asker) -> str:
    return ONLY_ADMINS.format(doing=DOING, user=asker.user_id)


def register(app: Any, ctx: Context) -> None:
    def open_settings(ack, body: dict[str, Any], client: Any) -> None:
        ack()
        asker = Asker.from_body(body)
        kind = (body.get("actions") or [{}])[0].get("action_id", "").removeprefix(blocks.OPEN_PREFIX)
        if ctx.is_admin(asker.user_id, asker.team_id):
            view = service.view_for(ctx, asker.team_id, kind)
        else:
            view = notice_modal("Settings", _refusal(asker))
        open_modal(client, ctx, asker, body["trigger_id"], view, NOT_OPENED)

    def submit(ack, body: dict[str, Any]) -> None:
        asker = Asker.from_body(body)
        callback = (body.get("view") or {}).get("callback_id", "")
        kind = callback.removeprefix(blocks.CALLBACK_PREFIX)
        if not ctx.is_admin(asker.user_id, asker.team_id):
            ack(response_action="update", view=notice_modal("Settings", _refusal(asker)))
            return
        state = (body.get("view") or {}).get("state") or {}
        ack(**service.submit(ctx, asker.team_id, asker.user_id, kind, state, view_metadata(body)))

    app.action(OPEN_ACTIONS)(open_settings)
    app.view(CALLBACKS)(submit)
