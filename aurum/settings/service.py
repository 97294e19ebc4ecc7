"""The settings modals: what each shows for a workspace, and each submission checked, stored and answered (the ack
payload of a view submission: field errors, or the modal's next view)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from aurum.config import ConfigError
from aurum.core.context import Context
from aurum.core.jobs import JobRunner
from aurum.core.text import cleaned_form, escape
from aurum.settings import blocks, dryrun, edits
from aurum.squads import teams as squads
from aurum.squads.teams import Squad
from aurum.surveys.bank import bank
from storage import settings as store

Answer = dict[str, Any]


def view_for(ctx: Context, team_id: str, kind: str, squad: Squad | None = None) -> dict:
    """The modal an App Home button opens, with the workspace's settings as stored now; given a team (its leads'
    forms: blocks.TEAM_KINDS), that team's own."""
    with ctx.serving(team_id):
        if squad is not None:
            return _team_view(ctx, kind, squad)
        if kind == "kpi":
            return blocks.kpi_modal(ctx.catalog)
        if kind == "channels":
            return blocks.channels_modal(ctx.config.channels.model_dump())
        if kind == "schedules":
            return blocks.schedules_modal(schedule_rows(ctx), ctx.tz)
        if kind == "anonymity":
            return blocks.anonymity_modal(ctx.config.surveys.threshold)
        if kind == "questions":
            survey = ctx.config.surveys.survey("team")
            return blocks.questions_modal(bank(survey), survey)
        return blocks.alert_modal(list(ctx.config.alerts.rules.values()))


def _team_view(ctx: Context, kind: str, squad: Squad) -> dict:
    team = (squad.key, squad.label)
    if kind == "kpi":
        return blocks.kpi_modal(squads.scope(ctx, squad).catalog, team)
    return blocks.channels_modal(_channels_of(ctx, squad), team)


def _channels_of(ctx: Context, squad: Squad | None) -> dict[str, str]:
    """Each key of `channels:` as the team sees it (the workspace's without a team)."""
    workspace = ctx.config.channels.model_dump()
    return workspace if squad is None else {key: squads.channel(ctx.config, squad, key) for key in workspace}


def team_of(ctx: Context, metadata: dict[str, Any]) -> Squad | None:
    """The team a form is about (its metadata's `team`), None for the workspace's; InputError for a team no more
    in `teams:`."""
    key = metadata.get("team")
    return squads.by_key(ctx.config, str(key)) if key else None


def _runner(ctx: Context) -> JobRunner:
    """Every job a workspace may schedule, whichever of them this process runs."""
    return JobRunner(ctx, jobs=ctx.timetable or ctx.jobs)


def schedule_rows(ctx: Context) -> list[tuple[str, str, str, list[datetime]]]:
    runner, now = _runner(ctx), ctx.now()
    rows = []
    for name, job in sorted(runner.jobs.items()):
        upcoming: list[datetime] = []
        trigger, at = runner.trigger(job), now
        while len(upcoming) < 3:
            fire = trigger.get_next_fire_time(None, at)
            if fire is None:
                break
            upcoming.append(fire)
            at = fire + timedelta(seconds=1)
        rows.append((name, job.description, runner.cron(job), upcoming))
    return rows


def home_section(ctx: Context, session: Session, team_id: str, squad: Squad | None = None) -> list[dict]:
    """The admins' Settings section; given a team, its leads' (with the latest changes of that team)."""
    prefix = f"teams.{squad.key}." if squad is not None else ""
    changes = [(c.at, c.user_id, c.path, _shown(c.before), _shown(c.after))
               for c in store.recent_changes(session, team_id, limit=50) if c.path.startswith(prefix)][:5]
    return blocks.home_section(changes, ctx.tz, squad.label if squad is not None else "")


def _shown(value: str | None) -> str | None:
    return None if value is None else str(json.loads(value))[:200]


