"""`/survey`: take the survey (a modal), open a run, results, status, CSV export, skip a date, answer in text."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date
from typing import Any

from aurum.core import outbox
from aurum.core.context import Context
from aurum.core.errors import InputError
from aurum.core.text import outgoing, typed
from aurum.squads import teams as squads
from aurum.surveys import answers, blocks, breakdown, export, results, runs, service
from aurum.surveys.model import SURVEY_KEYS, Survey
from aurum.surveys.runs import SurveyError
from aurum.surveys.schedule import normal_period, opening_on
from commands.common import Asker, count, later, only_admins, reply, take_team, team_context, tell, work
from commands.survey_modal import open_view

COMMAND = "/survey"
USAGE = (
    "*Usage*\n"
    "• `/survey` — take the open survey (a form; your answers are anonymous)\n"
    "• `/survey stakeholder` — take the stakeholder feedback survey\n"
    "• `/survey status [team:<key>]` — how many have answered so far (counts only)\n"
    "• `/survey results [team|stakeholder] [W48|2026-11] [team:<key>]` — results of the last (or a given) closed "
    "run; with teams, every team's unless one is named\n"
    "• `/survey answer [team|stakeholder] 8 | 7 | blockers | what works` — answer in one line instead of the form\n"
    "• Admins: `/survey open [team|stakeholder] [team:<key>]`, `/survey export [team|stakeholder] [team:<key>]`, "
    "`/survey skip <YYYY-MM-DD> [team|stakeholder]`\n"
    "With teams, status, open and export are of one team's run (the one named, else this channel's team, else "
    "yours); the stakeholder survey is the workspace's."
)
@dataclass(frozen=True)
class Take:
    survey: str | None = None


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class Open:
    survey: str


@dataclass(frozen=True)
class Results:
    survey: str
    period: str | None


@dataclass(frozen=True)
class Status:
    pass


@dataclass(frozen=True)
class Export:
    survey: str | None


@dataclass(frozen=True)
class Skip:
    day: date
    survey: str


@dataclass(frozen=True)
class Answer:
    survey: str
    given: list[answers.Answer]
    text: str = ""  # as typed: checked again against the questions of the run it goes to


Request = Take | Help | Open | Results | Status | Export | Skip | Answer


def _survey_word(words: list[str]) -> tuple[str | None, list[str]]:
    if words and words[0].lower() in SURVEY_KEYS:
        return words[0].lower(), words[1:]
    return None, words


def parse(ctx: Context, text: str) -> Request:
    """Text → request; InputError (shown in the ack) for anything malformed or not allowed."""
    head, *rest = text.split() or [""]
    verb = head.lower()
    survey, rest = _survey_word(rest)
    if verb in ("", *SURVEY_KEYS):
        return Take(verb or None)
    if verb == "help":
        return Help()
    if verb == "status" and not rest:
        return Status()
    if verb == "results" and len(rest) <= 1:
        period = normal_period(rest[0], ctx.now().astimezone(ctx.tz).year) if rest else None
        if rest and period is None:
            raise InputError(f"'{blocks.escape(rest[0])}' is not a run: write a week like `W48` or a month like "
                             "`2026-11`.")
        return Results(survey or "team", period)
    if verb == "answer":
        return _parse_answer(ctx, text.split(None, 1)[1] if " " in text.strip() else "")
    if verb == "open" and not rest:
        return Open(survey or "team")
    if verb == "export" and not rest:
        return Export(survey)
    if verb == "skip" and rest:
        return _parse_skip(ctx, rest, survey)
    raise InputError(f"I don't understand `/survey {blocks.escape(text.strip())}`.\n{USAGE}")


def _parse_skip(ctx: Context, words: list[str], survey: str | None) -> Skip:
    if survey is None and words[-1].lower() in SURVEY_KEYS:
        survey, words = words[-1].lower(), words[:-1]
    try:
        day = date.fromisoformat(words[0]) if len(words) == 1 else None
    except ValueError:
        day = None
    if day is None:
        raise InputError("Usage: `/survey skip <YYYY-MM-DD> [team|stakeholder]`, e.g. `/survey skip 2026-12-25`.")
    keys = [survey] if survey else [k for k in SURVEY_KEYS if opening_on(ctx, k, day) is not None]
    if not keys or opening_on(ctx, keys[0], day) is None:
        raise InputError(f"No survey opens on {day:%a %d %b %Y}: the team survey opens on Fridays, the stakeholder "
                         "survey on the first Wednesday of the month (see `aurum jobs`).")
    return Skip(day, keys[0])


def _parse_answer(ctx: Context, text: str) -> Answer:
    words = text.split(None, 1)
    survey = words[0].lower() if words and words[0].lower() in SURVEY_KEYS else None
    body = words[1] if survey and len(words) > 1 else "" if survey else text
    definition = ctx.config.surveys.survey(survey or "team")
    # With a rotation each run asks its own questions: they are checked against the run's, after the ack.
    return Answer(definition.key, [] if definition.rotation else _checked(definition, body), body)


def _checked(definition: Survey, body: str) -> list[answers.Answer]:
    """The answers in the order of the survey's fields; InputError naming each one not right."""
    given, errors = answers.check(definition, answers.from_text(definition, body))
    if errors:
        order = {f.block_id: (i + 1, f.label) for i, f in enumerate(answers.fields(definition))}
        lines = [f"{order[b][0]}. {blocks.escape(order[b][1])} — {message}" for b, message in errors.items()]
        raise InputError("Not saved:\n" + "\n".join(lines) + "\nWrite the answers in order, separated by `|`, "
                         "e.g. `/survey answer 8 | 7 | flaky CI | pairing`.")
    return given


