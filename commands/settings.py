"""The settings admins change from the App Home, and a team's leads their own team's (blocks.TEAM_KINDS): each
button opens its modal (in the ack: views.open takes the trigger_id within 3 seconds), each submission is checked as
the config file is and stored inside its ack, so the person sees field errors, the dry run of an alert rule, or the
confirmation right in the modal."""

from __future__ import annotations

import re
from typing import Any

from aurum.core.context import Context
from aurum.core.errors import InputError
from aurum.settings import blocks, service
from aurum.squads import roles
from aurum.squads import teams as squads
from aurum.surveys.blocks import notice_modal
from commands.common import Asker, refusal
from commands.modals import open_modal, view_metadata

OPEN_ACTIONS = re.compile(f"^{blocks.OPEN_PREFIX}({'|'.join(blocks.KINDS)})$")
CALLBACKS = re.compile(f"^{blocks.CALLBACK_PREFIX}({'|'.join([*blocks.KINDS, blocks.ALERT_SAVE])})$")
DOING = "change the bot's settings"
NOT_OPENED = "Slack did not open the settings form just now ({reason}). Please try again in a minute."
OUT_OF_DATE = "This form is out of date: its team is no longer in the settings. Open it again from the App Home."


def _refused(ctx: Context, asker: Asker, squad: squads.Squad | None) -> dict:
    """Who may: admins, and for a team's form its leads too."""
    if squad is None:
        return notice_modal("Settings", refusal(ctx, asker, DOING, squads.IMPLICIT))
    return notice_modal("Settings", refusal(ctx, asker, f"change the settings of {squad.label}", squad,
                                            [roles.LEADS]))


def register(app: Any, ctx: Context) -> None:
    def open_settings(ack, body: dict[str, Any], client: Any) -> None:
        ack()
        asker = Asker.from_body(body)
        kind = (body.get("actions") or [{}])[0].get("action_id", "").removeprefix(blocks.OPEN_PREFIX)
        with ctx.serving(asker.team_id):
            if ctx.is_admin(asker.user_id, asker.team_id):
                view = service.view_for(ctx, asker.team_id, kind)
            elif (led := roles.led_by(ctx, asker.user_id)) is not None and kind in blocks.TEAM_KINDS:
                view = service.view_for(ctx, asker.team_id, kind, led)
            else:
                view = _refused(ctx, asker, None)
        open_modal(client, ctx, asker, body["trigger_id"], view, NOT_OPENED)

    def submit(ack, body: dict[str, Any]) -> None:
        asker = Asker.from_body(body)
        kind = (body.get("view") or {}).get("callback_id", "").removeprefix(blocks.CALLBACK_PREFIX)
        metadata = view_metadata(body)
        with ctx.serving(asker.team_id):
            try:
                squad = service.team_of(ctx, metadata)
            except InputError:
                ack(response_action="update", view=notice_modal("Settings", OUT_OF_DATE))
                return
            roles_needed = [roles.LEADS] if squad is not None and kind in blocks.TEAM_KINDS else []
            if not roles.may(ctx, asker.team_id, asker.user_id, squad or squads.IMPLICIT, roles_needed):
                ack(response_action="update", view=_refused(ctx, asker, squad if roles_needed else None))
                return
        state = (body.get("view") or {}).get("state") or {}
        ack(**service.submit(ctx, asker.team_id, asker.user_id, kind, state, metadata, squad))

    app.action(OPEN_ACTIONS)(open_settings)
    app.view(CALLBACKS)(submit)
