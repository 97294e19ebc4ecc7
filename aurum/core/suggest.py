"""Did-you-mean for names a person typed: config keys, KPI names, job names."""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel


def close_matches(name: str, choices: Iterable[str], limit: int = 3) -> list[str]:
    return difflib.get_close_matches(name, list(choices), n=limit, cutoff=0.81)


def unknown(kind: str, name: str, choices: Iterable[str] = (), *, guesses: list[str] | None = None,
            listing: str | None = None) -> str:
    """`unknown key 'chanels'; did you mean 'channels'?` (or `unknown key 'x'.`), followed by `listing` and the
    choices when it is given (`Valid keys: …`). `guesses`: suggestions made elsewhere (default: the close matches
    among `choices`)."""
    choices = sorted(choices)
    guesses = close_matches(name, choices) if guesses is None else guesses
    text = f"unknown {kind} {name!r}"
    text += f"; did you mean {' or '.join(repr(g) for g in guesses)}?" if guesses else "."
    if listing and choices:
        text += f" {listing}: {', '.join(choices)}"
    return text


def keys_at(model: type[BaseModel], loc: Sequence[str | int]) -> list[str]:
    """The keys a pydantic model takes at `loc` (a path of field names, mapping keys and list indices); [] where
    the path leads to no model."""
    found: Any = model
    for part in loc:
        found = _model_or_container(found)
        if isinstance(found, type) and issubclass(found, BaseModel):
            field = next((f for n, f in found.model_fields.items() if (f.alias or n) == part), None)
            if field is None:
                return []
            found = field.annotation
        elif typing.get_origin(found) is dict:
            found = typing.get_args(found)[1]
        elif typing.get_origin(found) is list:
            found = typing.get_args(found)[0]
        else:
            return []
    found = _model_or_container(found)
    if isinstance(found, type) and issubclass(found, BaseModel):
        return [f.alias or n for n, f in found.model_fields.items()]
    return []


def _model_or_container(annotation: Any) -> Any:
    """`X | None` and `Annotated[X, …]` → X."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
        else:
            return annotation


def message(error: Mapping[str, Any], model: type[BaseModel]) -> str:
    """A pydantic error in words; an unknown key gets the keys that place takes, and the closest of them."""
    if error["type"] == "extra_forbidden" and error["loc"]:
        *parent, key = error["loc"]
        return unknown("key", str(key), keys_at(model, parent), listing="Valid keys")
    return str(error["msg"]).removeprefix("Value error, ")
