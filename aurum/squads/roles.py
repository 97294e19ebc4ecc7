"""Who may do what beyond everyone: admins (the whole workspace), a team's leads (their own team's settings) and
scrum masters (sprints, and deleting any report note). One check, and one sentence naming who may."""

from __future__ import annotations

from collections.abc import Sequence

from aurum.core.context import Context
from aurum.squads.teams import Squad, all_squads

LEADS = "leads"
SCRUM_MASTERS = "scrum_masters"
TITLES = {LEADS: "team leads", SCRUM_MASTERS: "scrum masters"}


def holders(ctx: Context, squad: Squad, role: str) -> list[str]:
    """The user ids holding a team's role: its `leads`; or its `scrum_masters` and the workspace's (those of
    `reports:` and `surveys:`)."""
    team = squad.config
    if role == LEADS:
        return list(team.leads) if team is not None else []
    found = [*(team.scrum_masters if team is not None else []), *ctx.config.reports.scrum_masters,
             *ctx.config.surveys.scrum_masters]
    return list(dict.fromkeys(found))


def led_by(ctx: Context, user_id: str) -> Squad | None:
    """The first team (in `teams:` order) whose `leads` list the user."""
    return next((s for s in all_squads(ctx.config) if s.config is not None and user_id in s.config.leads), None)


def may(ctx: Context, team_id: str, user_id: str, squad: Squad, roles: Sequence[str] = ()) -> bool:
    """An admin, or a holder of one of `roles` in the team (asked first: an admin check may ask Slack)."""
    if any(user_id in holders(ctx, squad, role) for role in roles):
        return True
    return ctx.is_admin(user_id, team_id)


def who_may(ctx: Context, squad: Squad, roles: Sequence[str] = (), first: Sequence[str] = ()) -> str:
    """"admins, the team leads of payments (<@U1>) or the scrum masters (<@U2>)": `first`, admins, then the roles
    that hold people."""
    of = f" of {squad.label}" if squad.label else ""
    named = [f"the {TITLES[role]}{of} ({', '.join(f'<@{user}>' for user in people)})"
             for role in roles if (people := holders(ctx, squad, role))]
    parts = [*first, "admins", *named]
    return f"{', '.join(parts[:-1])} or {parts[-1]}" if len(parts) > 1 else parts[0]
