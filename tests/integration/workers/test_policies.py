"""Policy changes at runtime: GET/PUT /api/admin/sla-policies, validation, new assignments at once, and the
throttled recomputation of running clocks by a real worker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from arq.jobs import Job

from hotline.infra import queue as jobs
from hotline.policies import recompute
from tests.integration.workers.support import run_workers

UTC = UTC
PATH = "/api/admin/sla-policies"


async def _current(api):
    r = await api.get("admin", PATH)
    assert r.status_code == 200, r.text
    return r.json()


async def _put(api, doc, expect=200, **params):
    r = await api.request("admin", "PUT", PATH, json=doc, params=params)
    assert r.status_code == expect, r.text
    return r.json()


async def test_only_admins_read_and_replace_policies(api):
    body = await _current(api)
    assert {"version", "defaults", "policy"} <= set(body) and body["policy"]
    for user in ("manager", "dispatcher", "handler-320612-bureau"):
        assert (await api.get(user, PATH)).status_code == 403
        r = await api.request(user, "PUT", PATH, json={"policy": body["policy"]})
        assert r.status_code == 403


async def test_invalid_sets_are_refused_naming_the_rows(api, runtime):
    before = await _current(api)
    rows = [dict(r) for r in before["policy"]]
    overlap = {**rows[0], "id": "dup-of-first"}
    err = await _put(api, {"defaults": before["defaults"], "policy": [*rows, overlap]}, expect=422)
    assert "dup-of-first" in err["detail"] and any(k.startswith("policy[") for k in err["fields"])
    bad = [*rows[:-1], {**rows[-1], "channel": "99999"}, {**rows[0], "id": "x", "limit": -1, "kind": "praise"}]
    err = await _put(api, {"defaults": before["defaults"], "policy": bad}, expect=422)
    assert "99999" in err["detail"] and "limit" in err["detail"]
    assert f"policy[{len(rows) - 1}]" in err["fields"] and f"policy[{len(rows)}]" in err["fields"]
    err = await _put(api, {"defaults": before["defaults"], "policy": rows[1:]}, expect=422)  # a gap
    assert "incomplete" in err["detail"]
    err = await _put(api, {"defaults": before["defaults"], "policy": rows, "surprise": 1}, expect=422)
    assert "surprise" in err["detail"]
    await _put(api, {"policy": rows}, expect=409, expected_version=before["version"] - 1)
    assert (await _current(api))["version"] == before["version"]  # nothing was stored
    assert runtime.policies.version == before["version"]


async def test_a_new_version_applies_to_new_tickets_at_once_with_fractional_minutes(api, runtime):
    before = await _current(api)
    rows = [dict(r) for r in before["policy"]]
    fast = [
        {
            "id": "urgent-help-fast",
            "clock": "sign",
            "channel": "*",
            "kind": "help",
            "urgent": True,
            "limit": 0.5,
            "unit": "minutes",
        }
    ]
    try:
        after = await _put(api, {**before, "policy": [*rows, *fast]})  # read-only keys of GET are ignored
        assert after["version"] == before["version"] + 1 and after["created_by"] == "admin"
        assert runtime.policies.version == after["version"]
        stored = await runtime.pool.fetchrow(
            "SELECT rows, source FROM sla_policy_versions WHERE version = $1", after["version"]
        )
        assert stored["source"] == "api" and stored["rows"]["policy"][-1]["limit"] == 0.5
        t = await api.create("agent", kind="help", urgent=True)
        received = datetime.fromisoformat(t["received_at"])
        assert datetime.fromisoformat(t["deadlines"]["sign"]) - received == timedelta(seconds=30)
    finally:
        await _put(api, {"defaults": before["defaults"], "policy": rows})


async def test_recompute_open_moves_running_clocks_only_and_rearms_them(api, runtime, settings, redis_clean):
    before = await _current(api)
    rows = [dict(r) for r in before["policy"]]
    # Two running suggestion tickets (reply: 10 working days) and one closed one.
    running = [await api.create("agent", kind="suggestion") for _ in range(2)]
    closed = await api.create("agent", kind="suggestion")
    await api.act("agent", closed["number"], "close", answer="已答复")
    ids = {
        t["number"]: await runtime.pool.fetchval("SELECT id FROM tickets WHERE number = $1", t["number"])
        for t in [*running, closed]
    }
    old = {
        r["ticket_id"]: r
        for r in await runtime.pool.fetch(
            "SELECT id, ticket_id, version, due_at, stopped_at, policy_version FROM clocks "
            "WHERE ticket_id = any($1::bigint[]) "
            "AND clock = 'reply'",
            list(ids.values()),
        )
    }
    longer = [{**r, "limit": 20} if r["id"] == "reply-suggestion" else r for r in rows]
    try:
        result = await _put(api, {"defaults": before["defaults"], "policy": longer}, recompute_open="true")
        assert result["recompute_open"] and result["recompute_queued"]
        version = result["version"]

        async def recomputed() -> bool:
            info = await Job(f"recompute:{version}:0", runtime.redis).result_info()
            return info is not None

        await run_workers(settings, until=recomputed)
        info = await Job(f"recompute:{version}:0", runtime.redis).result_info()
        assert info.success and "more=False" in info.result, info.result
        new = {
            r["ticket_id"]: r
            for r in await runtime.pool.fetch(
                "SELECT id, ticket_id, version, due_at, policy_version, next_step, next_step_at, deadline FROM clocks "
                "WHERE ticket_id = any($1::bigint[]) AND clock = 'reply'",
                list(ids.values()),
            )
        }
        for t in running:
            tid = ids[t["number"]]
            assert new[tid]["policy_version"] == version and new[tid]["version"] == old[tid]["version"] + 1
            assert new[tid]["due_at"] > old[tid]["due_at"] + timedelta(days=9)
            assert new[tid]["deadline"]["policy_id"] == "reply-suggestion" and new[tid]["deadline"]["limit"] == 20
            # The projection, the trace, and the re-armed warning under the new version.
            detail = (await api.get("dispatcher", f"/api/tickets/{t['number']}")).json()
            assert datetime.fromisoformat(detail["deadlines"]["reply"]) == new[tid]["due_at"]
            assert detail["events"][-1]["action"] == "deadline_recomputed"
            job = Job(jobs.escalation_job_id(new[tid]["id"], new[tid]["version"], "warning"), runtime.redis)
            assert (await job.info()) is not None
        ctid = ids[closed["number"]]
        assert new[ctid]["version"] == old[ctid]["version"] and new[ctid]["due_at"] == old[ctid]["due_at"]
        assert new[ctid]["policy_version"] == old[ctid]["policy_version"]
        # Run again: nothing left to move (idempotent).
        again = await recompute.recompute_open(
            runtime, version=version, after_id=0, now_fn=lambda: datetime.now(UTC), pause_seconds=0
        )
        assert again.moved == 0 and not again.more
    finally:
        await _put(api, {"defaults": before["defaults"], "policy": rows})


async def test_recompute_keeps_approved_extensions_and_steps_already_recorded(api, runtime):
    h = "handler-320612-bureau"
    before = await _current(api)
    rows = [dict(r) for r in before["policy"]]
    t = await api.create("agent", kind="help")
    await api.act(h, t["number"], "sign")
    await api.act(h, t["number"], "request-extension", working_days=3, reason="需要协调")
    extended = await api.act("dispatcher", t["number"], "decide-extension", approve=True)
    tid = await runtime.pool.fetchval("SELECT id FROM tickets WHERE number = $1", t["number"])
    shorter = [{**r, "limit": 5} if r["id"] == "reply-help" else r for r in rows]
    try:
        result = await _put(api, {"defaults": before["defaults"], "policy": shorter})
        progress = await recompute.recompute_open(
            runtime, version=result["version"], after_id=0, now_fn=lambda: datetime.now(UTC), pause_seconds=0
        )
        assert not progress.more and progress.moved >= 1
        clock = await runtime.pool.fetchrow(
            "SELECT deadline, due_at FROM clocks WHERE ticket_id = $1 AND clock = 'reply'", tid
        )
        # 5 working days from the start, then the approved 3 working days again: earlier than 10 + 3.
        assert clock["due_at"] < datetime.fromisoformat(extended["deadlines"]["reply"])
        assert [a["kind"] for a in clock["deadline"]["adjustments"]] == ["extension"]
        assert clock["deadline"]["limit"] == 5
        # A superseded version's job stops at once.
        stale = await recompute.recompute_open(
            runtime, version=result["version"] - 1, after_id=0, now_fn=lambda: datetime.now(UTC)
        )
        assert stale.superseded and stale.examined == 0
    finally:
        await _put(api, {"defaults": before["defaults"], "policy": rows})


async def test_a_recomputation_whose_job_redis_lost_is_resumed_from_postgresql(api, runtime, settings, redis_clean):
    before = await _current(api)
    rows = [dict(r) for r in before["policy"]]
    t = await api.create("agent", kind="praise")
    tid = await runtime.pool.fetchval("SELECT id FROM tickets WHERE number = $1", t["number"])
    longer = [{**r, "limit": 12} if r["id"] == "reply-praise" else r for r in rows]
    try:
        result = await _put(api, {"defaults": before["defaults"], "policy": longer}, recompute_open="true")
        version = result["version"]
        await runtime.redis.flushdb()  # the queued job is gone with Redis' data
        stored = await runtime.pool.fetchrow(
            "SELECT recompute_requested, recompute_done_at FROM sla_policy_versions WHERE version = $1", version
        )
        assert stored["recompute_requested"] and stored["recompute_done_at"] is None
        now = datetime.now(UTC)
        assert await recompute.stalled_recomputation(runtime, now=now) is None  # not stalled yet: just asked
        later = now + timedelta(seconds=recompute.RECOMPUTE_STALLED_AFTER_SECONDS + 1)
        assert await recompute.stalled_recomputation(runtime, now=later) == (version, 0)
        # The cron job, run as the worker runs it, re-queues the work; a worker then finishes it.
        from workers.jobs import resume_recomputation

        await runtime.pool.execute(
            "UPDATE sla_policy_versions SET recompute_progress_at = now() - interval '1 hour' WHERE version = $1",
            version,
        )
        summary = await resume_recomputation({"rt": runtime})
        assert f"version={version}" in summary and "queued=True" in summary

        async def done() -> bool:
            return await runtime.pool.fetchval(
                "SELECT recompute_done_at IS NOT NULL FROM sla_policy_versions WHERE version = $1", version
            )

        await run_workers(settings, until=done)
        assert await done()
        clock = await runtime.pool.fetchrow(
            "SELECT policy_version, deadline FROM clocks WHERE ticket_id = $1 AND clock = 'reply'", tid
        )
        assert clock["policy_version"] == version and clock["deadline"]["limit"] == 12
        assert await recompute.stalled_recomputation(runtime, now=later + timedelta(hours=1)) is None
    finally:
        await _put(api, {"defaults": before["defaults"], "policy": rows})
