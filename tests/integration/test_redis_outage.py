"""Redis down, then back: intake, reading, handling and sign-out go on (PostgreSQL is the truth); what needs Redis
(the citizen side's rate limit) says so with a 503 and Retry-After, never a 500; after the restart everything works
again without restarting the API.

A private redis-server is started for this test (the shared one must stay up for the others) and killed mid-test.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import httpx

from hotline.escalation import catch_up
from tests.conftest import Api, ticket_body
from tests.integration.test_lifecycle import H
from tests.scratch import free_port, start_redis, stop_redis


async def test_the_service_keeps_taking_calls_while_redis_is_down_and_recovers_when_it_is_back(
    settings, database, tmp_path
):
    from hotline.infra.runtime import Runtime
    from hotline.web.app import create_app

    port = free_port()
    redis_proc = start_redis(port, tmp_path)
    mine = dataclasses.replace(settings, redis_url=f"redis://127.0.0.1:{port}/0")
    app = create_app(mine)
    runtime = await Runtime.start(mine)
    app.state.runtime, app.state.settings, app.state.redis = runtime, mine, runtime.redis
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            api = Api(c, {})
            await api.token("agent")  # signed in while Redis is up; the tokens are kept for the outage
            await api.token(H)
            assert (await api.post("agent", "/api/tickets", json=ticket_body())).status_code == 201

            stop_redis(redis_proc)
            during = await api.post("agent", "/api/tickets", json=ticket_body())
            assert during.status_code == 201, during.text  # 统一受理 does not stop for a cache
            n = during.json()["number"]
            assert (await api.get("agent", f"/api/tickets/{n}")).status_code == 200
            signed = await api.post(H, f"/api/tickets/{n}/sign", json={})
            assert signed.status_code == 200 and signed.json()["status"] == "in_progress"
            # The citizen side fails closed: its rate limit is what keeps a guesser from the phone tails.
            tail = ticket_body()["caller"]["phone"][-4:]
            public = await c.get(f"/public/tickets/{n}", params={"phone_tail": tail})
            assert public.status_code == 503 and int(public.headers["retry-after"]) > 0, public.text
            web_before = await runtime.pool.fetchval("SELECT count(*) FROM tickets WHERE channel = 'web'")
            form = await c.post(
                "/public/tickets",
                json={"kind": "help", "title": "求助", "content": "需要帮助", "caller": {"phone": "13700001111"}},
            )
            assert form.status_code == 503 and int(form.headers["retry-after"]) > 0
            assert await runtime.pool.fetchval("SELECT count(*) FROM tickets WHERE channel = 'web'") == web_before
            # Sign-out is recorded in PostgreSQL: it works, and holds, without Redis.
            await api.token("manager")
            out = await api.post("manager", "/api/auth/logout")
            assert out.status_code == 200, out.text
            assert (await api.get("manager", "/api/auth/me")).status_code == 401
            assert (await c.get("/readyz")).status_code == 503
            # The deadlines are in PostgreSQL whatever became of their jobs: the sweep will find them.
            due = await runtime.pool.fetchval(
                "SELECT count(*) FROM clocks c JOIN tickets t ON t.id = c.ticket_id "
                "WHERE t.number = $1 AND c.next_step_at IS NOT NULL",
                n,
            )
            assert due >= 1

            redis_proc = start_redis(port, tmp_path)  # back, empty
            after = None
            for _ in range(20):  # the client reconnects by itself; the first command may still see the old socket
                after = await api.post("agent", "/api/tickets", json=ticket_body())
                if after.status_code == 201:
                    break
            assert after is not None and after.status_code == 201
            assert (await c.get("/readyz")).status_code == 200
            out = await api.post("agent", "/api/auth/logout")
            assert out.status_code in (200, 204), out.text
            assert (await api.get("agent", f"/api/tickets/{n}")).status_code == 401  # sign-out holds again
            # Jobs are armed again in the new Redis: the ticket's warning, by the sweep as it comes near.
            warning_at = await runtime.pool.fetchval(
                "SELECT min(c.next_step_at) FROM clocks c JOIN tickets t ON t.id = c.ticket_id WHERE t.number = $1", n
            )
            await catch_up.rearm_upcoming(runtime, now=warning_at - timedelta(seconds=5))
            assert await runtime.redis.zcard("arq:queue") >= 1
    finally:
        await runtime.close()
        stop_redis(redis_proc)
