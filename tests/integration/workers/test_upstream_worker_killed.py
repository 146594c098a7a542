"""`hotline worker` SIGKILLed while it posts a feedback event (the receiver holds the request), and Redis flushed
(every delivery job gone): a second worker still delivers every event, in order per ticket; a repeat carries the
same event id. PostgreSQL holds the outbox; the sweep re-claims the dead worker's delivery once its lease ends."""

from __future__ import annotations

import asyncio

from tests.integration.workers.support import stop_process, worker_process
from tests.integration.workers.upstream_support import (
    AUTH_ENV,
    AUTH_VALUE,
    UpstreamReceiver,
    handle_to_close,
    outbox_of,
    transfer,
    upstream_file,
    upstream_runtime,
)
from tests.polling import eventually


async def test_a_worker_killed_mid_delivery_with_redis_flushed_still_delivers_every_event(
    settings, redis_clean, tmp_path, monkeypatch
):
    first = second = None
    async with UpstreamReceiver(["hold"]) as hook:
        path = upstream_file(tmp_path, hook.url, timeout=5)  # a claim's lease: 10 s
        monkeypatch.setenv("HOTLINE_UPSTREAM_CONFIG", str(path))  # the worker processes inherit both
        monkeypatch.setenv(AUTH_ENV, AUTH_VALUE)
        async with upstream_runtime(settings, path) as (_, rt):
            tickets = [await transfer(rt) for _ in range(3)]
            for _, number, _ in tickets:
                await handle_to_close(rt, number)
            ids = [t[0] for t in tickets]
            rows = await outbox_of(rt, ids)
            assert len(rows) == 9
            try:
                first = worker_process(settings, tmp_path / "first.log")
                await asyncio.wait_for(hook.holding.wait(), 60)  # a delivery is in flight, held by the receiver
                stop_process(first, 9)  # SIGKILL: its claim, its jobs and their retries left behind
                await rt.redis.flushdb()  # and every job in Redis gone with them
                held = [r for r in await outbox_of(rt, ids) if r["status"] != "delivered"]
                assert held, "the kill left nothing undelivered: it came too late to test anything"
                second = worker_process(settings, tmp_path / "second.log")

                async def all_delivered() -> bool:
                    return all(r["status"] == "delivered" for r in await outbox_of(rt, ids))

                await eventually(all_delivered, what="every feedback event delivered after the kill")
            finally:
                for proc in (first, second):
                    if proc is not None:
                        stop_process(proc)
            rows = await outbox_of(rt, ids)
    assert {str(r["event_id"]) for r in rows} == {b["event_id"] for _, b in hook.acked}
    for _, number, _ in tickets:
        acked = hook.by_ticket()[number]
        assert acked == sorted(acked) and list(dict.fromkeys(acked)) == [1, 2, 3], acked
    bodies: dict[str, dict] = {}
    for _, b in hook.acked:
        assert bodies.setdefault(b["event_id"], b) == b  # a repeat is the same event
    print(f"\nundelivered at the kill: {len(held)} of 9; acknowledged {len(hook.acked)} posts for 9 events")
