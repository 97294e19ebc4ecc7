"""Every command of the README's console and command tables, run as a new user would (`aurum demo -c`), reads like
Slack and succeeds; a command that fails exits non-zero. A command added to the README without an example here fails
`test_every_readme_command_has_an_example`."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from tests.support import ROOT

# Each form the README lists → a concrete command a new user would type.
EXAMPLES = {
    "/alerts": "/alerts",
    "/alerts history [kpi]": "/alerts history latency",
    "/alerts rules": "/alerts rules",
    "/alerts silence <rule> <duration> [reason]": "/alerts silence ApiLatencyHigh 2h load test & <R&D>",
    "/alerts silence … <reason>": "/alerts silence ApiErrorRateHigh 1h planned maintenance",
    "/alerts test <rule>": "/alerts test ApiLatencyHigh",
    "/blocker add <text>": "/blocker add Trino pool exhausted in staging, @alice is on it",
    "/blocker done <id>": "/blocker done 1",
    "/blocker list": "/blocker list",
    "/kpi": "/kpi",
    "/kpi <name>": "/kpi coverage",
    "/kpi <name> [7d|30d|90d|1y]": "/kpi latency 1y",
    "/kpi <name> [period] private": "/kpi uptime 90d private",
    "/kpi <name> forecast [date]": "/kpi latency forecast 2027-06-01",
    "/kpi <name> forecast [date] [private]": "/kpi coverage forecast private",
    "/kpi <name> help": "/kpi forecast_accuracy help",
    "/kpi dashboard": "/kpi dashboard",
    "/kpi dashboard live [hours]": "/kpi dashboard live 1",
    "/kpi help": "/kpi help",
    "/kpi record <name> <value> [at <ISO time>]": "/kpi record coverage 82.5 at 2026-12-01T09:00",
    "/kpi record coverage 182": None,  # the README's example of a refusal: see FAILING
    "/kpi sources": "/kpi sources",
    "/kudos @person <award> <why>": "/kudos @alice code-quality raised DAO coverage & <tests>",
    "/kudos leaderboard [month|quarter]": "/kudos leaderboard quarter",
    "/kudos team customer-impact <why>": "/kudos team customer-impact the checkout outage fix",
    "/kudos … <why>": "/kudos @ben mentorship paired on the flaky tests",
    "/report <kind> preview": "/report exec preview",
    "/report weekly|sprint|exec|quarterly": "/report weekly",
    "/report budget <spent> of <quarterly budget>": "/report budget 120k of 400k",
    "/report note <kind> <text>": "/report note risk the Q1 vendor contract is not signed & <late>",
    "/report note delete <id>": "/report note delete 2",  # the risk note of FIRST (blocker #1 came before)
    "/report note risk|achievement|focus|win|commitment <text>": "/report note win shipped SSO for @alice's team",
    "/report notes": "/report notes",
    # With `team:` a command needs `teams:` in the config file, which the demo has not: see FAILING.
    "/report <kind> preview team:<key>": None,
    "/survey results … team:<key>": None,
    "/alerts [team:<key>]": "/alerts",
    "/kudos leaderboard [month|quarter] [team:<key>]": "/kudos leaderboard month",
    "/report weekly team:<key>": None,
    "/roadmap [private] [team:<key>]": "/roadmap",
    "/survey export [team|stakeholder] [team:<key>]": "/survey export team",
    "/survey open [team|stakeholder] [team:<key>]": "/survey open team",
    "/survey status [team:<key>]": "/survey status",
    "/roadmap [private]": "/roadmap private",
    "/sprint": "/sprint",
    "/sprint commit <text>": "/sprint commit Finish the metadata service migration",
    "/sprint end [points completed]": "/sprint end",
    "/sprint progress <points done>": "/sprint progress 20",
    "/sprint start <name>": "/sprint start Sprint 40",
    "/sprint start <name> [committed points]": "/sprint start Sprint 41 45",
    "/survey [team|stakeholder]": "/survey team",
    "/survey answer [team|stakeholder] 8 | 7 | blockers | what works": "/survey answer 8 | 7 | flaky CI | pairing",
    "/survey export [team|stakeholder]": "/survey export",
    "/survey open [team|stakeholder]": "/survey open",
    "/survey results [team|stakeholder] [W48|2026-11]": None,  # the fresh demo has no closed run: see FAILING
    "/survey skip <YYYY-MM-DD> [team|stakeholder]": "/survey skip 2027-01-01",
    "/survey status": "/survey status",
}
# Run first, in this order: the demo's sprint ends before a new one starts, a survey opens before it is answered.
FIRST = ["/survey open", "/sprint end 38", "/sprint start Sprint 40", "/sprint progress 20", "/sprint end",
         "/sprint start Sprint 41 45", "/blocker add Trino pool exhausted in staging, @alice is on it",
         "/report note risk the Q1 vendor contract is not signed & <late>"]
FAILING = {"/kpi record coverage 182": "cannot be 182", "/kpi foo": "Unknown KPI 'foo'",
           "/kudos @alice code-quality": "Say why", "/sprint end -4": "must be between 0 and 10,000, got -4",
           "/kpi latency forecast 2030-01-01": "too far ahead",
           "/survey results": "No Team Satisfaction Survey has closed yet.",
           "/report weekly preview team:payments": "This workspace has no teams"}  # nothing to show is not a success
LEAKS = ["&amp;", "&lt;", "&gt;", "Unhandled request", "Traceback"]
NO_DATA_UNIT = re.compile(r"no data (ms|%|min|points|days|h|s)\b")


def _readme() -> list[str]:
    return (ROOT / "README.md").read_text(encoding="utf-8").splitlines()


def readme_table_forms() -> set[str]:
    """The commands of the README's tables, as written there (`/kpi <name> help`)."""
    forms = set()
    for line in _readme():
        if line.startswith("| `/"):
            cell = re.split(r"(?<!\\)\|", line)[1]
            forms.update(f.replace("\\|", "|") for f in re.findall(r"`(/[^`]+)`", cell))
    return forms


