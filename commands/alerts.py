"""`/alerts` and the buttons on alert messages (acknowledge, snooze, useful / noise)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aurum.alerts import actions
from aurum.alerts import blocks as alert_blocks
from aurum.alerts.rules import AlertRule, parse_duration
from aurum.core import outbox
from aurum.core.context import Context
from aurum.core.errors import InputError
from aurum.core.text import cleaned
from aurum.kpis.blocks import escape, section
from aurum.squads import teams as squads
from commands.common import Asker, button, only_admins, reply, slash_command, team_context, tell

COMMAND = "/alerts"
BUTTONS = re.compile(
    rf"^({alert_blocks.ACK}|{alert_blocks.SNOOZE}_(1h|4h|1d)|{alert_blocks.USEFUL}|{alert_blocks.NOISE})$")
USAGE = (
    "*Usage*\n"
    "• `/alerts [team:<key>]` — what is firing and pending now (of a team's values)\n"
    "• `/alerts rules` — every rule, its condition, channels and state\n"
    "• `/alerts history [kpi]` — recent alert episodes (of one KPI) and the alert accuracy\n"
    "• `/alerts silence <rule> <duration> [reason]` — no notifications for a while (admins), e.g. `2h`, `1d`\n"
    "• `/alerts test <rule>` — a test notification in the rule's channel"
)


@dataclass(frozen=True)
class Overview:
    pass


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class Rules:
    pass


@dataclass(frozen=True)
class History:
    kpi: str | None


@dataclass(frozen=True)
class Silence:
    rule: AlertRule
    duration: timedelta
    reason: str


@dataclass(frozen=True)
class Test:
    rule: AlertRule


Request = Overview | Help | Rules | History | Silence | Test


def _rule(ctx: Context, name: str) -> AlertRule:
    rules = {r.name.lower(): r for r in ctx.config.alerts.rules.values()}
    found = rules.get(name.lower())
    if found is None:
        names = ", ".join(f"`{r.name}`" for r in ctx.config.alerts.rules.values())
        raise InputError(f"Unknown alert rule '{escape(name)}'. Rules: {names}")
    return found


def parse(ctx: Context, text: str) -> Request:
    words = text.split()
    if not words:
        return Overview()
    head, rest = words[0].lower(), words[1:]
    if head == "help":
        return Help()
    if head == "rules" and not rest:
        return Rules()
    if head == "history" and len(rest) <= 1:
        if not rest:
            return History(None)
        kpi = ctx.catalog.resolve(rest[0])
        if kpi is None:
            return History(next(iter(_rule(ctx, rest[0]).kpis)))
        return History(kpi.key)
    if head == "silence":
        if len(rest) < 2:
            raise InputError("Usage: `/alerts silence <rule> <duration> [reason]`, e.g. `/alerts silence "
                             "ApiLatencyHigh 2h load test`.")
        rule = _rule(ctx, rest[0])
        try:
            duration = parse_duration(rest[1])
        except ValueError as exc:
            raise InputError(str(exc)) from None
        return Silence(rule, duration, cleaned(" ".join(rest[2:]), "silence reason"))
    if head == "test" and len(rest) == 1:
        return Test(_rule(ctx, rest[0]))
    raise InputError(f"I don't understand '{escape(text)}'.\n{USAGE}")


def register(app: Any, ctx: Context) -> None:
    slash_command(app, ctx, COMMAND, lambda text, _asker: parse(ctx, text), handle, teams=True)

    def press_button(body: dict[str, Any]) -> None:
        asker = Asker.from_body(body)
        action = body["actions"][0]
        try:
            with ctx.transaction() as session:
                click(ctx, session, asker, action["action_id"], action.get("value", ""))
        except InputError as exc:
            tell(ctx, asker, str(exc))

    button(app, ctx, BUTTONS, press_button)


def click(ctx: Context, session, asker: Asker, action_id: str, value: str) -> None:
    episode_id, _, label = value.partition(":")
    if not episode_id.isdigit():
        raise InputError("That button belongs to an alert this bot does not know.")
    number = int(episode_id)
    if action_id == alert_blocks.ACK:
        actions.acknowledge(ctx, session, asker.team_id, number, asker.user_id)
    elif action_id.startswith(alert_blocks.SNOOZE):
        actions.snooze(ctx, session, asker.team_id, number, asker.user_id, label)
    else:
        verdict = "useful" if action_id == alert_blocks.USEFUL else "noise"
        result = actions.feedback(ctx, session, asker.team_id, number, asker.user_id, verdict)
        reply(session, asker, f"Thanks — noted as {verdict}. {result.describe()}")


def handle(ctx: Context, asker: Asker, request: Request) -> None:
    if isinstance(request, Help):
        tell(ctx, asker, "How to use /alerts", [section(USAGE)])
    elif isinstance(request, Overview):
        overview(ctx, asker)
    elif isinstance(request, Rules):
        with ctx.reading() as session:
            lines = actions.rule_lines(ctx, session, asker.team_id)
        tell(ctx, asker, "Alert rules", alert_blocks.with_note(alert_blocks.rules_listing(lines), workspace_note(ctx)))
    elif isinstance(request, History):
        with ctx.reading() as session:
            lines = actions.history_lines(ctx, session, asker.team_id, request.kpi)
            accuracy = actions.accuracy(session, asker.team_id, ctx.now())
        heading = f"for `{request.kpi}`" if request.kpi else "(all rules)"
        tell(ctx, asker, "Alert history", alert_blocks.with_note(
            alert_blocks.history(lines, heading, accuracy.describe()), workspace_note(ctx)))
    elif isinstance(request, Silence):
        if not only_admins(ctx, asker, "silence alerts"):
            silence(ctx, asker, request)
    else:
        with ctx.transaction() as session:
            targets = actions.send_test(ctx, session, asker.team_id, request.rule)
            reply(session, asker,
                        f"🧪 Test notification for {request.rule.name} sent to {', '.join(targets)}.")


def workspace_note(ctx: Context) -> str:
    """Where the workspace has teams: alert rules, their notifications and episodes are the workspace's."""
    if not ctx.config.teams:
        return ""
    return (f"Alert rules and their episodes are the workspace's: they follow the values of "
            f"{squads.default_squad(ctx.config).label} (the default team). `/alerts team:<key>` shows the rules "
            "that hold on another team's values.")


