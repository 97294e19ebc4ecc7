"""The preview's "Add a note" button and its modal (aurum.reports.narrative_blocks).

views.open must use the trigger_id within 3 seconds, so the button's ack function opens the modal itself
(commands.modals.open_modal). The submission is checked in its ack — a refused kind or text is shown on its
field — and the note is stored after the ack, by the same path as `/report note`, which confirms it where the
preview was shown and then looks up the issues it links to.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from aurum.core.context import Context
from aurum.core.errors import InputError
from aurum.reports import narrative, narrative_blocks
from aurum.reports.narrative_blocks import ADD_NOTE_ACTION, CALLBACK_ID, KIND_BLOCK, TEXT_BLOCK
from commands import report_notes
from commands.common import Asker, later, work
from commands.modals import open_modal

NOT_OPENED = ("Slack did not open the note form just now ({reason}). Please try again in a minute, or write it in "
              "one line: `/report note risk|achievement|focus|win|commitment <text>`.")


def _asker(body: dict[str, Any]) -> Asker:
    """Who submitted, answered where the preview was shown (a submission comes from no conversation)."""
    asker = Asker.from_body(body)
    channel = narrative_blocks.submitted(body)[2]
    return replace(asker, channel_id=channel) if channel else asker


def _checked(body: dict[str, Any]) -> report_notes.AddNote | dict[str, str]:
    """The submitted note, or what is wrong by input block (shown on the field)."""
    kind, text, _ = narrative_blocks.submitted(body)
    if kind not in narrative.KINDS:
        return {KIND_BLOCK: "Pick a kind of note."}
    try:
        return report_notes.note_text(kind, text)
    except InputError as exc:
        return {TEXT_BLOCK: str(exc)}


def register(app: Any, ctx: Context) -> None:
    def open_form(ack, body: dict[str, Any], client: Any) -> None:
        ack()
        asker = Asker.from_body(body)
        kind = str(((body.get("actions") or [{}])[0]).get("value") or "")
        open_modal(client, ctx, asker, body["trigger_id"], narrative_blocks.note_modal(asker.channel_id, kind),
                   NOT_OPENED)

    def store(body: dict[str, Any]) -> None:
        note = _checked(body)
        if isinstance(note, report_notes.AddNote):
            report_notes.record(ctx, _asker(body), note)

    stored = work(ctx, "view:report_note", store)

    def submit(ack, body: dict[str, Any]) -> None:
        note = _checked(body)
        if not isinstance(note, report_notes.AddNote):
            ack(response_action="errors", errors=note)
            return
        later(ctx, stored, body)
        ack()

    app.action(ADD_NOTE_ACTION)(open_form)
    app.view(CALLBACK_ID)(submit)
