"""The one text policy: what people type and sources send is cleaned once on the way in; what the bot sends is
escaped once where it is written and checked once on the way out.

On the way in (`typed` for Slack's slash-command text, `cleaned` for text that is not entity-encoded: modal inputs,
the push API, sources):
- Slack's markup is resolved: a user mention stays a mention (`<@U123>`, the only markup kept); a special mention
  (`<!channel>`, `<!here>`, `<!everyone>`, `<!subteam^…|@team>`) becomes the plain words `@channel`, `@team`; a
  channel becomes `#name`; a link becomes its label and address in plain text.
- Slack's entity encoding (`&amp;`, `&lt;`, `&gt;`) is decoded once, in one pass, so `R&amp;D` is stored as `R&D`
  and a typed `&lt;` stays `&lt;`.
- Control characters (but new lines and tabs) and bidirectional overrides are removed.
- Each free-text field has a length cap (`CAPS`); longer text is refused with how long it may be, not cut.

On the way out, `escape` (mrkdwn) and `plain` (plain_text) are applied where text is written into a message, and
`outgoing` runs over every text Slack receives: a special mention, a control or bidi character never leaves the bot,
whoever wrote the string.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from aurum.core.errors import InputError, database_hostile

# Length caps of every free-text field, in characters (the README's "Text people type" lists them).
CAPS = {
    "blocker": 500,
    "kudos reason": 500,
    "commitment": 300,
    "report note": 500,
    "sprint name": 100,
    "silence reason": 200,
    "survey answer": 3000,  # each question may set a lower `max_length` (aurum.surveys.model)
    "slash command": 3000,
    "setting": 200,  # a target, a crontab line, a duration typed in the settings forms
}

_ENTITY = re.compile(r"&(amp|lt|gt);")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}
_MARKUP = re.compile(r"<([^<>]*)>")
_USER = re.compile(r"@([UW][A-Z0-9]+)(?:\|[^>]*)?")
# C0 and C1 controls but tab and new line; the bidi embeddings, overrides, isolates and marks
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_SPECIAL = re.compile(r"<!([^>]*)>")


def _markup(inner: str, mention: Callable[[str], str]) -> str:
    if user := _USER.fullmatch(inner):
        return mention(user.group(1))
    target, _, label = inner.partition("|")
    if target.startswith("!"):  # <!channel>, <!here>, <!subteam^S1|@eng>, <!date^…|fallback>
        word = target[1:].split("^")[0]
        return label if label else f"@{word}"
    if target.startswith("#"):
        return f"#{label or target[1:]}"
    if target.startswith("@"):  # a mention of something that is not a user id
        return label or target
    return f"{label} ({target})" if label and label != target else target


def unmarked(mrkdwn: str, mention: Callable[[str], str] = lambda user: f"<@{user}>") -> str:
    """Slack's markup and entity encoding resolved into the plain text a person reads: `mention(user id)` is what a
    user mention becomes (by default the mention itself)."""
    resolved = _MARKUP.sub(lambda m: _markup(m.group(1), mention), mrkdwn)
    return _ENTITY.sub(lambda m: _ENTITIES[m.group(1)], resolved)


def typed(raw: str, field: str = "slash command") -> str:
    """What a person typed into a slash command (Slack's encoding), as the plain text they meant (see the module)."""
    return cleaned(unmarked(raw), field)


def cleaned(raw: str, field: str) -> str:
    """Text that Slack did not entity-encode (a modal's input, a pushed or collected string), without control or
    bidi characters; InputError when no database can store it or it is longer than the field's cap."""
    problem = database_hostile(raw, f"Your {field}")
    if problem is not None:
        raise InputError(problem)
    text = _UNSAFE.sub("", raw)
    cap = CAPS[field]
    if len(text) > cap:
        raise InputError(f"Keep the {field} to {cap:,} characters (yours has {len(text):,}); shorten it and send "
                         "it again.")
    return text


def cleaned_form(raw: Mapping[str, Any], field: str) -> tuple[dict[str, Any], dict[str, str]]:
    """A form's values by block with each text `cleaned`, and the refusals (what is wrong, how to fix it) by block."""
    kept: dict[str, Any] = {}
    refused: dict[str, str] = {}
    for block, value in raw.items():
        try:
            kept[block] = cleaned(value, field) if isinstance(value, str) else value
        except InputError as exc:
            refused[block] = str(exc)
    return kept, refused


def escape(text: str) -> str:
    """Text for mrkdwn: nothing in it can be read as a mention, a link or formatting markup of Slack's."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def plain(text: str) -> str:
    """Text for plain_text fields and file titles: angle brackets become look-alikes, so nothing in it can ever be
    read as a mention or a link."""
    return text.replace("<", "‹").replace(">", "›")


def outgoing(value: Any) -> Any:
    """Every string of a message, view or file title as Slack will receive it: special mentions neutralised (the bot
    never sends one: `<!channel>` shows as text), control and bidi characters removed. Applied once, by the Slack
    client, to everything it sends."""
    if isinstance(value, str):
        return _UNSAFE.sub("", _SPECIAL.sub(lambda m: f"&lt;!{m.group(1)}&gt;", value))
    if isinstance(value, list):
        return [outgoing(item) for item in value]
    if isinstance(value, dict):
        return {key: outgoing(item) for key, item in value.items()}
    return value
