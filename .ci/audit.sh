#!/usr/bin/env bash
# Dependency audit with pip-audit, sourced by .ci/run.
# Audits exactly what the bot installs: aurum-bot's dependencies and its test extras, resolved to the versions
# installed here (not every package that happens to be on the machine). A known vulnerability fails CI. When the
# vulnerability service cannot be reached (this machine reaches PyPI only, sometimes not even its JSON API), the
# audit is reported as incomplete and CI goes on: an outage elsewhere must not block a merge.
audit_dependencies() {
  python -m pip install -q "pip-audit>=2.7,<3" || { echo "pip-audit: could not be installed; audit skipped"; return 0; }
  local requirements; requirements=$(mktemp)
  python - "$requirements" <<'PY'
import re, sys
from importlib.metadata import PackageNotFoundError, distribution

def closure(name, extras=(), seen=None):
    seen = {} if seen is None else seen
    try:
        dist = distribution(name)
    except PackageNotFoundError:
        return seen
    key = re.sub(r"[-_.]+", "-", dist.metadata["Name"]).lower()
    if key in seen and not extras:
        return seen
    seen[key] = dist.version
    for req in dist.requires or []:
        spec, _, marker = req.partition(";")
        wanted = re.findall(r'extra\s*==\s*"([^"]+)"', marker)
        if wanted and not set(wanted) & set(extras):
            continue
        if marker.strip() and not wanted:
            from packaging.markers import Marker
            if not Marker(marker).evaluate():
                continue
        closure(re.split(r"[\s\[<>=!~;(]", spec.strip(), maxsplit=1)[0], (), seen)
    return seen

pins = closure("aurum-bot", ("test",))
pins.pop("aurum-bot", None)
open(sys.argv[1], "w").write("".join(f"{n}=={v}\n" for n, v in sorted(pins.items())))
print(f"pip-audit: {len(pins)} packages to audit")
PY
  [ -s "$requirements" ] || { echo "pip-audit: could not list the dependencies; audit skipped"; return 0; }
  local out rc=0
  out=$(timeout 600 python -m pip_audit -r "$requirements" --no-deps --disable-pip --progress-spinner off 2>&1) \
    || rc=$?
  rm -f "$requirements"
  echo "$out" | grep -v "could not be audited" | tail -n 40 || true
  if echo "$out" | grep -qE "^Found [0-9]+ known vulnerabilit"; then
    echo "pip-audit: known vulnerabilities in the bot's dependencies (above): upgrade them"; return 1
  fi
  local unaudited; unaudited=$(echo "$out" | grep -c "could not be audited" || true)
  if [ "$rc" -ne 0 ]; then echo "pip-audit: did not finish (exit $rc, network?); audit incomplete, not failing CI"; fi
  if [ "$unaudited" -gt 0 ]; then
    echo "pip-audit: $unaudited packages could not be checked (vulnerability service unreachable); audit incomplete"
  fi
  return 0
}
