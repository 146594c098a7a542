"""Which actions write which feedback event to the outbox (外网反馈), with what, for which tickets; and the outbox's
list as operators read it (filters, pages, bad input named)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import principal
from tests.integration.workers.upstream_support import outbox_of, transfer, upstream_runtime


def config(tmp_path: Path, events: list[str]) -> Path:
    path = tmp_path / "upstream.toml"
    path.write_text(f'[channel."12345"]\nurl = "http://127.0.0.1:9/feedback"\nevents = {json.dumps(events)}\n')
    return path


async def test_sign_an_approved_extension_and_a_return_each_tell_upstream_in_sequence(database, settings, tmp_path):
    from hotline.tickets import lifecycle

    everything = ["signed", "extension_approved", "replied", "returned_upstream", "closed"]
    async with upstream_runtime(settings, config(tmp_path, everything)) as (_, rt):
        tid, number, ref = await transfer(rt)
        handler = await principal(rt, "handler-320612-bureau")
        dispatcher = await principal(rt, "dispatcher")
        await lifecycle.perform(rt, handler, number, "sign", b"{}")
        await lifecycle.perform(
            rt, handler, number, "request-extension", json.dumps({"working_days": 3, "reason": "需现场核查"}).encode()
        )
        await lifecycle.perform(rt, dispatcher, number, "decide-extension", b'{"approve": false}')
        await lifecycle.perform(
            rt, handler, number, "request-extension", json.dumps({"working_days": 3, "reason": "需现场核查"}).encode()
        )
        ticket = await lifecycle.perform(rt, dispatcher, number, "decide-extension", b'{"approve": true}')
        await lifecycle.perform(rt, handler, number, "return", json.dumps({"reason": "该路段属海门区管辖"}).encode())
        rows = await outbox_of(rt, [tid])
    assert [(r["seq"], r["event"], r["status"]) for r in rows] == [
        (1, "signed", "pending"),
        (2, "extension_approved", "pending"),  # the denied one told nothing
        (3, "returned_upstream", "pending"),
    ]
    bodies = [r["body"] for r in rows]
    assert [b["sequence"] for b in bodies] == [1, 2, 3]
    assert all(b["external_ref"] == ref and b["ticket"] == number and b["channel"] == "12345" for b in bodies)
    assert len({b["event_id"] for b in bodies}) == 3 and {str(r["event_id"]) for r in rows} == {
        b["event_id"] for b in bodies
    }
    assert bodies[0]["data"] == {"unit": "320612-bureau", "unit_name": "通州区交通运输局"}
    assert bodies[1]["data"]["new_due_at"] == ticket["deadlines"]["reply"]
    assert bodies[2]["data"]["reason"] == "该路段属海门区管辖"


async def test_only_transfers_and_only_the_listed_events_are_told(settings, tmp_path, api):
    from hotline.tickets import lifecycle

    async with upstream_runtime(settings, config(tmp_path, ["replied"])) as (_, rt):
        tid, number, _ = await transfer(rt)
        handler = await principal(rt, "handler-320612-bureau")
        await lifecycle.perform(rt, handler, number, "sign", b"{}")
        assert await outbox_of(rt, [tid]) == []  # signed is not listed for this channel
        await lifecycle.perform(rt, handler, number, "reply", b'{"content": "ok", "outcome": "resolved"}')
        assert [r["event"] for r in await outbox_of(rt, [tid])] == ["replied"]
        local = await api.create("agent")  # a 96196 call: no upstream to tell
        await lifecycle.perform(rt, handler, local["number"], "sign", b"{}")
        await lifecycle.perform(rt, handler, local["number"], "reply", b'{"content": "ok", "outcome": "resolved"}')
        lid = await rt.pool.fetchval("SELECT id FROM tickets WHERE number = $1", local["number"])
        assert await outbox_of(rt, [lid]) == []


async def test_the_outbox_list_filters_pages_and_names_bad_input(api, settings, tmp_path):
    from hotline.tickets import lifecycle

    async with upstream_runtime(settings, config(tmp_path, ["signed"])) as (_, rt):
        numbers = []
        for _ in range(3):
            _, number, _ = await transfer(rt)
            await lifecycle.perform(rt, await principal(rt, "handler-320612-bureau"), number, "sign", b"{}")
            numbers.append(number)
    r = await api.get("admin", "/api/outbox", params={"status": "pending", "channel": "12345", "limit": 2})
    assert r.status_code == 200, r.text
    page = r.json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    assert [i["ticket"] for i in page["items"]] == numbers[::-1][:2]  # newest first
    item = page["items"][0]
    assert item["status"] == "pending" and item["attempts"] == 0 and item["next_attempt_at"]
    assert item["body"]["event"] == "signed" and item["body"]["event_id"] == item["event_id"]
    rest = await api.get("admin", "/api/outbox", params={"status": "pending", "cursor": page["next_cursor"]})
    assert numbers[0] in [i["ticket"] for i in rest.json()["items"]]
    other = (await api.get("admin", "/api/outbox", params={"channel": "12328"})).json()["items"]
    assert all(i["channel"] == "12328" for i in other) and not {i["ticket"] for i in other} & set(numbers)
    bad = await api.get("manager", "/api/outbox", params={"status": "lost", "channel": "nope", "limit": 0})
    assert bad.status_code == 422 and set(bad.json()["fields"]) == {"status", "channel", "limit"}
    assert (await api.get("manager", "/api/outbox", params={"cursor": "garbage"})).status_code == 422
    assert (await api.get("handler-320612-bureau", "/api/outbox")).status_code == 403
    assert (await api.get("integration-12345", "/api/outbox")).status_code == 403
    assert (await api.post("admin", "/api/outbox/999999999/retry")).status_code == 404
    assert (await api.post("admin", "/api/outbox/99999999999999999999/retry")).status_code in (404, 422)
    assert (await api.post("admin", f"/api/outbox/{item['id']}/retry")).status_code == 409  # pending, not dead
