"""Fixtures for the worker tests: a database of their own, an empty test Redis DB per test and the fast policies that
put deadlines a few seconds away (restored afterwards).

The fast policies rewrite the SLA policy in force, which every other test reads: so the worker tests run on a
scratch database of theirs (migrated and seeded like the suite's), with their own app, runtime and API client, made
by the suite's own fixtures registered again here against these settings."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest

import tests.conftest as suite
from config.settings import Settings
from tests.integration.workers.support import FAST_ROWS

WORKERS_DB_SUFFIX = "_workers"
# The suite's own fixtures, registered again for this folder: here they resolve `settings` to the one below.
database, app, client, runtime, api = suite.database, suite.app, suite.client, suite.runtime, suite.api


@pytest.fixture(scope="session")
def settings(settings: Settings) -> Settings:
    """The suite's settings on the worker tests' own database (`<test database>_workers`)."""
    base, _, name = settings.database_url.rpartition("/")
    return dataclasses.replace(settings, database_url=f"{base}/{name}{WORKERS_DB_SUFFIX}")


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