def readme_console_lines() -> list[str]:
    """The commands of the README's console session, typed as they are."""
    return [line.removeprefix("aurum> ").split("#")[0].strip() for line in _readme() if line.startswith("aurum> ")]


def _demo(tmp_path, *commands: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL", "AURUM_"))}
    env.update(PYTHONPATH=str(ROOT), AURUM_CHART_DIR=str(tmp_path / "charts"))
    args = [a for c in commands for a in ("-c", c)]
    return subprocess.run([sys.executable, "-m", "bot.cli", "demo", "--database", f"sqlite:///{tmp_path / 'demo.db'}",
                           *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)


def _transcript() -> list[str]:
    """Every README command that should succeed, in the order a new user would meet them."""
    commands = [c for c in [*readme_console_lines(), *EXAMPLES.values()] if c and c not in FAILING
                and c != "/kpi lantency"]
    return list(dict.fromkeys(FIRST + commands))


def test_every_readme_command_has_an_example():
    missing = sorted(readme_table_forms() - set(EXAMPLES))
    assert missing == [], f"README commands without an example in EXAMPLES: {missing}"


def test_every_readme_command_reads_like_slack_and_succeeds(tmp_path):
    commands = _transcript()
    result = _demo(tmp_path, *commands)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    for leak in LEAKS:
        assert leak not in out, f"{leak!r} in: {out[max(0, out.find(leak) - 400): out.find(leak) + 200]}"
    assert not NO_DATA_UNIT.search(out), NO_DATA_UNIT.search(out)
    assert result.stderr.strip() == "", result.stderr[-2000:]  # no library warnings for the user
    for command in commands:
        assert f"aurum> {command}" in out, f"{command} was not run"
    assert "for @alice" in out and "raised DAO coverage & <tests>" in out


@pytest.mark.parametrize(("command", "said"), FAILING.items(), ids=list(FAILING))
def test_a_failing_command_exits_non_zero_and_says_why(tmp_path, command, said):
    result = _demo(tmp_path, command)
    assert result.returncode != 0
    assert said in result.stdout, result.stdout[-1500:]
