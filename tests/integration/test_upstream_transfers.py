"""What an upstream platform may do to its own transfer (issue 12): recall (撤回), urge (催办), supplement (补充材料),
by its external_ref, idempotent on Idempotency-Key, recorded with the integration account as actor, the unit told
on the live feed; 404 for another channel's reference, 409 with the allowed actions when the status forbids it."""

from __future__ import annotations

import uuid
from typing import Any

from tests.integration.workers.support import LiveTap

UNIT = "320612-bureau"


async def a_transfer(api: Any) -> tuple[str, str]:
    ref = f"NT12345-{uuid.uuid4().hex[:10]}"
    t = await api.create("integration-12345", channel="12345", external_ref=ref)
    assert t["unit"] == UNIT
    return t["number"], ref


async def upstream(
    api: Any, action: str, ref: str, body: dict[str, Any], key: str | None, *, who: str = "", ch: str = "12345"
):
    headers = {"Idempotency-Key": key} if key else {}
    return await api.post(who or "integration-12345", f"/api/transfers/{ch}/{ref}/{action}", json=body, headers=headers)


async def events(runtime: Any, number: str) -> list[Any]:
    return await runtime.pool.fetch(
        "SELECT e.action, e.role, e.actor, e.payload, e.status_after FROM events e "
        "JOIN tickets t ON t.id = e.ticket_id WHERE t.number = $1 ORDER BY e.id",
        number,
    )


async def test_a_recall_closes_the_case_as_withdrawn_uncharged_once_per_request_id(api, runtime):
    number, ref = await a_transfer(api)
    key = f"recall-{uuid.uuid4().hex}"
    async with LiveTap(runtime.redis) as tap:
        r = await upstream(api, "recall", ref, {"reason": "市民已撤诉"}, key)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "closed" and r.json()["closure"] == "withdrawn"
    told = [m for m in tap.messages if m.get("number") == number and m.get("action") == "recall"]
    assert told and UNIT in told[0]["units"]
    a = await runtime.pool.fetchrow(
        "SELECT a.end_reason, a.charged FROM assignments a JOIN tickets t ON t.id = a.ticket_id WHERE t.number = $1",
        number,
    )
    assert (a["end_reason"], a["charged"]) == ("withdrawn", False)
    running = await runtime.pool.fetchval(
        "SELECT count(*) FROM clocks c JOIN tickets t ON t.id = c.ticket_id "
        "WHERE t.number = $1 AND c.stopped_at IS NULL",
        number,
    )
    assert running == 0
    [recall] = [e for e in await events(runtime, number) if e["action"] == "recall"]
    assert recall["role"] == "integration" and recall["actor"] == "12345平台接口"
    assert recall["payload"] == {"reason": "市民已撤诉", "channel": "12345"}
    done = await runtime.pool.fetchrow("SELECT action, ticket_id FROM upstream_requests WHERE request_id = $1", key)
    assert done["action"] == "recall"
    page = await api.get("dispatcher", f"/tickets/{number}", headers={"Accept": "text/html"})
    assert "上级平台撤回" in page.text and "撤回理由：市民已撤诉" in page.text

    again = await upstream(api, "recall", ref, {"reason": "市民已撤诉"}, key)
    assert again.status_code == 200 and again.headers["idempotent-replay"] == "true"
    assert again.json()["version"] == r.json()["version"]
    assert [e["action"] for e in await events(runtime, number)].count("recall") == 1
    other = await upstream(api, "recall", ref, {"reason": "另一个理由"}, key)
    assert other.status_code == 422 and "Idempotency-Key" in other.json()["fields"]

    late = await upstream(api, "urge", ref, {"note": "请尽快办理"}, f"urge-{uuid.uuid4().hex}")
    assert late.status_code == 409, late.text
    assert late.json()["allowed_actions"] == [] and late.json()["ticket_status"] == "closed"


async def test_an_upstream_urge_is_counted_as_an_urge_and_a_supplement_is_appended(api, runtime):
    number, ref = await a_transfer(api)
    async with LiveTap(runtime.redis) as tap:
        r = await upstream(api, "urge", ref, {"note": "市民再次来电催促"}, f"u-{uuid.uuid4().hex}")
        assert r.status_code == 200, r.text
        s = await upstream(api, "supplement", ref, {"text": "市民补充：车牌号苏F12345"}, f"s-{uuid.uuid4().hex}")
        assert s.status_code == 200, s.text
    assert s.json()["status"] == "dispatched"  # nothing else changes
    for action in ("urge", "supplement"):
        m = next(m for m in tap.messages if m.get("number") == number and m.get("action") == action)
        assert UNIT in m["units"]
    evs = await events(runtime, number)
    urge = next(e for e in evs if e["action"] == "urge")
    assert urge["role"] == "integration" and urge["payload"]["channel"] == "12345"
    supplement = next(e for e in evs if e["action"] == "supplement")
    assert supplement["payload"]["text"] == "市民补充：车牌号苏F12345"
    # Counted where every urge is: the unit's queue shows it.
    urges = await runtime.pool.fetchval(
        "SELECT count(*) FROM events e JOIN tickets t ON t.id = e.ticket_id WHERE t.number = $1 AND e.action = 'urge'",
        number,
    )
    assert urges == 1
    handler = await api.get(f"handler-{UNIT}", f"/api/tickets/{number}")
    assert [e["action"] for e in handler.json()["events"]][-2:] == ["urge", "supplement"]
    page = await api.get(f"handler-{UNIT}", f"/tickets/{number}", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "12345政务服务便民热线催办：市民再次来电催促" in page.text
    assert "补充材料：市民补充：车牌号苏F12345" in page.text


async def test_another_channels_reference_is_not_found_and_the_request_id_is_required(api):
    number, ref = await a_transfer(api)
    assert (
        await upstream(api, "urge", ref, {"note": "催办"}, "k1", who="integration-12328", ch="12328")
    ).status_code == 404
    assert (await upstream(api, "urge", ref, {"note": "催办"}, "k2", who="integration-12328")).status_code == 404
    assert (await upstream(api, "urge", "NO-SUCH-REF", {"note": "催办"}, "k3")).status_code == 404
    assert (await upstream(api, "urge", ref, {"note": "催办"}, "k4", who="manager")).status_code == 403
    missing = await upstream(api, "urge", ref, {"note": "催办"}, None)
    assert missing.status_code == 422 and "Idempotency-Key" in missing.json()["fields"]
    empty = await upstream(api, "supplement", ref, {"text": ""}, "k5")
    assert empty.status_code == 422 and "text" in empty.json()["fields"]


async def test_a_recall_after_the_reply_stops_the_callback_clock(api, runtime):
    number, ref = await a_transfer(api)
    handler = f"handler-{UNIT}"
    await api.act(handler, number, "sign")
    await api.act(handler, number, "reply", content="已处理", outcome="resolved")
    r = await upstream(api, "recall", ref, {"reason": "上级平台已办结"}, f"r-{uuid.uuid4().hex}")
    assert r.status_code == 200, r.text
    assert r.json()["closure"] == "withdrawn" and r.json()["deadlines"]["callback"] is None
    running = await runtime.pool.fetchval(
        "SELECT count(*) FROM clocks c JOIN tickets t ON t.id = c.ticket_id "
        "WHERE t.number = $1 AND c.stopped_at IS NULL",
        number,
    )
    assert running == 0