def parse_with_team(ctx: Context, text: str) -> tuple[Request, str | None]:
    """The request and the team `team:<key>` names; `/survey results|status|open|export` take one."""
    text, team = take_team(ctx, text)
    request = parse(ctx, text)
    if team is not None and not isinstance(request, TEAM_REQUESTS):
        raise InputError("Only `/survey results|status|open|export` take `team:<key>`; the form, answers and "
                         "skipped dates are the same for every team.")
    return request, team


def register(app: Any, ctx: Context) -> None:
    def ack_survey(ack, body: dict[str, Any], client: Any) -> None:
        try:
            request, _team = parse_with_team(ctx, typed(body.get("text", "")))
        except InputError as exc:
            ack(text=outgoing(str(exc)), response_type="ephemeral")
            count(ctx, body, "input_error")
            return
        if isinstance(request, Help):
            ack(text=USAGE, response_type="ephemeral")
            return
        if isinstance(request, Take):  # the trigger_id lives 3 seconds: the modal opens here, once, no retries
            open_view(client, ctx, Asker.from_body(body), body["trigger_id"], survey_key=request.survey)
        else:
            later(ctx, answer, body)
        ack()

    def answer_survey(body: dict[str, Any]) -> str | None:
        asker = Asker.from_body(body)
        try:
            request, team = parse_with_team(ctx, typed(body.get("text", "")))
            return handle(ctx, dataclasses.replace(asker, team=team), request)
        except (SurveyError, answers.SubmitError, InputError) as exc:
            tell(ctx, asker, str(exc))
            return "input_error"  # counted for /metrics (and an exit status of 1 in the console)

    answer = work(ctx, f"command:{COMMAND}", answer_survey)
    app.command(COMMAND)(ack_survey)


TEAM_REQUESTS = (Results, Status, Open, Export)
ADMIN_WORK = {Open: "open a survey now", Export: "export survey answers", Skip: "skip a survey"}


