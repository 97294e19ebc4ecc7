"""The survey modal: the DM buttons ("Take the survey", "No reminder") and the view submission.

The "Take the survey" button's ack function opens the view itself (commands.modals). The app runs with
`process_before_response=True`: Slack gets its HTTP answer only when the ack function returns, so `views.open` runs
inside Slack's 3-second window. The submission is checked and stored inside its ack: the person learns right away
whether the answers are in, with field errors keyed to the input block of the question they concern.
"""

from __future__ import annotations

import logging
from typing import Any

from aurum.core.context import Context
from aurum.core.text import cleaned_form
from aurum.surveys import answers, blocks, service
from aurum.surveys.blocks import CALLBACK_ID, NO_REMINDER_ACTION, TAKE_ACTION
from commands.common import Asker, button, tell
from commands.modals import open_modal, view_metadata

log = logging.getLogger(__name__)
SAVE_FAILED = "Sorry, your answers could not be saved just now. Please send them again in a minute."


NOT_OPENED = ("Slack did not open the survey form just now ({reason}). Please try again in a minute; or answer "
              "in one line: `/survey answer 8 | 7 | …` (see `/survey help`).")


def open_view(client: Any, ctx: Context, asker: Asker, trigger_id: str, survey_key: str | None = None,
              run_id: int | None = None) -> None:
    """Open the survey modal (or the notice that the run has closed) for the person who asked; from an ack
    function, inside Slack's 3 seconds. If Slack does not open it, the person is told (a queued reply)."""
    view = service.view_for(ctx, asker.team_id, asker.user_id, survey_key=survey_key, run_id=run_id)
    open_modal(client, ctx, asker, trigger_id, view, NOT_OPENED)


def _run_id(body: dict[str, Any]) -> int | None:
    try:
        return int((body.get("actions") or [{}])[0].get("value", ""))
    except ValueError:
        return None


def submission_answer(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """The ack payload for a view submission: field errors, the closed notice, or the thank-you view."""
    meta = view_metadata(body)
    survey = ctx.config.surveys.definitions.get(str(meta.get("survey")))
    if survey is None or not isinstance(meta.get("run"), int):
        return {"response_action": "update", "view": blocks.notice_modal("Survey", "This form is out of date.")}
    asker = Asker.from_body(body)
    survey = service.asked(ctx, asker.team_id, asker.user_id, survey.key, run_id=meta["run"])  # the run's questions
    raw, refused = cleaned_form(blocks.values_from_state((body.get("view") or {}).get("state") or {}),
                               "survey answer")
    if refused:  # no database stores it: say so on the field, never "send them again"
        return {"response_action": "errors", "errors": refused}
    given, errors = answers.check(survey, raw)
    if errors:
        return {"response_action": "errors", "errors": errors}
    first_block = answers.fields(survey)[0].block_id
    try:
        stored = service.respond(ctx, asker.team_id, asker.user_id, survey.key, given, run_id=meta["run"])
    except answers.RunClosed as closed:
        with ctx.reading() as session:
            text = service.closed_notice(ctx, session, asker.team_id, survey.key, closed.run_id)
        return {"response_action": "update", "view": blocks.notice_modal(survey.short_name, text)}
    except answers.SubmitError as exc:
        return {"response_action": "errors", "errors": {first_block: str(exc)}}
    except Exception:  # the database failed: say so in the form instead of losing the answers silently
        log.exception("survey answers not stored", extra={"survey": survey.key})
        return {"response_action": "errors", "errors": {first_block: SAVE_FAILED}}
    return {"response_action": "update", "view": blocks.thanks_modal(survey, stored.run, ctx.tz, stored.replaced)}


def register(app: Any, ctx: Context) -> None:
    def take(ack, body: dict[str, Any], client: Any) -> None:
        ack()
        open_view(client, ctx, Asker.from_body(body), body["trigger_id"], run_id=_run_id(body))

    def no_reminder(body: dict[str, Any]) -> None:
        asker = Asker.from_body(body)
        run_id = _run_id(body)
        done = run_id is not None and service.opt_out(ctx, asker.team_id, run_id, asker.user_id)
        tell(ctx, asker, "OK: no reminder for this survey." if done else "You were not asked in this survey.")

    def submit(ack, body: dict[str, Any]) -> None:
        ack(**submission_answer(ctx, body))

    app.action(TAKE_ACTION)(take)
    button(app, ctx, NO_REMINDER_ACTION, no_reminder)
    app.view(CALLBACK_ID)(submit)