def overview(ctx: Context, asker: Asker) -> None:
    """What fires: the alerts of the default team's values, or the rules that hold on another team's values."""
    team_ctx, squad = team_context(ctx, asker)
    with ctx.reading() as session:
        if squad.stored == squads.default_squad(ctx.config).stored:
            lines, note = actions.current_lines(ctx, session, asker.team_id), workspace_note(ctx)
        else:
            lines = actions.holding_lines(team_ctx, session, asker.team_id)
            note = (f"The rules whose condition holds on {squad.label}'s latest values. Notifications, "
                    f"acknowledgements and `/alerts history` follow {squads.default_squad(ctx.config).label}'s "
                    "values (the default team).")
    tell(ctx, asker, f"{len(lines)} alerts firing or pending",
         alert_blocks.with_note(alert_blocks.current(lines), note))


def silence(ctx: Context, asker: Asker, request: Silence) -> None:
    try:
        with ctx.transaction() as session:
            found = actions.silence(ctx, session, asker.team_id, request.rule, request.duration, request.reason,
                                    asker.user_id)
            until = alert_blocks.when(found.until, ctx.tz)
            why = f": {escape(request.reason)}" if request.reason else ""
            named = ctx.config.channels.model_dump()
            channel = named.get(request.rule.channels[0], request.rule.channels[0])
            outbox.post(session, asker.team_id, channel,
                        f"🔕 <@{asker.user_id}> silenced *{request.rule.name}* until {until}{why}")
            reply(session, asker,
                        f"🔕 {request.rule.name} is silenced until {until}. Evaluation goes on; notifications "
                        "wait until then.")
    except InputError as exc:
        tell(ctx, asker, str(exc))
