"""Job claims: releasing a period gives it back only for the run that claimed it."""

from __future__ import annotations

from storage import claims

TEAM = "T0001"


def test_release_period_deletes_only_the_owners_claim(ctx):
    with ctx.transaction() as session:
        claims.try_claim(session, TEAM, "weekly_summary", "2026-W48", "host:1")
        claims.try_claim(session, TEAM, "weekly_summary", "2026-W47", "host:1")
    with ctx.transaction() as session:
        assert claims.release_period(session, TEAM, "weekly_summary", "2026-W48", "host:2") is False
        assert claims.release_period(session, "T0TWO", "weekly_summary", "2026-W48", "host:1") is False
    with ctx.transaction() as session:
        assert claims.release_period(session, TEAM, "weekly_summary", "2026-W48", "host:1") is True
    with ctx.transaction() as session:
        assert claims.find(session, TEAM, "weekly_summary", "2026-W48") is None
        assert claims.find(session, TEAM, "weekly_summary", "2026-W47") is not None
        assert claims.try_claim(session, TEAM, "weekly_summary", "2026-W48", "host:3") is not None  # open again
