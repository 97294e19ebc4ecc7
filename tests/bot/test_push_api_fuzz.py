"""The push API fuzzed against its own OpenAPI document (schemathesis): no 5xx, and every rejected request leaves
the database exactly as it was."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlmodel import SQLModel

from aurum.core import tokens as api_tokens
from storage.rollups import KpiSnapshot

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.generation import GenerationMode  # noqa: E402

EXAMPLES = 15


def fingerprint(ctx) -> dict[str, object]:
    """Row counts of every table, plus the sum of stored values (an upsert changes it without adding a row)."""
    with ctx.reading() as session:
        counts: dict[str, object] = {name: session.scalar(select(func.count()).select_from(table))
                                     for name, table in SQLModel.metadata.tables.items()}
        counts["sum(value)"] = session.scalar(select(func.sum(KpiSnapshot.value)))
    return counts


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["positive", "negative"])
def test_push_api_fuzzed_against_its_openapi_document(runtime, server, mode):
    with runtime.ctx.transaction() as session:
        token = api_tokens.create(session, "T0001", "fuzz", scopes='push').secret
    schema = schemathesis.openapi.from_url(server.url + "/api/v1/openapi.json")
    base_url = server.url + "/api/v1"
    seen: dict[int, int] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} == {"/metrics", "/deployments", "/incidents", "/coverage"}
    for operation in operations:

        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(mode), authorised=st.booleans())
        def check(case, authorised):
            before = fingerprint(runtime.ctx)
            headers = {"Authorization": f"Bearer {token}"} if authorised else None
            response = case.call(base_url=base_url, headers=headers)
            seen[response.status_code] = seen.get(response.status_code, 0) + 1
            assert response.status_code < 500, f"{case.method} {case.path}: {response.status_code} {response.text}"
            if response.status_code >= 400:
                assert fingerprint(runtime.ctx) == before, f"{response.status_code} {response.text} changed rows"

        check()
    assert 401 in seen and 422 in seen
    if mode is GenerationMode.POSITIVE:
        assert 201 in seen
