"""DORA figures on the hand-built data set equal the hand-computed values (see dora_data.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from aurum.collectors import dora
from tests.collectors import dora_data as data
from tests.collectors.conftest import NOW

WINDOW = timedelta(days=30)


def deployments() -> list[dora.Deployment]:
    return [dora.Deployment(id=i, at=at, status=status, commit_times=tuple(data.commit_times(offsets, at)))
            for i, status, at, offsets in data.DEPLOYMENTS]


def incidents() -> list[dora.Incident]:
    return [dora.Incident(id=i, created=c, resolved=r, deployment_id=d) for i, c, r, d in data.INCIDENTS]


def test_the_four_keys_on_hand_computed_data():
    figures = dora.figures(deployments(), incidents(), NOW, WINDOW)
    assert figures == {
        "deployments_per_week": data.DEPLOYS_PER_WEEK,
        "lead_time_for_changes_hours": data.LEAD_TIME_HOURS,
        "change_failure_rate_percentage": pytest.approx(data.CHANGE_FAILURE_RATE_WITH_INCIDENTS),
        "incident_recovery_time_minutes": data.MTTR_MINUTES,
    }
    assert dora.change_failure_rate(deployments(), [], NOW, WINDOW) == pytest.approx(data.CHANGE_FAILURE_RATE)


def test_time_to_restore_from_failed_deployments():
    restores = dora.restores_from_deployments(deployments())
    assert [(r.deployment_id, r.resolved - r.created) for r in restores] == [
        ("D2", timedelta(hours=12)), ("D5", timedelta(hours=24))]
    assert dora.time_to_restore(restores, NOW, WINDOW) == data.RESTORE_FROM_DEPLOYMENTS_MINUTES


def test_nothing_to_measure_is_no_data_not_zero():
    assert dora.figures([], [], NOW, WINDOW) == dict.fromkeys(dora.KPIS)
    assert dora.lead_time_hours(deployments(), NOW - 60 * timedelta(days=1), WINDOW) is None


def test_the_definitions_show_in_the_help_text():
    from aurum.kpis.blocks import kpi_help
    from aurum.kpis.catalog import load_catalog

    catalog = load_catalog()
    text = str(kpi_help(catalog, catalog.resolve("lead_time")))
    assert "median" in text and "committer time" in text and "values ≤ 0 are dropped" in text
    assert "final status failure or error" in str(kpi_help(catalog, catalog.resolve("cfr")))
    assert "mean of (resolved − created)" in str(kpi_help(catalog, catalog.resolve("mttr")))
    assert "last 7 days" in str(kpi_help(catalog, catalog.resolve("deploys")))
