"""外网反馈 delivered by a real worker to a real HTTP receiver that fails in every way before it recovers: every
event arrives, in order per ticket, none lost, a repeat only with the same event id; a dead letter after the
configured attempts, re-driven by an operator; an action whose transaction fails leaves no outbox row."""

from __future__ import annotations

import json

import pytest

from hotline.infra import db
from hotline.tickets import lifecycle
from tests.conftest import principal
from tests.integration.workers.support import run_workers
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


@pytest.fixture(autouse=True)
def _auth(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(AUTH_ENV, AUTH_VALUE)


async def all_delivered(rt, ticket_ids, n):
    rows = await outbox_of(rt, ticket_ids)
    return len(rows) == n and all(r["status"] == "delivered" for r in rows)


async def test_every_event_arrives_in_order_through_500s_timeouts_and_dropped_connections(
    settings, redis_clean, tmp_path
):
    async with UpstreamReceiver(["500", "timeout", "drop", "500", "drop", "timeout"]) as hook:
        async with upstream_runtime(settings, upstream_file(tmp_path, hook.url)) as (own, rt):
            tickets = [await transfer(rt) for _ in range(3)]
            for _, number, _ in tickets:
                await handle_to_close(rt, number)
            ids = [t[0] for t in tickets]
            rows = await outbox_of(rt, ids)
            assert [(r["seq"], r["event"]) for r in rows if r["ticket_id"] == ids[0]] == [
                (1, "signed"),
                (2, "replied"),
                (3, "closed"),
            ]

            async def done() -> bool:
                return await all_delivered(rt, ids, 9)

            await run_workers(own, until=done)
            rows = await outbox_of(rt, ids)
    # Every event acknowledged; none lost; in sequence per ticket (n+1 only after n was acknowledged).
    assert {str(r["event_id"]) for r in rows} == {b["event_id"] for _, b in hook.acked}
    for _, number, _ in tickets:
        assert hook.by_ticket()[number] == [1, 2, 3], hook.by_ticket()
    # Repeats (a time-out whose request did arrive) carry the same event id and the same body.
    seen: dict[str, dict] = {}
    for b in hook.seen:
        assert seen.setdefault(b["event_id"], b) == b
    assert len(hook.seen) >= 9 + 6
    assert max(r["attempts"] for r in rows) >= 2
    headers, replied = next((h, b) for h, b in hook.acked if b["event"] == "replied")
    assert headers["authorization"] == AUTH_VALUE and headers["x-hotline-delivery"] == replied["event_id"]
    assert replied["channel"] == "12345" and replied["external_ref"] in {t[2] for t in tickets}
    assert replied["data"]["content"] == "已约谈驾驶员。" and replied["data"]["outcome"] == "resolved"
    assert replied["data"]["unit_name"] == "通州区交通运输局" and replied["data"]["replied_at"]
    closed = next(b for _, b in hook.acked if b["event"] == "closed")
    assert closed["data"]["closure"] == "callback_done" and closed["data"]["satisfaction"] == "satisfied"


async def scrape(client) -> dict[str, float]:
    r = await client.get("/metrics")
    assert r.status_code == 200
    pairs = (line.rpartition(" ") for line in r.text.splitlines() if line and not line.startswith("#"))
    return {name: float(value) for name, _, value in pairs}


async def test_a_dead_letter_after_the_configured_attempts_holds_back_the_next_and_is_re_driven(
    settings, redis_clean, tmp_path, api, client
):
    async with UpstreamReceiver(then="500") as hook:
        async with upstream_runtime(settings, upstream_file(tmp_path, hook.url, max_attempts=3)) as (own, rt):
            tid, number, _ = await transfer(rt)
            handler = await principal(rt, "handler-320612-bureau")
            await lifecycle.perform(rt, handler, number, "sign", b"{}")

            async def dead() -> bool:
                return [r["status"] for r in await outbox_of(rt, [tid])] == ["dead"]

            await run_workers(own, until=dead)
            await lifecycle.perform(
                rt, handler, number, "reply", json.dumps({"content": "已处理。", "outcome": "resolved"}).encode()
            )
            [first, second] = await outbox_of(rt, [tid])
            assert first["attempts"] == 3 and first["last_error"] == "HTTP 500"
            assert len(hook.seen) == 3  # three attempts, then nothing: the reply waits behind the dead letter

            r = await api.get("manager", "/api/outbox?status=dead&channel=12345")
            assert r.status_code == 200, r.text
            listed = next(d for d in r.json()["items"] if d["id"] == first["id"])
            assert listed["attempts"] == 3 and listed["last_error"] == "HTTP 500" and listed["ticket"] == number
            assert listed["event"] == "signed" and listed["event_id"] == str(first["event_id"])
            assert (await api.post("agent", f"/api/outbox/{first['id']}/retry")).status_code == 403

            m = await scrape(client)
            assert m['hotline_upstream_dead{channel="12345"}'] >= 1
            assert m['hotline_upstream_pending{channel="12345"}'] >= 1  # the reply, held back
            assert m['hotline_upstream_oldest_pending_seconds{channel="12345"}'] > 0
            assert m['hotline_upstream_dead{channel="12319"}'] == 0

            hook.then = "ok"
            r = await api.post("manager", f"/api/outbox/{first['id']}/retry")
            assert r.status_code == 200, r.text
            assert r.json()["status"] == "pending" and r.json()["attempts"] == 0
            again = await api.post("manager", f"/api/outbox/{first['id']}/retry")
            assert again.status_code == 409, again.text

            async def done() -> bool:
                return await all_delivered(rt, [tid], 2)

            await run_workers(own, until=done)
            assert (await scrape(client))['hotline_upstream_dead{channel="12345"}'] == m[
                'hotline_upstream_dead{channel="12345"}'
            ] - 1
    assert hook.by_ticket()[number] == [1, 2]


async def test_an_action_whose_transaction_fails_writes_no_outbox_row(settings, redis_clean, tmp_path):
    # A deferred trigger fails the commit of a reply saying FAIL-ME, after the outbox row was written in it.
    owner = await db.connect(settings.database_url)
    await owner.execute(
        """CREATE OR REPLACE FUNCTION tests_fail_commit() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN IF NEW.body #>> '{data,content}' = 'FAIL-ME' THEN RAISE EXCEPTION 'commit refused by the test';
           END IF; RETURN NULL; END $$;
           CREATE CONSTRAINT TRIGGER tests_fail_commit AFTER INSERT ON upstream_outbox
           DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION tests_fail_commit();"""
    )
    try:
        async with UpstreamReceiver() as hook:
            async with upstream_runtime(settings, upstream_file(tmp_path, hook.url)) as (own, rt):
                tid, number, _ = await transfer(rt)
                handler = await principal(rt, "handler-320612-bureau")
                await lifecycle.perform(rt, handler, number, "sign", b"{}")
                before = await rt.pool.fetchrow("SELECT status, version FROM tickets WHERE id = $1", tid)
                with pytest.raises(Exception, match="commit refused"):
                    await lifecycle.perform(
                        rt, handler, number, "reply", json.dumps({"content": "FAIL-ME", "outcome": "resolved"}).encode()
                    )
                assert [r["event"] for r in await outbox_of(rt, [tid])] == ["signed"]
                after = await rt.pool.fetchrow("SELECT status, version FROM tickets WHERE id = $1", tid)
                assert after == before
                await lifecycle.perform(
                    rt, handler, number, "reply", json.dumps({"content": "已处理。", "outcome": "resolved"}).encode()
                )

                async def done() -> bool:
                    return await all_delivered(rt, [tid], 2)

                await run_workers(own, until=done)
        assert [b["event"] for _, b in hook.acked] == ["signed", "replied"]
        assert all(b["data"].get("content") != "FAIL-ME" for b in hook.seen)
    finally:
        await owner.execute(
            "DROP TRIGGER IF EXISTS tests_fail_commit ON upstream_outbox; DROP FUNCTION IF EXISTS tests_fail_commit()"
        )
        await owner.close()
