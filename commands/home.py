"""The App Home tab: published with views.publish each time a person opens it (an interactive call, so it uses the
Bolt client directly rather than the outbox)."""

from __future__ import annotations

from typing import Any

from aurum import home
from aurum.core.context import Context
from commands.common import later

EVENT = "app_home_opened"


def register(app: Any, ctx: Context) -> None:
    def ack_event(ack, body: dict[str, Any], event: dict[str, Any], client: Any) -> None:
        ack()
        later(ctx, publish_home, body=body, event=event, client=client)

    def publish_home(body: dict[str, Any], event: dict[str, Any], client: Any) -> None:
        if event.get("tab", "home") != "home":
            return  # the Messages tab
        team_id = body.get("team_id") or ""
        with ctx.reading() as session:
            view = home.view(ctx, session, team_id)
        client.views_publish(user_id=event["user"], view=view)

    app.event(EVENT)(ack_event)
