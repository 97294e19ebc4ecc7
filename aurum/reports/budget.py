"""The quarterly budget as admins enter it (`/report budget 120k of 400k`): every entry is kept; the newest of the
quarter is in force. The executive dashboard shows spent of budget, % used against % of the quarter gone, and the
burn per month against the even pace (the budget spread evenly over the quarter's three months)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from aurum.core.context import Context
from aurum.core.periods import quarter_key, quarter_start
from aurum.kpis import formatting
from aurum.kpis import service as kpis
from storage import narrative as repo
from storage.narrative import BudgetEntry

KPI = "budget_utilization_percentage"  # kept in step with the entries, for the KPI card, its chart and alerts
PACE_SLACK = 0.05  # within 5 % of the even pace counts as on pace


@dataclass(frozen=True)
class Budget:
    quarter: str
    spent: float
    budget: float
    elapsed: float  # share of the quarter gone, 0–1
    entries: int
    author: str
    at: datetime

    @property
    def used(self) -> float:
        return self.spent / self.budget

    @property
    def burn_per_month(self) -> float | None:
        """The average spend per month so far (None in the quarter's first hours)."""
        months = self.elapsed * 3
        return self.spent / months if months > 0.01 else None

    @property
    def even_per_month(self) -> float:
        return self.budget / 3


def record(ctx: Context, session: Session, team_id: str, spent: float, budget: float, author: str) -> Budget:
    """Store an entry, and its % used as the budget KPI's value."""
    now = ctx.now()
    repo.add_budget(session, BudgetEntry(team_id=team_id, quarter=quarter_key(now.astimezone(ctx.tz)), spent=spent,
                                         budget=budget, author=author, at=now))
    kpis.record(ctx, session, team_id, ctx.catalog.get(KPI), spent / budget * 100, at=now, source="budget")
    found = current(ctx, session, team_id, now)
    assert found is not None  # just stored
    return found


def current(ctx: Context, session: Session, team_id: str, until: datetime | None = None) -> Budget | None:
    """The quarter's budget as last entered, or None when nobody entered one this quarter."""
    until = until or ctx.now()
    local = until.astimezone(ctx.tz)
    history = [e for e in repo.budget_history(session, team_id, quarter_key(local)) if e.at <= until]
    if not history:
        return None
    latest = history[-1]
    start = quarter_start(ctx, local)
    following = start.month + 3
    end = datetime(start.year + (following > 12), (following - 1) % 12 + 1, 1, tzinfo=ctx.tz)
    elapsed = (until - start) / (end - start)
    return Budget(quarter=latest.quarter, spent=latest.spent, budget=latest.budget, elapsed=min(max(elapsed, 0), 1),
                  entries=len(history), author=latest.author, at=latest.at)


def money(amount: float, currency: str) -> str:
    """$120K, $1.2M, $950: what a dashboard reader takes in at a glance."""
    if amount >= 1_000_000:
        return f"{currency}{formatting.number(round(amount / 1_000_000, 1))}M"
    return f"{currency}{amount / 1000:.0f}K" if amount >= 1000 else f"{currency}{amount:.0f}"


def pace(found: Budget) -> str:
    burn = found.burn_per_month
    if burn is None:
        return "too early in the quarter for a burn rate"
    if burn > found.even_per_month * (1 + PACE_SLACK):
        return "⚠️ above the even pace"
    if burn < found.even_per_month * (1 - PACE_SLACK):
        return "below the even pace"
    return "on the even pace"


def lines(found: Budget, currency: str) -> list[str]:
    """The executive dashboard's Budget section."""
    out = [f"{money(found.spent, currency)} of {money(found.budget, currency)} spent in {found.quarter} "
           f"({formatting.number(round(found.used * 100, 1))}% used, "
           f"{formatting.number(round(found.elapsed * 100))}% of the quarter gone)"]
    burn = found.burn_per_month
    trend = f"{money(burn, currency)}/month" if burn is not None else "no burn rate yet"
    out.append(f"Burn: {trend} vs an even pace of {money(found.even_per_month, currency)}/month — {pace(found)}")
    out.append(f"Entered by <@{found.author}> ({found.entries} entr{'y' if found.entries == 1 else 'ies'} "
               "this quarter)")
    return out
