"""Coverage: coverage.py's `coverage.xml` (Cobertura) or `coverage.json`, from a path, a URL or a CI upload.

The percentage is the one `coverage report` prints: (covered lines + covered branches) / (statements +
branches). In coverage.json that is `totals.percent_covered`; in Cobertura XML it is computed from the root's
`lines-covered`, `lines-valid`, `branches-covered` and `branches-valid` (other tools' XML without counts falls
back to `line-rate`).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from aurum.collectors.base import Collected, CollectorError, Run
from aurum.collectors.http import finite

NOT_COVERAGE = "not a coverage.py report (expected coverage.xml with <coverage line-rate=…> or coverage.json)"


def _from_xml(source: str, data: bytes) -> float | None:
    head = data[:2048].lower()
    if b"<!doctype" in head or b"<!entity" in head:
        raise CollectorError(source, "coverage XML with a DOCTYPE or entities is refused")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise CollectorError(source, f"coverage XML does not parse ({exc})") from None
    if root.tag != "coverage":
        raise CollectorError(source, NOT_COVERAGE)
    counts = [finite(root.get(name)) for name in ("lines-covered", "lines-valid", "branches-covered",
                                                   "branches-valid")]
    if None not in counts:
        covered, valid = counts[0] + counts[2], counts[1] + counts[3]  # type: ignore[operator]
        return covered / valid * 100.0 if valid else None
    rate = finite(root.get("line-rate"))
    if rate is None:
        raise CollectorError(source, NOT_COVERAGE)
    return rate * 100.0


def _from_json(source: str, data: bytes) -> float | None:
    try:
        body = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise CollectorError(source, "coverage JSON does not parse") from None
    totals = body.get("totals") if isinstance(body, dict) else None
    if not isinstance(totals, dict) or "percent_covered" not in totals:
        raise CollectorError(source, NOT_COVERAGE)
    if not totals.get("num_statements") and not totals.get("num_branches"):
        return None  # nothing measured: no data rather than 0 % or 100 %
    return finite(totals["percent_covered"])


def percent(source: str, data: bytes) -> float | None:
    """The total coverage percentage of a report's bytes; None when it measured nothing."""
    start = data.lstrip()[:1]
    if start == b"<":
        return _from_xml(source, data)
    if start == b"{":
        return _from_json(source, data)
    raise CollectorError(source, NOT_COVERAGE)


def read(run: Run) -> bytes:
    config = run.config
    if config.path is not None:
        try:
            return Path(config.path).read_bytes()
        except OSError as exc:
            raise CollectorError(run.source, f"cannot read {config.path} ({exc.strerror})") from None
    return run.http("").request("GET", str(config.url)).content


def collect(run: Run) -> Collected:
    out = run.collected()
    out.add(run.config.kpi, percent(run.source, read(run)), run.now, run.source, "the report measured nothing")
    return out
