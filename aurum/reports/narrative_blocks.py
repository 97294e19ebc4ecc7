"""Block Kit for the report notes: the preview's "Add a note" button and its modal. Pure functions (values in, dicts
out). The interaction ids live here because the reports (the preview's button) and commands/report_modal.py (the
handlers) both need them, and domain code may not import commands/."""

from __future__ import annotations

import json
from typing import Any

from aurum.core.text import CAPS, plain
from aurum.kpis.blocks import actions, button, context
from aurum.reports.narrative import KINDS

ADD_NOTE_ACTION = "report_add_note"
ADD_NOTE_BLOCK = "report_add_note"
CALLBACK_ID = "report_note_submit"
KIND_BLOCK, KIND_ACTION = "note_kind", "kind"
TEXT_BLOCK, TEXT_ACTION = "note_text", "text"


def _plain(text: str) -> dict:
    return {"type": "plain_text", "text": plain(text), "emoji": True}


def add_note_actions(default_kind: str) -> dict:
    """The preview's button; its value is the kind the modal starts with."""
    return actions(ADD_NOTE_BLOCK, button("✍️ Add a note", ADD_NOTE_ACTION, default_kind))


def note_modal(channel: str, kind: str | None = None) -> dict:
    """The note form: a kind and the text (500 characters); `channel` is where the confirmation goes."""
    options = [{"text": _plain(k.label), "value": k.name} for k in KINDS.values()]
    chosen = next((o for o in options if o["value"] == kind), options[0])
    return {
        "type": "modal", "callback_id": CALLBACK_ID, "title": _plain("Add a report note"),
        "submit": _plain("Save"), "close": _plain("Cancel"),
        "private_metadata": json.dumps({"channel": channel}),
        "blocks": [
            {"type": "input", "block_id": KIND_BLOCK, "label": _plain("Kind"),
             "element": {"type": "static_select", "action_id": KIND_ACTION, "options": options,
                         "initial_option": chosen}},
            {"type": "input", "block_id": TEXT_BLOCK, "label": _plain("Note"),
             "element": {"type": "plain_text_input", "action_id": TEXT_ACTION, "multiline": True,
                         "max_length": CAPS["report note"],
                         "placeholder": _plain("e.g. Checkout latency is a risk for the Q1 launch, PROJ-123")}},
            context("Shown in the next reports beside the generated lines, marked ✍️ with your name. Jira keys "
                    "(`PROJ-123`) and GitHub issues (`owner/repo#12`) are shown with their title and state."),
        ],
    }


def submitted(body: dict[str, Any]) -> tuple[str, str, str]:
    """A view submission's (kind, raw text, channel for the confirmation)."""
    view = body.get("view") or {}
    values = (view.get("state") or {}).get("values") or {}
    kind = (((values.get(KIND_BLOCK) or {}).get(KIND_ACTION) or {}).get("selected_option") or {}).get("value")
    text = ((values.get(TEXT_BLOCK) or {}).get(TEXT_ACTION) or {}).get("value")
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        meta = {}
    channel = meta.get("channel") if isinstance(meta, dict) else None
    return str(kind or ""), str(text or ""), str(channel or "")
