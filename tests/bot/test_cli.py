"""`aurum run-job` as a real process: beside a serving bot it delivers to Slack (once), gives the period back when
Slack takes nothing, and prints to the console with --console or without Slack. Counts the calls reaching the fake
Slack Web API."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from aurum.core.periods import week_key
from bot.compose import build_context
from bot.settings import Settings
from storage import claims
from storage.workspaces import ensure
from tests.support import BOT_TOKEN, ROOT, SIGNING_SECRET, process_env, serve_process

pytestmark = pytest.mark.timeout(300)  # real processes on a shared machine: each start takes seconds


def _env(database_url: str, fake_slack) -> dict[str, str]:
    return dict(database_url=database_url, slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET,
                slack_api_url=fake_slack.base_url)


def _aurum(*args: str, **settings: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=ROOT, env=process_env(**settings),
                          capture_output=True, text=True, timeout=240)


def _period(database_url: str) -> str:
    ctx = build_context(Settings(_env_file=None, database_url=database_url))
    try:
        return week_key(ctx.now().astimezone(ctx.tz))
    finally:
        ctx.engine.dispose()


def _claimed(database_url: str, period: str) -> bool:
    ctx = build_context(Settings(_env_file=None, database_url=database_url))
    try:
        with ctx.reading() as session:
            return claims.find(session, "T0001", "weekly_summary", period) is not None
    finally:
        ctx.engine.dispose()


def _summaries(fake_slack, period: str) -> int:
    """chat.postMessage calls that posted the week's summary (its outbox key rides in the message metadata)."""
    return sum((call.params.get("metadata") or {}).get("event_payload", {}).get("key") == f"report:weekly:{period}"
               for call in fake_slack.calls_to("chat.postMessage", failed=False))


def test_run_job_beside_a_serving_bot_posts_the_summary_to_slack_once(tmp_path, database_url, fake_slack):
    fake_slack.add_channel("roadmap-updates")
    env = _env(database_url, fake_slack)
    with serve_process(tmp_path, "web", **env):
        done = _aurum("run-job", "weekly_summary", **env)
        again = _aurum("run-job", "weekly_summary", **env)
    period = _period(database_url)
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"weekly_summary [{period}] for T0001: posted to #roadmap-updates (2 message(s) delivered to Slack)" \
           in done.stdout
    assert again.returncode == 0 and "already ran" in again.stdout
    assert _summaries(fake_slack, period) == 1
    assert len(fake_slack.calls_to("files.completeUploadExternal", failed=False)) == 1  # its chart, in the thread
    assert _claimed(database_url, period)
    assert "Team weekly status" not in done.stdout  # nothing printed to the console instead


