"""Reports read from HOTLINE_DATABASE_REPLICA_URL when it is set (a streaming replica in production).

The stand-in replica here is another database with a history the primary does not have: a report that counts it
was read from the replica, and every write still goes to the primary."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

from hotline import reports
from hotline.infra.runtime import Runtime
from hotline.tickets import intake
from tests.conftest import principal
from tests.scratch import scratch_database

TZ = timezone(timedelta(hours=8))


async def test_the_closure_report_reads_the_replica_and_writes_go_to_the_primary(settings, database, runtime):
    async with scratch_database(database, "replica", seeded=True) as replica_url:
        only_replica = await Runtime.start(replace(settings, database_url=replica_url))
        both = await Runtime.start(replace(settings, database_replica_url=replica_url))
        try:
            agent = await principal(only_replica, "agent")
            received = datetime(2024, 3, 5, 10, 0, tzinfo=TZ)  # a period no other test writes to
            await intake.create_ticket(
                only_replica,
                agent,
                intake.TicketIn(
                    channel="96196", kind="complaint", category="taxi", territory="320612", title="投诉", content="拒载"
                ),
                idempotency_key=None,
                now=received,
            )
            manager = await principal(runtime, "manager")
            q = reports.parse_query(
                settings.timezone, from_="2024-03-01", to="2024-03-10", as_of=None, group_by="unit", format=None
            )
            via_replica = await reports.closure_report(both, manager, q)
            primary_only = await reports.closure_report(runtime, manager, q)
            assert via_replica.totals.received == 1
            assert primary_only.totals.received == 0
            assert both.reports_pool is not both.pool and runtime.reports_pool is runtime.pool
            # Writes (intake) still go to the primary.
            result = await intake.create_ticket(
                both,
                agent,
                intake.TicketIn(
                    channel="96196", kind="help", category="bus", territory="320613", title="求助", content="遗失物品"
                ),
                idempotency_key=None,
                now=received,
            )
            assert await runtime.pool.fetchval("SELECT count(*) FROM tickets WHERE id = $1", result.ticket_id) == 1
        finally:
            await only_replica.close()
            await both.close()