def handle(ctx: Context, asker: Asker, request: Request) -> str | None:
    """Do the request; "refused" (for /metrics) when it needs an admin and the asker is none."""
    doing = ADMIN_WORK.get(type(request))
    if doing and not (isinstance(request, Skip) and asker.user_id in ctx.config.surveys.scrum_masters) \
            and only_admins(ctx, asker, doing):
        return "refused"
    if isinstance(request, Open):
        team_ctx, squad = team_context(ctx, asker) if request.survey == runs.TEAM_SURVEY else (ctx, squads.IMPLICIT)
        whose = f" of {squad.label}" if squad.label else ""
        tell(ctx, asker, f"{ctx.config.surveys.survey(request.survey).name}{whose}: "
                         f"{service.open_now(team_ctx, asker.team_id, request.survey, asker.user_id)}.")
    elif isinstance(request, Results):
        show_results(ctx, asker, request)
    elif isinstance(request, Status):
        team_ctx, squad = team_context(ctx, asker)
        tell(ctx, asker, "Survey status",
             blocks.status_message(service.status(team_ctx, asker.team_id), ctx.tz, squad.label))
    elif isinstance(request, Export):
        send_export(*team_context(ctx, asker), asker, request.survey)
    elif isinstance(request, Skip):
        skipped = service.skip(ctx, asker.team_id, request.day, request.survey, asker.user_id)
        tell(ctx, asker, f"OK: the {skipped.survey.name} of {skipped.period} will not open "
                         f"({blocks.when(skipped.opens_at, ctx.tz)}).")
    elif isinstance(request, Answer):
        asked = service.asked(ctx, asker.team_id, asker.user_id, request.survey)
        stored = service.respond(ctx, asker.team_id, asker.user_id, request.survey, _checked(asked, request.text))
        first = "replaced your earlier ones" if stored.replaced else "are in"
        tell(ctx, asker, f"🙏 Thank you: your answers {first}, stored without your name. You can change them "
                         f"until {blocks.when(stored.run.closes_at, ctx.tz)}.")
    return None


def show_breakdown(ctx: Context, asker: Asker, request: Results) -> None:
    """Every team's results of the period (the default team's latest closed run's, unless one is given)."""
    with ctx.reading() as session:
        period = service.find_run(ctx, session, asker.team_id, request.survey, request.period).period
        found = breakdown.by_team(ctx, session, asker.team_id, request.survey, period)
    labels = {squad.stored: squad.label for squad in squads.all_squads(ctx.config)}
    tell(ctx, asker, *blocks.breakdown_message(found, labels))


def show_results(ctx: Context, asker: Asker, request: Results) -> None:
    if asker.team is None and ctx.config.teams and request.survey == runs.TEAM_SURVEY:
        show_breakdown(ctx, asker, request)
        return
    if asker.team is not None:
        ctx, _squad = team_context(ctx, asker)
    with ctx.reading() as session:
        run = service.find_run(ctx, session, asker.team_id, request.survey, request.period)
        if run.state != "closed":
            verb = "was skipped" if run.state == "skipped" else f"is open until {blocks.when(run.closes_at, ctx.tz)}"
            raise SurveyError(f"That run {verb}; results come when a run closes.")
        found = results.compute(ctx, session, run)
    png = runs.trend_chart(found, ctx.tz)
    note = "📈 Trend chart sent to you by DM" if png else None
    text, message = blocks.results_message(found, ctx.tz, chart_note=note)
    with ctx.transaction() as session:
        reply(session, asker, text, message)
        if png:
            outbox.upload(session, asker.team_id, asker.user_id, png, filename=f"survey-{run.survey}-{run.period}.png",
                          title=f"{found.survey.name} trend", alt_text=runs.trend_alt_text(found))


def send_export(ctx: Context, squad: squads.Squad, asker: Asker, survey: str | None) -> None:
    """ctx's team's team survey runs and the workspace's stakeholder runs (see aurum.surveys.export)."""
    with ctx.reading() as session:
        data = export.export(ctx, session, asker.team_id, survey)
    day = ctx.now().astimezone(ctx.tz).strftime("%Y-%m-%d")
    whose = f" of {squad.label}'s team survey and the workspace's stakeholder survey" if squad.label else ""
    note = (f"{data.runs} closed runs{whose}, {data.rows} answers, no user ids"
            + (f"; {data.withheld} runs left out (fewer than {ctx.config.surveys.threshold} answers, or too few "
               "beside the other teams' to keep them apart)" if data.withheld else ""))
    name = f"-{squad.key}" if squad.key else ""
    with ctx.transaction() as session:
        outbox.upload(session, asker.team_id, asker.user_id, data.content,
                      filename=f"survey-answers{name}-{survey or 'all'}-{day}.csv", title="Survey answers (anonymous)",
                      comment=note)
        reply(session, asker, f"📎 CSV sent to you by DM: {note}.")
