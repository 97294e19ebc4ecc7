"""OpenAPI documentation coverage: operations with a summary or description ÷ all operations, in percent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from aurum.collectors.base import Collected, CollectorError, Run

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def coverage(source: str, document: Any) -> float | None:
    paths = document.get("paths") if isinstance(document, dict) else None
    if not isinstance(paths, dict):
        raise CollectorError(source, "not an OpenAPI document (no 'paths' mapping)")
    operations = [op for item in paths.values() if isinstance(item, dict)
                  for method, op in item.items() if method in METHODS and isinstance(op, dict)]
    if not operations:
        return None
    documented = sum(1 for op in operations if str(op.get("summary") or "").strip()
                     or str(op.get("description") or "").strip())
    return documented / len(operations) * 100.0


def load(run: Run) -> Any:
    config = run.config
    try:
        if config.path is not None:
            text = Path(config.path).read_text(encoding="utf-8")
        else:
            text = run.http("").request("GET", str(config.url)).text
        return yaml.safe_load(text)  # JSON is YAML too
    except OSError as exc:
        raise CollectorError(run.source, f"cannot read {config.path} ({exc.strerror})") from None
    except yaml.YAMLError:
        raise CollectorError(run.source, "the OpenAPI document is neither JSON nor YAML") from None


def collect(run: Run) -> Collected:
    out = run.collected()
    out.add(run.config.kpi, coverage(run.source, load(run)), run.now, run.source, "the document has no operations")
    return out