def test_when_slack_fails_run_job_says_so_and_the_period_stays_open(database_url, fake_slack):
    fake_slack.add_channel("roadmap-updates")
    ctx = build_context(Settings(_env_file=None, database_url=database_url))
    with ctx.transaction() as session:
        ensure(session, "T0001")  # registered by the bot earlier: auth.test fails now like every other call
    ctx.engine.dispose()
    env = _env(database_url, fake_slack)
    fake_slack.chaos(1.0, modes=("500",))
    started = time.monotonic()
    failed = _aurum("run-job", "weekly_summary", "--wait", "3", **env)
    took = time.monotonic() - started
    period = _period(database_url)
    assert failed.returncode == 1, failed.stderr[-3000:]
    assert (f"weekly_summary [{period}] for T0001: nothing reached Slack (Slack server error 500).\n"
            f"  Its 2 queued message(s) were cancelled and the period {period} is open again: running "
            "`aurum run-job weekly_summary` again later is safe.") in failed.stderr
    assert took < 60, took  # 3 s of delivery, the rest is start-up
    assert len([call for call in fake_slack.calls if call.failed]) >= 3  # it did try
    assert _summaries(fake_slack, period) == 0 and not _claimed(database_url, period)

    fake_slack.chaos(0)  # Slack is back
    done = _aurum("run-job", "weekly_summary", **env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "(2 message(s) delivered to Slack)" in done.stdout
    assert _summaries(fake_slack, period) == 1 and _claimed(database_url, period)
    outbox = _aurum("outbox", "--status", "cancelled", **env)
    assert outbox.returncode == 0 and "cancelled: " not in outbox.stdout and "sent: 2" in outbox.stdout


def test_run_job_prints_to_the_console_with_console_or_without_slack(tmp_path, database_url, fake_slack):
    charts = str(tmp_path / "charts")
    env = _env(database_url, fake_slack) | {"aurum_chart_dir": charts}
    console = _aurum("run-job", "weekly_summary", "--console", **env)
    assert console.returncode == 0, console.stderr[-3000:]
    assert "Team weekly status" in console.stdout and "for T0001: posted to #roadmap-updates" in console.stdout
    # Slack is configured, but --console keeps the posts out of it; only auth.test named the token's workspace
    assert [call.method for call in fake_slack.calls] == ["auth.test"]
    again = _aurum("run-job", "weekly_summary", "--console", **env)  # the workspace is remembered: no call at all
    assert again.returncode == 0 and "for T0001: already ran" in again.stdout, again.stdout + again.stderr[-3000:]
    assert [call.method for call in fake_slack.calls] == ["auth.test"]

    demo = _aurum("run-job", "weekly_summary", database_url=f"sqlite:///{tmp_path / 'demo.db'}",
                  aurum_chart_dir=charts)
    assert demo.returncode == 0, demo.stderr[-3000:]
    assert "Team weekly status" in demo.stdout and "for T0CONSOLE: posted to #roadmap-updates" in demo.stdout
    assert [call.method for call in fake_slack.calls] == ["auth.test"]


def _command_paths(group, prefix=()):
    """Every command of the `aurum` CLI, as the arguments before `--help`."""
    yield list(prefix)
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            yield from _command_paths(command, (*prefix, name))
        else:
            yield [*prefix, name]


def test_every_help_shows_options_without_python_types():
    import typer.main
    from typer.testing import CliRunner

    from bot import cli

    runner = CliRunner()
    paths = list(_command_paths(typer.main.get_command(cli.app)))
    assert ["kpi"] in paths and ["token", "revoke"] in paths and len(paths) > 20
    for path in paths:
        result = runner.invoke(cli.app, [*path, "--help"], env={"COLUMNS": "120"})
        assert result.exit_code == 0, (path, result.output)
        assert "Show this message and exit." in result.output
        for noise in ("<bool>", "<str>", "<int>", "<float>", "<list[", "<path>", "{name}"):
            assert noise not in result.output, (path, noise, result.output)
    kpi = runner.invoke(cli.app, ["kpi", "--help"], env={"COLUMNS": "120"}).output
    flag = next(line for line in kpi.splitlines() if "--json" in line)
    assert flag.split("--json", 1)[1].strip().startswith("Print JSON")  # a flag takes no value: nothing beside it
    team = next(line for line in kpi.splitlines() if "--team" in line)
    assert team.split("--team", 1)[1].split()[0] == "TEXT"


def _columns_line_up(output: str, headers: tuple[str, ...], right: tuple[int, ...] = ()) -> list[str]:
    """The table's rows, after checking that each row's cells start where their column's header does (end, for the
    columns of numbers in `right`, two spaces before the next column or at the end of the line)."""
    lines = output.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith(headers[0]))
    starts = [lines[header].index(name) for name in headers]
    assert starts == sorted(starts), lines[header]
    rows = lines[header + 2:]
    assert rows and set(lines[header + 1]) == {"─"}
    for row in rows:
        for index, start in enumerate(starts):
            if index in right:
                end = starts[index + 1] - 2
                assert row[end - 1] != " " and row[end:end + 2] in ("  ", ""), (headers[index], row)
            elif index and len(row) > start:  # (an empty last cell leaves nothing)
                assert row[start - 1] == " " and row[start] != " ", (headers[index], row)
    return rows


def test_jobs_and_tokens_print_aligned_columns(settings):
    from typer.testing import CliRunner

    from bot import cli

    env = {"DATABASE_URL": settings.database_url, "SLACK_BOT_TOKEN": "", "AURUM_TIMEZONE": "UTC"}
    runner = CliRunner()
    jobs = runner.invoke(cli.app, ["jobs"], env=env)
    assert jobs.exit_code == 0, jobs.output
    rows = _columns_line_up(jobs.output, ("job", "schedule", "next run", "what it does"))
    heartbeat = next(row for row in rows if row.startswith("heartbeat "))
    assert heartbeat.split()[1:6] == ["0", "*", "*", "*", "*"] and heartbeat.endswith("(hourly)")
    assert len(rows) == len(jobs.output.splitlines()) - 2  # one row a job, however long its description
    assert runner.invoke(cli.app, ["token", "create", "--name", "github-actions", "--team", "T0001"],
                         env=env).exit_code == 0
    assert runner.invoke(cli.app, ["token", "create", "--name", "ci", "--team", "T0001"], env=env).exit_code == 0
    listing = runner.invoke(cli.app, ["token", "list"], env=env)
    assert listing.exit_code == 0, listing.output
    first, second = _columns_line_up(listing.output, ("id", "team", "token", "name", "scopes", "state", "last used"))
    assert first.split()[0] == "1" and first.split()[3:] == ["github-actions", "push", "active", "never"]
    assert second.split()[3:] == ["ci", "push", "active", "never"]


def test_outbox_lists_messages_in_aligned_columns(ctx, settings):
    from typer.testing import CliRunner

    from aurum.core import outbox
    from bot import cli

    with ctx.transaction() as session:
        for channel in ("#roadmap-updates", "C0A", "#a-much-longer-channel-name"):
            outbox.post(session, "T0001", channel, "hello", key=f"greeting:{channel}")
    result = CliRunner().invoke(cli.app, ["outbox"], env={"DATABASE_URL": settings.database_url,
                                                          "SLACK_BOT_TOKEN": ""})
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "pending: 3"
    rows = _columns_line_up(result.output, ("message", "status", "kind", "where", "attempts", "last error"), right=(4,))
    assert [row.split() for row in rows] == [["#3", "pending", "post", "#a-much-longer-channel-name", "0"],
                                             ["#2", "pending", "post", "C0A", "0"],
                                             ["#1", "pending", "post", "#roadmap-updates", "0"]]  # newest first