def submit(ctx: Context, team_id: str, user_id: str, kind: str, state: dict[str, Any],
           metadata: dict[str, Any], squad: Squad | None = None) -> Answer:
    """`squad`: the team whose own settings the form changes (team_of), None for the workspace's."""
    with ctx.serving(team_id):
        found, refused = cleaned_form(blocks.values(state), "setting")
        if refused:  # no database stores it: said on the field
            return _errors(refused)
        if squad is not None and kind in blocks.TEAM_KINDS:
            return (_kpi if kind == "kpi" else _channels)(ctx, team_id, user_id, found, squad)
        if kind == blocks.ALERT_SAVE:
            return _alert_save(ctx, team_id, user_id, metadata)
        if kind == "alert":
            return _alert_dry_run(ctx, team_id, found)
        handle = {"kpi": _kpi, "channels": _channels, "schedules": _schedules, "anonymity": _anonymity,
                  "questions": _questions}[kind]
        return handle(ctx, team_id, user_id, found)


def _prefix(squad: Squad | None) -> str:
    """Where a team's own settings live in the document (the workspace's at its top)."""
    return f"teams.{squad.key}." if squad is not None else ""


def _channels(ctx: Context, team_id: str, user_id: str, found: dict[str, Any], squad: Squad | None = None) -> Answer:
    current, at = _channels_of(ctx, squad), _prefix(squad)
    picked = {block.split(":", 1)[1]: value for block, value in found.items() if block.startswith("channel:")}
    return _store(ctx, team_id, user_id, "channels",
                  {f"{at}channels.{key}": value for key, value in picked.items()
                   if value and value != current.get(key)},
                  {f"channels.{key}": f"channel:{key}" for key in picked})


def _schedules(ctx: Context, team_id: str, user_id: str, found: dict[str, Any]) -> Answer:
    runner = _runner(ctx)
    typed = {block.split(":", 1)[1]: (value or "").strip() for block, value in found.items()
             if block.startswith("job:")}
    fields = {f"schedule of {name}": f"job:{name}" for name in typed}
    fields |= {f"schedules.{name}": f"job:{name}" for name in typed}
    return _store(ctx, team_id, user_id, "schedules",
                  {f"schedules.{name}": cron for name, cron in typed.items()
                   if name in runner.jobs and cron != runner.cron(runner.jobs[name])}, fields)


def _anonymity(ctx: Context, team_id: str, user_id: str, found: dict[str, Any]) -> Answer:
    number = _whole(found.get("threshold"))
    if number is None:
        return _errors({"threshold": "Write a whole number of people, like 5."})
    return _store(ctx, team_id, user_id, "anonymity", {"surveys.threshold": number}, {"": "threshold"})


def _questions(ctx: Context, team_id: str, user_id: str, found: dict[str, Any]) -> Answer:
    survey = ctx.config.surveys.survey("team")
    known = {q.id: q for q in bank(survey)}
    picked = [(f"slot:{n}", found.get(f"slot:{n}")) for n in range(1, blocks.SLOTS + 1)]
    picked += [("rotating", qid) for qid in found.get("rotating") or []]
    seen: dict[str, str] = {}
    for block, qid in picked:
        if qid and qid not in known:
            return _errors({block: "Pick questions from the list."})
        if qid in seen:
            return _errors({block: f"“{known[qid].label}” is picked already ({seen[qid].replace(':', ' ')}); "
                                   "pick each question once."})
        if qid:
            seen[qid] = block
    fixed = [qid for block, qid in picked if qid and block.startswith("slot:")]
    rotating = [qid for block, qid in picked if qid and block == "rotating"]
    if not fixed and not rotating:
        return _errors({"slot:1": "Pick at least one question."})
    rotation = _whole(found.get("rotation") or 0)
    if rotation is None:
        return _errors({"rotation": f"'{found['rotation']}' is not a whole number; write it like 2, or leave it "
                                    "empty to ask every rotating question."})
    questions = [known[qid].model_dump(exclude_defaults=True) for qid in fixed]
    questions += [{**known[qid].model_dump(exclude_defaults=True), "rotating": True} for qid in rotating]
    return _store(ctx, team_id, user_id, "questions",
                  {"surveys.team.questions": questions, "surveys.team.rotation": rotation},
                  {"rotation": "rotation", "questions": "slot:1"})


