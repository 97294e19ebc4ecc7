# The README's first command on a fresh machine, sourced by .ci/run: a copy of the checkout in a new temporary
# folder, an environment stripped to PATH=/usr/bin:/bin and an empty HOME, so only Debian's python3 is found and
# nothing installed by hand is seen. Fails when a command does not answer with numbers or a chart is missing.
smoke_fresh_machine() {
  local dir log rc=0
  dir=$(mktemp -d /tmp/aurum-smoke.XXXXXX); CLEANUP+=("$dir")
  mkdir "$dir/home" "$dir/aurum"
  git ls-files -co --exclude-standard | tar -cf - -T - | tar -xf - -C "$dir/aurum"
  log="$dir/demo.log"
  (cd "$dir/aurum" && env -i PATH=/usr/bin:/bin HOME="$dir/home" \
    sh demo.sh -c "/kpi latency 90d" -c "/kpi latency forecast" -c "/kpi dashboard" -c "/report weekly preview") \
    >"$log" 2>&1 || rc=$?
  python - "$log" "$rc" "$dir/aurum/charts" <<'PY'
import re, sys
from pathlib import Path

log, rc, charts = Path(sys.argv[1]).read_text(), int(sys.argv[2]), Path(sys.argv[3])
problems = [] if rc == 0 else [f"the demo exited {rc}"]
answers = dict(re.findall(r"^aurum> ([^\n]+)\n(.*?)(?=^aurum> |\Z)", log, re.S | re.M))
expect = {"/kpi latency 90d": ["*Value*: 285 ms", "*Target*: <200 ms", "latency-90d.png"],
          "/kpi latency forecast": ["*Target 200 ms:* around", "80 %:", "latency-forecast.png"],
          "/kpi dashboard": ["ms", "%", "dashboard.png"],
          "/report weekly preview": ["%", "weekly-team-metrics.png"]}
for command, needles in expect.items():
    answer = answers.get(command)
    if answer is None:
        problems.append(f"{command}: no answer"); continue
    if "Sorry" in answer or "Traceback" in answer:
        problems.append(f"{command}: failed: {answer.strip()[:300]}")
    problems += [f"{command}: {needle!r} missing" for needle in needles if needle not in answer]
for png in ("latency-90d.png", "latency-forecast.png", "dashboard.png", "weekly-team-metrics.png"):
    path = charts / png
    if not path.is_file() or not path.read_bytes().startswith(b"\x89PNG"):
        problems.append(f"chart {path} missing")
if problems:
    print("Fresh-machine smoke test FAILED:\n  " + "\n  ".join(problems) + "\n--- demo output ---\n" + log[-4000:])
    sys.exit(1)
print(f"Fresh-machine smoke test passed: {len(expect)} commands answered, 4 charts drawn")
PY
}
