"""Fixtures for the worker tests: an empty test Redis DB per test and the fast policies that put deadlines a few
seconds away (restored afterwards)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.integration.workers.support import FAST_ROWS


@pytest.fixture
async def redis_clean(runtime: Any) -> AsyncIterator[Any]:
    """An empty test Redis DB (no leftover jobs from another test) before each worker test."""
    await runtime.redis.flushdb()
    yield runtime.redis
    await runtime.redis.flushdb()


@pytest.fixture
async def fast_policies(api: Any, runtime: Any) -> AsyncIterator[dict[str, Any]]:
    """Put the fast rows in force for urgent praise tickets; restore the previous set afterwards."""
    r = await api.get("admin", "/api/admin/sla-policies")
    assert r.status_code == 200, r.text
    original = r.json()
    doc = {"defaults": original["defaults"], "policy": [*original["policy"], *FAST_ROWS]}
    r = await api.request("admin", "PUT", "/api/admin/sla-policies", json=doc)
    assert r.status_code == 200, r.text
    yield r.json()
    r = await api.request(
        "admin", "PUT", "/api/admin/sla-policies", json={"defaults": original["defaults"], "policy": original["policy"]}
    )
    assert r.status_code == 200, r.text