def _kpi(ctx: Context, team_id: str, user_id: str, found: dict[str, Any], squad: Squad | None = None) -> Answer:
    key = str(found.get("kpi") or "")
    if ctx.catalog.resolve(key) is None:
        return _errors({"kpi": "Pick a KPI from the list."})
    changes: dict[str, Any] = {}
    if found.get("target"):
        changes["target"] = str(found["target"]).strip()
    if found.get("stretch"):
        try:
            changes["stretch"] = float(str(found["stretch"]).replace(",", "."))
        except ValueError:
            return _errors({"stretch": f"'{found['stretch']}' is not a number; write it like 150 or 99.5."})
    assert ctx.live is not None
    at = _prefix(squad)
    name = edits.kpi_entry(ctx, ctx.live.document(team_id), key, within=at)
    return _store(ctx, team_id, user_id, "kpi", {f"{at}kpis.{name}.{field}": v for field, v in changes.items()},
                  {".stretch": "stretch", "": "target"})


def _alert_dry_run(ctx: Context, team_id: str, found: dict[str, Any]) -> Answer:
    rule = ctx.config.alerts.rules.get(str(found.get("rule") or ""))
    if rule is None:
        return _errors({"rule": "Pick a rule from the list."})
    changes: dict[str, Any] = {}
    if found.get("threshold"):
        try:
            changes["threshold"] = float(str(found["threshold"]).replace(",", "."))
        except ValueError:
            return _errors({"threshold": f"'{found['threshold']}' is not a number; write it like 250 or 0.5."})
    if found.get("for"):
        changes["for"] = str(found["for"]).strip()
    if found.get("channels"):
        changes["channels"] = list(found["channels"])
    assert ctx.live is not None
    document = edits.with_values(ctx.live.document(team_id),
                                 {f"alerts.rules.{rule.name}.{field}": v for field, v in changes.items()})
    try:
        config, _ = ctx.live.check(document, edits.ORIGIN)
    except ConfigError as exc:
        return _errors({_block(str(exc), {".for": "for", ".channels": "channels", "": "threshold"}):
                        edits.problem(exc)})
    with ctx.reading() as session:
        now, missing = ctx.now(), ctx.config.alerts.missing_data
        before = dryrun.fired_times(session, team_id, rule, now, ctx.config.alerts.missing_policy(rule))
        after_rule = config.alerts.rules[rule.name]
        after = dryrun.fired_times(session, team_id, after_rule, now, after_rule.missing_data or missing)
    return {"response_action": "update", "view": blocks.alert_confirm_modal(rule, changes, before, after)}


def _alert_save(ctx: Context, team_id: str, user_id: str, metadata: dict[str, Any]) -> Answer:
    name, changes = str(metadata.get("rule") or ""), metadata.get("changes") or {}
    if name not in ctx.config.alerts.rules or not isinstance(changes, dict):
        return {"response_action": "update", "view": blocks.done_modal("alert", "This form is out of date.")}
    return _store(ctx, team_id, user_id, "alert", {f"alerts.rules.{name}.{f}": v for f, v in changes.items()},
                  {"": "rule"}, errors_as_view=True)


def _store(ctx: Context, team_id: str, user_id: str, kind: str, values: dict[str, Any], fields: dict[str, str],
           errors_as_view: bool = False) -> Answer:
    """Store the changes; a refusal goes on the field whose path fragment (`fields`) the message names."""
    if not values:
        return {"response_action": "update", "view": blocks.done_modal(kind, "Nothing changed.")}
    try:
        changed = edits.change(ctx, team_id, user_id, values)
    except ConfigError as exc:
        if errors_as_view:
            return {"response_action": "update", "view": blocks.done_modal(kind, edits.problem(exc))}
        return _errors({_block(str(exc), fields): edits.problem(exc)})
    text = "Saved; it applies from now on:\n" + "\n".join(f"• `{escape(path)}`" for path in changed) if changed \
        else "Nothing changed."
    return {"response_action": "update", "view": blocks.done_modal(kind, text)}


def _block(message: str, fields: dict[str, str]) -> str:
    return next((block for fragment, block in fields.items() if fragment in message), next(iter(fields.values())))


def _errors(errors: dict[str, str]) -> Answer:
    return {"response_action": "errors", "errors": errors}


def _whole(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except ValueError:
        return None
