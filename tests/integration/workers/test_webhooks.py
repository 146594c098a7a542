"""Webhooks: one delivery per step and URL, retried with exponential backoff, given up after MAX_ATTEMPTS."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from hotline.escalation import exact_time
from hotline.infra import webhooks
from tests.integration.workers.support import WebhookReceiver, past_tickets, with_webhooks

UTC = UTC


async def _deliveries(runtime, ids):
    return await runtime.pool.fetch(
        """SELECT d.id, d.status, d.attempts, d.next_attempt_at, d.last_error, d.url FROM webhook_deliveries d
           JOIN escalation_steps s ON s.id = d.step_id WHERE s.ticket_id = any($1::bigint[]) ORDER BY d.id""",
        ids,
    )


async def test_failed_posts_back_off_and_succeed_later(runtime, redis_clean):
    async with WebhookReceiver(fail_first=1) as hook:
        rt = dataclasses.replace(runtime, settings=with_webhooks(runtime.settings, hook.url))
        [tid] = await past_tickets(runtime, 1)
        clock = await runtime.pool.fetchval("SELECT id FROM clocks WHERE ticket_id = $1 AND clock = 'sign'", tid)
        now = datetime.now(UTC)
        out = await exact_time.escalate_clock(rt, clock, 1, "warning", now=now)
        assert [s.hooks for s in out.outcome.recorded] == [1, 1, 1]
        # Drain whatever else is due (other tests' leftovers) so this ticket's three are the ones we follow.
        first = await webhooks.deliver_due(rt, now=now, limit=1000)
        rows = await _deliveries(runtime, [tid])
        assert len(rows) == 3 and first.claimed >= 3
        failed = [r for r in rows if r["status"] == "pending"]
        assert len(failed) == 1 and failed[0]["attempts"] == 1 and failed[0]["last_error"] == "HTTP 500"
        assert failed[0]["next_attempt_at"] == now + webhooks.backoff(1)
        # Not before its time; then delivered, once.
        assert (await webhooks.deliver_due(rt, now=now + timedelta(seconds=5))).claimed == 0
        later = await webhooks.deliver_due(rt, now=now + webhooks.backoff(1) + timedelta(seconds=1))
        assert later.delivered >= 1
        rows = await _deliveries(runtime, [tid])
        assert {r["status"] for r in rows} == {"delivered"}
        bodies = [b for _, b in hook.bodies if b["ticket"] == out.outcome.recorded[0].number]
        assert sorted(b["step"] for b in bodies) == ["overdue", "supervision", "warning"]
        assert all(b["event"] == "escalation.step" and b["clock"] == "sign" for b in bodies)


async def test_backoff_doubles_and_gives_up(runtime, redis_clean):
    assert [webhooks.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [10, 20, 40, 80]
    assert webhooks.backoff(30) == webhooks.BACKOFF_CAP
    rt = dataclasses.replace(runtime, settings=with_webhooks(runtime.settings, "http://127.0.0.1:9/nowhere"))
    [tid] = await past_tickets(runtime, 1)
    clock = await runtime.pool.fetchval("SELECT id FROM clocks WHERE ticket_id = $1 AND clock = 'reply'", tid)
    now = datetime.now(UTC)
    await exact_time.escalate_clock(rt, clock, 1, "warning", now=now)
    for _ in range(webhooks.MAX_ATTEMPTS):
        now += webhooks.BACKOFF_CAP + timedelta(seconds=1)
        await webhooks.deliver_due(rt, now=now, limit=1000)
    rows = await _deliveries(runtime, [tid])
    assert {r["status"] for r in rows} == {"failed"} and {r["attempts"] for r in rows} == {webhooks.MAX_ATTEMPTS}
    assert all(r["last_error"] for r in rows)
    assert (await webhooks.deliver_due(rt, now=now + timedelta(days=1), limit=1000)).claimed == 0
