"""Repository counts: lines of a file and files matching a glob, in a local checkout or through GitHub's
contents API (the seed's service-decomposition metrics, e.g. `src/aurum/api/services/*.py`)."""

from __future__ import annotations

import base64
import fnmatch
import posixpath
from pathlib import Path

from aurum.collectors.base import Collected, CollectorError, Run
from aurum.collectors.http import Http


def _inside(source: str, root: Path, relative: str) -> Path:
    target = (root / relative).resolve()
    if not target.is_relative_to(root.resolve()):
        raise CollectorError(source, f"{relative} lies outside the checkout")
    return target


def local_count(source: str, root: Path, item) -> float:
    if item.lines is not None:
        path = _inside(source, root, item.lines)
        try:
            return float(len(path.read_text(encoding="utf-8", errors="replace").splitlines()))
        except OSError as exc:
            raise CollectorError(source, f"cannot read {item.lines} ({exc.strerror})") from None
    _inside(source, root, item.files.split("*", 1)[0] or ".")
    return float(sum(1 for p in root.glob(item.files) if p.is_file()))


def remote_count(http: Http, repository: str, ref: str | None, item) -> float:
    params = {"ref": ref} if ref else None
    if item.lines is not None:
        body = http.json(f"/repos/{repository}/contents/{item.lines}", params=params)
        if not isinstance(body, dict) or body.get("type") != "file" or body.get("encoding") != "base64":
            raise CollectorError(http.source, f"{item.lines} is not a file in {repository}")
        text = base64.b64decode(body.get("content", "")).decode("utf-8", errors="replace")
        return float(len(text.splitlines()))
    folder, pattern = posixpath.split(item.files)
    if any(ch in folder for ch in "*?["):
        raise CollectorError(http.source, f"{item.files}: on GitHub only the file name may hold wildcards")
    listing = http.json(f"/repos/{repository}/contents/{folder}", params=params)
    if not isinstance(listing, list):
        raise CollectorError(http.source, f"{folder or '/'} is not a folder in {repository}")
    return float(sum(1 for e in listing if e.get("type") == "file" and fnmatch.fnmatchcase(e.get("name", ""), pattern)))


def collect(run: Run) -> Collected:
    config = run.config
    if config.path is not None:
        root = Path(config.path)
        if not root.is_dir():
            raise CollectorError(run.source, f"no checkout at {root}")
        return run.each(config.counts, lambda item: local_count(run.source, root, item), "nothing to count")
    token = run.secret("github_token")
    http = run.http(str(config.api_url), headers={"Accept": "application/vnd.github+json",
                                                  **({"Authorization": f"Bearer {token}"} if token else {})})
    return run.each(config.counts, lambda item: remote_count(http, config.github, config.ref, item),
                    "nothing to count")
