"""Intake: creation, numbering, routing, idempotent replays under concurrency, and refused bad input."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import UTC, datetime, timedelta, timezone

from tests.conftest import ticket_body


async def test_agent_logs_a_call_that_routes_to_the_district_bureau(api):
    t = await api.create("agent")
    assert re.fullmatch(r"96196-\d{8}-\d{6}", t["number"])
    assert t["status"] == "dispatched" and t["unit"] == "320612-bureau" and t["closure"] is None
    assert t["version"] == 1 and t["channel"] == "96196" and t["kind"] == "complaint"
    assert t["deadlines"]["sign"] and t["deadlines"]["reply"] and t["deadlines"]["callback"] is None
    assert datetime.fromisoformat(t["deadlines"]["reply"]) > datetime.fromisoformat(t["deadlines"]["sign"])
    assert t["caller"]["phone"] == "13812345678"  # agents call back: they see the number
    detail = (await api.get("agent", f"/api/tickets/{t['number']}")).json()
    assert [e["action"] for e in detail["events"]] == ["create", "route"]
    assert detail["events"][1]["status_before"] == "pending_dispatch"
    assert detail["events"][1]["status_after"] == "dispatched"
    routing = (await api.get("agent", f"/api/tickets/{t['number']}/routing")).json()
    assert routing["unit"] == "320612-bureau" and routing["rule"] == {
        "id": routing["rule"]["id"],
        "category": "taxi",
        "territory": "*",
        "unit": "{territory}-bureau",
    }


async def test_numbers_sort_by_time(api):
    first = await api.create("agent")
    second = await api.create("agent")
    assert first["number"] < second["number"]


async def test_unroutable_ticket_waits_for_dispatch(api):
    t = await api.create("agent", territory="110101", category="taxi")
    assert t["status"] == "pending_dispatch" and t["unit"] is None
    assert t["deadlines"] == {"sign": None, "reply": None, "callback": None}
    routing = (await api.get("dispatcher", f"/api/tickets/{t['number']}/routing")).json()
    assert "not served" in routing["reason"]
    t2 = await api.create("agent", category=None)
    assert t2["status"] == "pending_dispatch"


async def test_transfer_replay_returns_the_same_ticket(api):
    ref = f"SZ12345-{uuid.uuid4().hex[:10]}"
    body = ticket_body(channel="12345", external_ref=ref, external_due_at="2030-01-10T17:00:00+08:00")
    r1 = await api.post("integration-12345", "/api/tickets", json=body)
    r2 = await api.post("integration-12345", "/api/tickets", json=body)
    assert r1.status_code == 201 and r2.status_code == 200
    assert r1.json()["number"] == r2.json()["number"] and r1.json()["number"].startswith("12345-")
    assert r1.json()["external_ref"] == ref


async def test_idempotency_key_replay(api):
    key = uuid.uuid4().hex
    r1 = await api.post("agent", "/api/tickets", json=ticket_body(), headers={"Idempotency-Key": key})
    r2 = await api.post("agent", "/api/tickets", json=ticket_body(), headers={"Idempotency-Key": key})
    assert (r1.status_code, r2.status_code) == (201, 200)
    assert r1.json()["number"] == r2.json()["number"]


async def test_twenty_simultaneous_submissions_of_one_external_ref_make_one_ticket(api, runtime):
    ref = f"SZ-{uuid.uuid4().hex}"
    body = ticket_body(channel="12345", external_ref=ref)
    await api.token("integration-12345")
    responses = await asyncio.gather(*[api.post("integration-12345", "/api/tickets", json=body) for _ in range(20)])
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] * 19 + [201]
    assert len({r.json()["number"] for r in responses}) == 1
    count = await runtime.pool.fetchval("SELECT count(*) FROM tickets WHERE external_ref = $1", ref)
    assert count == 1
    events = await runtime.pool.fetchval(
        "SELECT count(*) FROM events e JOIN tickets t ON t.id = e.ticket_id WHERE t.external_ref = $1", ref
    )
    assert events == 2


async def test_upstream_deadline_caps_the_reply_deadline(api):
    due = datetime.now(UTC) + timedelta(days=3)
    t = (
        await api.post(
            "integration-12345",
            "/api/tickets",
            json=ticket_body(channel="12345", external_ref=uuid.uuid4().hex, external_due_at=due.isoformat()),
        )
    ).json()
    assert datetime.fromisoformat(t["deadlines"]["reply"]) <= due


def _problem(r, status: int, field: str | None = None) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == status and body["title"] and body["detail"]
    if field is not None:
        assert field in body["fields"], body
    return body


async def test_bad_inputs_are_refused_naming_the_field(api, runtime):
    before = await runtime.pool.fetchval("SELECT count(*) FROM tickets")
    cases = [
        (ticket_body(kind="rumour"), 422, "kind"),
        (ticket_body(channel="99999"), 422, "channel"),
        (ticket_body(category="spaceship"), 422, "category"),
        (ticket_body(territory="32061"), 422, "territory"),
        (ticket_body(title=""), 422, "title"),
        (ticket_body(title="   "), 422, "title"),
        (ticket_body(content="x" * 10001), 422, "content"),
        (ticket_body(caller={"name": "李", "phone": "not-a-phone"}), 422, "caller.phone"),
        (ticket_body(location={"lat": 123, "lng": 0}), 422, "location.lat"),
        (ticket_body(urgent="yes"), 422, "urgent"),
        ({k: v for k, v in ticket_body().items() if k != "title"}, 422, "title"),
        (ticket_body(external_ref="X-1"), 422, "external_ref"),
    ]
    for body, status, field in cases:
        _problem(await api.post("agent", "/api/tickets", json=body), status, field)
    naive = ticket_body(channel="12345", external_ref=uuid.uuid4().hex, external_due_at="2030-01-10T17:00:00")
    _problem(await api.post("integration-12345", "/api/tickets", json=naive), 422, "external_due_at")
    r = await api.post("agent", "/api/tickets", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.headers["content-type"].startswith("application/problem+json")
    r = await api.post("agent", "/api/tickets", json=[1, 2])
    assert 400 <= r.status_code < 500
    assert await runtime.pool.fetchval("SELECT count(*) FROM tickets") == before


async def test_channels_are_bound_to_roles(api):
    _problem(await api.post("integration-12328", "/api/tickets", json=ticket_body(channel="12345")), 403, "channel")
    _problem(await api.post("agent", "/api/tickets", json=ticket_body(channel="12345")), 403, "channel")
    _problem(await api.post("handler-320612-bureau", "/api/tickets", json=ticket_body()), 403)
    _problem(await api.post("manager", "/api/tickets", json=ticket_body()), 403)
    _problem(await api.post(None, "/api/tickets", json=ticket_body()), 401)


async def test_an_upstream_deadline_caps_both_the_sign_and_the_reply_clock(api):
    """A 12345 transfer due upstream in two hours: the unit's reply deadline is the upstream one, and so is its sign
    deadline (it cannot have until tomorrow 17:30 to sign a case that must be closed in two hours)."""
    upstream = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)
    body = ticket_body(
        channel="12345", external_ref=f"CAP-{uuid.uuid4().hex[:8]}", external_due_at=upstream.isoformat()
    )
    t = (await api.post("integration-12345", "/api/tickets", json=body)).json()
    assert datetime.fromisoformat(t["deadlines"]["reply"]) == upstream
    assert datetime.fromisoformat(t["deadlines"]["sign"]) == upstream
    d = (await api.get("dispatcher", f"/api/tickets/{t['number']}")).json()
    assert d["clocks"]["reply"]["explanation"]["capped"] is True
    # A re-dispatch to another unit keeps the cap.
    t = await api.act("dispatcher", t["number"], "dispatch", unit="320614-bureau")
    assert datetime.fromisoformat(t["deadlines"]["sign"]) <= upstream
    assert datetime.fromisoformat(t["deadlines"]["reply"]) == upstream


async def test_the_created_ticket_is_answered_as_it_is_stored(api):
    """201's body is built from what was written, not read back: it must equal what reading the ticket shows."""
    due = (datetime.now(timezone(timedelta(hours=8))) + timedelta(days=3)).replace(microsecond=123456)
    bodies = [
        (
            "integration-12345",
            ticket_body(
                channel="12345",
                external_ref=f"same-{uuid.uuid4().hex}",
                external_due_at=due.isoformat(),
                urgent=True,
                address="通州区万达广场北门",
                location={"lat": 32.0123, "lng": 120.8765},
                title="  前后有空格  ",
            ),
        ),
        ("agent", ticket_body(category=None, territory=None, caller=None)),  # left pending for a dispatcher
    ]
    for who, body in bodies:
        r = await api.post(who, "/api/tickets", json=body)
        assert r.status_code == 201, r.text
        created = r.json()
        read = (await api.get(who, f"/api/tickets/{created['number']}")).json()
        assert {k: read[k] for k in created} == created


async def test_caller_numbers_are_checked_against_the_numbering_plan_with_the_real_reason(api, runtime):
    before = await runtime.pool.fetchval("SELECT count(*) FROM tickets")
    refused = {
        "9" * 20: "too long",  # twenty nines used to pass the character pattern
        "1": "too short",  # and one digit was refused for its "pattern"
        "12345678901": "not a Chinese mobile",  # eleven digits, but no mobile range starts 123
        "0513-8612": "not a Chinese mobile",  # an area code and half a number
    }
    for phone, reason in refused.items():
        r = await api.post("agent", "/api/tickets", json=ticket_body(caller={"name": "李", "phone": phone}))
        body = _problem(r, 422, "caller.phone")
        assert reason in body["fields"]["caller.phone"], (phone, body)
    assert await runtime.pool.fetchval("SELECT count(*) FROM tickets") == before
    # A mobile, a landline with its area code, a service number and a foreign mobile with its + are callable.
    for phone in ("138 1234 5678", "0513-86123456", "12345", "+14155552671"):
        r = await api.post("agent", "/api/tickets", json=ticket_body(caller={"name": "李", "phone": phone}))
        assert r.status_code == 201, (phone, r.text)
