"""The worker tests' fast policies are put in force on the worker tests' own database, never the suite's."""

from __future__ import annotations

from typing import Any

from tests.integration.workers.conftest import WORKERS_DB_SUFFIX


async def test_fast_policies_are_in_force_on_the_worker_tests_own_database(
    api: Any, runtime: Any, settings: Any, fast_policies: Any
) -> None:
    name = await runtime.pool.fetchval("SELECT current_database()")
    assert name.endswith("_test" + WORKERS_DB_SUFFIX), name  # not the suite's `<db>_test`
    # The API the tests call writes there too, and it has the fast rows in force.
    r = await api.get("admin", "/api/admin/sla-policies")
    assert {"test-fast-sign", "test-fast-reply"} <= {row.get("id") for row in r.json()["policy"]}
    ticket = await api.create("agent", kind="praise", urgent=True)
    assert await runtime.pool.fetchval("SELECT count(*) FROM tickets WHERE number = $1", ticket["number"]) == 1
