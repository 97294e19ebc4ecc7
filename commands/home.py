"""The App Home tab: published each time a person opens it, by the outbox (views.publish) after the ack. The work
is keyed by the event's `event_id`, so an event Slack delivers again (X-Slack-Retry-Num) publishes once."""

from __future__ import annotations

from typing import Any

from aurum import home
from aurum.core import outbox
from aurum.core.context import Context
from aurum.squads import roles
from aurum.squads import teams as squads
from commands.common import later, work

EVENT = "app_home_opened"


def register(app: Any, ctx: Context) -> None:
    def ack_event(ack, body: dict[str, Any], event: dict[str, Any]) -> None:
        if event.get("tab", "home") == "home":  # not the Messages tab
            later(ctx, name, body)
        ack()

    def publish_home(body: dict[str, Any]) -> None:
        team_id, user = body.get("team_id") or "", body["event"]["user"]
        admin = ctx.is_admin(user, team_id)  # before the read: it may ask Slack
        squad = squads.which(ctx, team_id, user)  # the viewer's team
        led = None if admin else roles.led_by(ctx, user)
        with ctx.reading() as session:
            view = home.view(squads.scope(ctx, squad), session, team_id, squad.label, admin=admin, led=led)
        with ctx.transaction() as session:
            outbox.home(session, team_id, user, view)

    name = work(ctx, f"event:{EVENT}", publish_home)
    app.event(EVENT)(ack_event)
