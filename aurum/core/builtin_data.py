"""The YAML files shipped in aurum/data: parsed once per process, with libyaml's parser when PyYAML has it."""

from __future__ import annotations

import copy
import functools
from importlib import resources
from typing import Any

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@functools.cache
def _parsed(name: str) -> Any:
    return yaml.load(resources.files("aurum").joinpath("data", name).read_text(encoding="utf-8"), Loader=_LOADER)


def load(name: str) -> Any:
    """A copy of `aurum/data/<name>` the caller may change."""
    return copy.deepcopy(_parsed(name))
