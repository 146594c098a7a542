"""The live feed over a real HTTP server: committed changes arrive as server-sent events, filtered by scope."""

from __future__ import annotations

import asyncio
import json
import socket

import httpx
import pytest
import uvicorn

from tests.integration.documented import document, operation, success_content


@pytest.fixture(scope="module")
async def server_url(client):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    config = uvicorn.Config(client.app, host="127.0.0.1", port=port, lifespan="off", log_config=None)
    server = uvicorn.Server(config)
    task = asyncio.ensure_future(server.serve())
    for _ in range(100):
        if server.started:
            break
        await asyncio.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


async def _collect(url: str, token: str, into: list[dict], ready: asyncio.Event) -> None:
    async with httpx.AsyncClient(timeout=None) as http:
        async with http.stream("GET", f"{url}/api/live", headers={"Authorization": f"Bearer {token}"}) as r:
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
            event = None
            async for line in r.aiter_lines():
                if line.startswith("event:"):
                    event = line.split(":", 1)[1].strip()
                elif line.startswith("data:") and event:
                    if event == "ready":
                        ready.set()
                    else:
                        into.append({"event": event, **json.loads(line.split(":", 1)[1])})


async def test_changes_reach_subscribers_filtered_by_unit(api, server_url):
    own, other, manager = [], [], []
    readies = [asyncio.Event() for _ in range(3)]
    tasks = [
        asyncio.create_task(_collect(server_url, await api.token(user), box, ready))
        for user, box, ready in (
            ("handler-320612-bureau", own, readies[0]),
            ("handler-320614-bureau", other, readies[1]),
            ("manager", manager, readies[2]),
        )
    ]
    try:
        await asyncio.wait_for(asyncio.gather(*(e.wait() for e in readies)), 10)
        t = await api.create("agent")  # routes to 320612-bureau
        await api.act("handler-320612-bureau", t["number"], "sign")
        for _ in range(100):  # its own two messages (others' may arrive too: the channel is shared)
            if (
                len([m for m in own if m["number"] == t["number"]]) >= 2
                and len([m for m in manager if m["number"] == t["number"]]) >= 2
            ):
                break
            await asyncio.sleep(0.05)
        mine = [m for m in own if m["number"] == t["number"]]
        assert [m["action"] for m in mine] == ["create", "sign"]
        assert [m["action"] for m in manager if m["number"] == t["number"]] == ["create", "sign"]
        assert not [m for m in other if m["number"] == t["number"]]
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_the_feed_is_documented_and_sent_as_text_event_stream(api, server_url):
    doc = await document(api.client)
    op = operation(doc, "GET", "/api/live")
    assert op["operationId"] == "streamLiveFeed" and op["tags"] == ["ops"] and op["security"] == [{"bearer": []}]
    assert "Roles: admin, agent, dispatcher, handler, manager." in op["description"]
    content = success_content(doc, "GET", "/api/live")
    assert list(content) == ["text/event-stream"]
    # The stream read whole as text, or one event whose data is a JSON document (what Schemathesis checks each by).
    string, event = content["text/event-stream"]["schema"]["anyOf"]
    assert string == {"type": "string"} and event["required"] == ["data"]
    assert event["properties"]["data"] == {"type": "string", "contentMediaType": "application/json"}
    token = await api.token("dispatcher")
    async with httpx.AsyncClient(timeout=10) as http:
        async with http.stream("GET", f"{server_url}/api/live", headers={"Authorization": f"Bearer {token}"}) as r:
            assert r.status_code == 200
            assert r.headers["content-type"].split(";")[0] == "text/event-stream"
            async for line in r.aiter_lines():
                assert line == "event: ready"  # the first thing the feed says
                break


async def test_live_feed_needs_a_staff_role(api, client):
    r = await api.get("integration-12345", "/api/live")
    assert r.status_code == 403
    assert (await client.get("/api/live")).status_code == 401


async def _stream_until_closed(url: str, token: str, ready: asyncio.Event) -> str:
    async with httpx.AsyncClient(timeout=None) as http:
        async with http.stream("GET", f"{url}/api/live", headers={"Authorization": f"Bearer {token}"}) as r:
            async for line in r.aiter_lines():
                if line.startswith("event:") and "ready" in line:
                    ready.set()
    return "closed"


async def test_the_stream_of_a_deactivated_account_or_a_signed_out_session_ends_at_once(api, client, server_url):
    from tests.integration.test_sessions import new_account

    runtime = client.app.state.runtime
    for how in ("deactivate", "sign-out"):
        username = await new_account(runtime)
        r = await client.post("/api/auth/token", json={"username": username, "password": "test-password"})
        token = r.json()["access_token"]
        ready = asyncio.Event()
        task = asyncio.create_task(_stream_until_closed(server_url, token, ready))
        try:
            await asyncio.wait_for(ready.wait(), 10)
            if how == "deactivate":
                r = await api.request("admin", "PATCH", f"/api/admin/accounts/{username}", json={"active": False})
            else:
                r = await client.post("/api/auth/logout", headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 200, r.text
            # Well before the 15 s keepalive would have run the loop again.
            assert await asyncio.wait_for(task, 3) == "closed", how
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        assert (await client.get("/api/live", headers={"Authorization": f"Bearer {token}"})).status_code == 401
