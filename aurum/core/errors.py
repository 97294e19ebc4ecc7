"""The errors every capability may raise: bad input from a person, answered with what is wrong and how to fix it."""

from __future__ import annotations

import re

HOSTILE = re.compile("[\x00\ud800-\udfff]")  # NUL, and the halves of a UTF-16 surrogate pair alone


class InputError(ValueError):
    """Bad user input; the message says what is wrong and how to fix it."""


class ImpossibleValue(InputError):
    """A value its KPI cannot hold (aurum.kpis.catalog.check_value); nothing of the write is stored."""


def database_hostile(text: str, what: str = "Your text") -> str | None:
    """Why no database can store `text` (a NUL character, an unpaired UTF-16 surrogate), said to the person who sent
    it with how to fix it; None when it can be stored. Every edge that takes free text calls this before storing
    anything: PostgreSQL refuses both for good, so a retry would never help."""
    found = HOSTILE.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return (f"{what} contains a NUL character (\\x00, often left by pasting from a terminal or a binary file), "
                "which Aurum cannot store. Remove it and send again.")
    return (f"{what} contains an unpaired UTF-16 surrogate (half of an emoji or other character, U+D800–U+DFFF), "
            "which Aurum cannot store. Retype the character and send again.")
