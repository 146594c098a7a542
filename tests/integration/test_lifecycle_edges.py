"""Edges of the lifecycle that a busy shift finds: scope after re-dispatch, crossed merges, suspensions that end with
their assignment, repeated returns, conflicts that name what is still allowed, and cursors from elsewhere."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import UTC, datetime, timedelta, timezone

from tests.conftest import create_at, principal
from tests.integration.test_lifecycle import OTHER, H, _detail

TZ = timezone(timedelta(hours=8))


async def test_a_unit_no_longer_sees_a_ticket_dispatched_away(api):
    t = await api.create("agent")
    n = t["number"]
    assert (await api.get(H, f"/api/tickets/{n}")).status_code == 200
    await api.act("dispatcher", n, "dispatch", unit="320614-bureau", note="属海门区")
    assert (await api.get(H, f"/api/tickets/{n}")).status_code == 404
    listed = (await api.get(H, "/api/tickets", params={"limit": 200})).json()["items"]
    assert n not in {i["number"] for i in listed}
    assert (await api.get(OTHER, f"/api/tickets/{n}")).status_code == 200


async def test_event_unit_is_the_actors_and_the_target_is_to_unit(api):
    t = await api.create("agent")
    n = t["number"]
    await api.act("dispatcher", n, "dispatch", unit="320614-bureau")
    await api.act(OTHER, n, "sign")
    d = await _detail(api, n)
    dispatch = next(e for e in d["events"] if e["action"] == "dispatch")
    assert dispatch["unit"] is None and dispatch["role"] == "dispatcher"
    assert dispatch["to_unit"] == "320614-bureau" and dispatch["from_unit"] == "320612-bureau"
    sign = next(e for e in d["events"] if e["action"] == "sign")
    assert sign["unit"] == "320614-bureau"


async def test_a_conflict_inside_an_action_names_the_allowed_actions(api):
    t = await api.create("agent")
    r = await api.post("dispatcher", f"/api/tickets/{t['number']}/dispatch", json={"unit": "320612-bureau"})
    body = r.json()
    assert r.status_code == 409 and body["fields"] == {"unit": "already holds the ticket"}
    assert "dispatch" in body["allowed_actions"] and "urge" in body["allowed_actions"]
    assert body["ticket_status"] == "dispatched"


async def test_crossed_merges_never_give_a_500_and_leave_one_open(api):
    for _ in range(3):
        a, b = await api.create("agent"), await api.create("agent")
        await api.token("agent")
        ra, rb = await asyncio.gather(
            api.post("agent", f"/api/tickets/{a['number']}/merge", json={"into": b["number"]}),
            api.post("agent", f"/api/tickets/{b['number']}/merge", json={"into": a["number"]}),
        )
        assert sorted([ra.status_code, rb.status_code]) == [200, 409], (ra.text, rb.text)
        da, db = await _detail(api, a["number"]), await _detail(api, b["number"])
        assert sorted([da["status"], db["status"]]) == ["closed", "dispatched"]


async def test_the_merge_target_gets_a_new_version_and_an_event(api):
    keep, dup = await api.create("agent"), await api.create("agent")
    await api.act("agent", dup["number"], "merge", into=keep["number"])
    d = await _detail(api, keep["number"])
    assert d["version"] == keep["version"] + 1 and d["events"][-1]["action"] == "merged_from"
    assert d["events"][-1]["version"] == d["version"] and d["events"][-1]["from"] == dup["number"]
    # Anyone still holding the old version is told the ticket changed.
    r = await api.post(
        "dispatcher", f"/api/tickets/{keep['number']}/urge", json={"note": "x", "expected_version": keep["version"]}
    )
    assert r.status_code == 409 and r.json()["version"] == d["version"]


async def test_a_suspension_ends_with_its_assignment(api):
    t = await api.create("agent")
    n = t["number"]
    await api.act(H, n, "sign")
    t = await api.act("dispatcher", n, "suspend", reason="等待公安部门调查结论")
    assert t["suspended"] is True
    t = await api.act("dispatcher", n, "dispatch", unit="320614-bureau", note="改派")
    assert t["suspended"] is False
    await api.act(OTHER, n, "sign")
    r = await api.post("dispatcher", f"/api/tickets/{n}/resume", json={"text": "恢复"})
    assert r.status_code == 409 and "not suspended" in r.json()["detail"]
    t = await api.act("dispatcher", n, "suspend", reason="再次挂起")  # a new assignment can be suspended again
    assert t["suspended"] is True
    t = await api.act("dispatcher", n, "resume", text="恢复办理")
    assert t["suspended"] is False and t["deadlines"]["reply"]


async def test_an_extension_request_is_voided_when_the_ticket_moves_on(api, runtime):
    t = await api.create("agent")
    n = t["number"]
    await api.act(H, n, "sign")
    await api.act(H, n, "request-extension", working_days=3, reason="需协调")
    await api.act("dispatcher", n, "dispatch", unit="320614-bureau")
    status = await runtime.pool.fetchval(
        "SELECT e.status FROM extension_requests e JOIN tickets t ON t.id = e.ticket_id WHERE t.number = $1", n
    )
    assert status == "void"
    await api.act(OTHER, n, "sign")
    await api.act("dispatcher", n, "decide-extension", expect=409, approve=True)


async def test_an_extension_until_a_holiday_is_refused_when_asked(api):
    t = await api.create("agent")
    n = t["number"]
    await api.act(H, n, "sign")
    due = datetime.fromisoformat(t["deadlines"]["reply"]).astimezone(TZ).date()
    sunday = due + timedelta(days=(6 - due.weekday()) % 7 or 7)
    r = await api.post(H, f"/api/tickets/{n}/request-extension", json={"until": sunday.isoformat(), "reason": "x"})
    assert r.status_code == 422 and "until" in r.json()["fields"] and "not a working day" in r.json()["detail"]


async def test_a_proper_return_after_a_refused_one_stops_the_clocks_at_the_second_return(api, runtime):
    t = await api.create("agent")
    n = t["number"]
    await api.act(H, n, "sign")
    await api.act(H, n, "return", reason="不属于本单位")
    await api.act("dispatcher", n, "decide-return", accept=False, proper=False, note="请继续办理")
    await asyncio.sleep(0.05)
    await api.act(H, n, "return", reason="经核实属海门区")
    await api.act("dispatcher", n, "decide-return", accept=True, unit="320614-bureau", proper=True)
    rows = await runtime.pool.fetch(
        """SELECT a.returned_at, c.stopped_at FROM assignments a JOIN clocks c ON c.assignment_id = a.id
           JOIN tickets t ON t.id = a.ticket_id WHERE t.number = $1 AND a.seq = 1 AND c.clock = 'reply'""",
        n,
    )
    events = [e for e in (await _detail(api, n))["events"] if e["action"] == "return"]
    second = datetime.fromisoformat(events[1]["at"])
    assert rows[0]["returned_at"] == second and rows[0]["stopped_at"] == second


async def test_a_cursor_from_elsewhere_is_a_422_not_a_500(api):
    def cursor(value):
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    for bad in (
        cursor(["x", "y"]),
        cursor(["2026-11-01T00:00:00+00:00", "7"]),
        cursor(["2026-11-01T00:00:00", 7]),
        cursor([None, 7]),
        cursor({"a": 1}),
        "!!!",
    ):
        for sort in ("created", "due"):
            r = await api.get("dispatcher", "/api/tickets", params={"cursor": bad, "sort": sort})
            if sort == "due" and bad == cursor([None, 7]):
                assert r.status_code == 200, r.text  # a due-sorted page may end on tickets without a deadline
                continue
            assert r.status_code == 422 and "cursor" in r.json()["fields"], (bad, sort, r.text)


async def test_a_failure_after_the_first_write_leaves_neither_the_change_nor_the_event(api, runtime):
    """Sign writes the assignment, stops the sign clock and updates the ticket before it appends its event. Make the
    event's INSERT fail (a fault injected in the database for this one ticket): none of the earlier writes stay."""
    import asyncpg
    import pytest

    from hotline.infra import db
    from hotline.tickets import lifecycle

    t = await api.create("agent")
    tid = await runtime.pool.fetchval("SELECT id FROM tickets WHERE number = $1", t["number"])
    # A trigger on events takes its owner (the service's own role may not add one): the superuser of the suite.
    owner = await db.connect(runtime.settings.database_url)
    await owner.execute(f"""
        CREATE FUNCTION fail_sign_{tid}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'injected fault'; END $$;
        CREATE TRIGGER fail_sign_{tid} BEFORE INSERT ON events FOR EACH ROW
            WHEN (NEW.ticket_id = {tid} AND NEW.action = 'sign') EXECUTE FUNCTION fail_sign_{tid}();""")
    try:
        handler = await principal(runtime, H)
        with pytest.raises(asyncpg.RaiseError, match="injected fault"):
            await lifecycle.perform(runtime, handler, t["number"], "sign", b"{}")
    finally:
        await owner.execute(f"DROP TRIGGER fail_sign_{tid} ON events; DROP FUNCTION fail_sign_{tid}();")
        await owner.close()
    state = await runtime.pool.fetchrow(
        """SELECT t.status, t.version, a.signed_at,
                  (SELECT stopped_at FROM clocks c WHERE c.assignment_id = a.id AND c.clock = 'sign') AS sign_stopped,
                  (SELECT count(*) FROM events e WHERE e.ticket_id = t.id) AS events
           FROM tickets t JOIN assignments a ON a.id = t.current_assignment_id WHERE t.id = $1""",
        tid,
    )
    assert dict(state) == {
        "status": "dispatched",
        "version": t["version"],
        "signed_at": None,
        "sign_stopped": None,
        "events": 2,
    }
    signed = await api.act(H, t["number"], "sign")  # and the action works once the fault is gone
    assert signed["status"] == "in_progress"


async def test_a_reopened_ticket_gets_a_fresh_reply_deadline_from_the_callback(runtime):
    """A complaint received Mon 2026-11-02 09:00 +08 is due 15 working days later: Nov 3-6 (4), 9-13 (9), 16-20 (14),
    Mon 23 (15) -> 2026-11-23 17:30. Replied Wed 11-04, called back Thu 11-05 10:00 dissatisfied: reopened (重办) with
    15 working days from the callback: Fri 6 (1), 9-13 (6), 16-20 (11), 23-26 (15) -> Thu 2026-11-26 17:30 +08."""
    from hotline.tickets import lifecycle

    agent, handler = await principal(runtime, "agent"), await principal(runtime, H)
    received = datetime(2026, 11, 2, 9, 0, tzinfo=TZ)
    number = await create_at(runtime, agent, received)
    t = await lifecycle.perform(runtime, handler, number, "sign", b"{}", now=received + timedelta(hours=1))
    assert datetime.fromisoformat(t["deadlines"]["reply"]) == datetime(2026, 11, 23, 17, 30, tzinfo=TZ)
    await lifecycle.perform(
        runtime,
        handler,
        number,
        "reply",
        '{"content": "已处理", "outcome": "explained"}'.encode(),
        now=datetime(2026, 11, 4, 10, 0, tzinfo=TZ),
    )
    t = await lifecycle.perform(
        runtime,
        agent,
        number,
        "callback",
        json.dumps({"contacted": True, "resolved": "unresolved", "satisfaction": "dissatisfied"}).encode(),
        now=datetime(2026, 11, 5, 10, 0, tzinfo=TZ),
    )
    assert t["status"] == "in_progress" and t["reopen_count"] == 1
    assert datetime.fromisoformat(t["deadlines"]["reply"]) == datetime(2026, 11, 26, 17, 30, tzinfo=TZ)
    assert t["deadlines"]["sign"] is None and t["deadlines"]["callback"] is None


async def test_a_nul_character_anywhere_is_a_422_naming_the_field(api):
    t = await api.create("agent")
    n = t["number"]
    for action, body, field in (
        ("note", {"text": "a\u0000b"}, "text"),
        ("reject", {"reason": "\u0000"}, "reason"),
        ("close", {"answer": "x\u0000"}, "answer"),
        ("urge", {"note": "\u0000"}, "note"),
    ):
        user = "agent" if action in ("close", "reject") else "dispatcher"
        r = await api.post(user, f"/api/tickets/{n}/{action}", json=body)
        assert r.status_code == 422 and field in r.json()["fields"], (action, r.text)
    r = await api.get("dispatcher", "/api/tickets", params={"q": "拒载\u0000"})
    assert r.status_code == 422 and "q" in r.json()["fields"]
    r = await api.get("dispatcher", "/api/tickets/hints", params={"text": "拒载\u0000", "phone": "13812345678"})
    assert r.status_code == 422, r.text
    assert (await _detail(api, n))["version"] == t["version"]  # nothing was written


async def test_a_suspended_clock_stands_still_in_the_console_queues(api, runtime):
    """Suspended (挂起): the handler queue shows the step reached and the time left when it paused, not ticking,
    however long the suspension lasts; a running clock of the same age goes on to overdue."""
    from datetime import datetime, timedelta

    from hotline.web.console import queries

    paused, running = await api.create("agent"), await api.create("agent")
    for t in (paused, running):
        await api.act(H, t["number"], "sign")
    await api.act("dispatcher", paused["number"], "suspend", reason="等待公安部门调查结论")
    now = datetime.now(UTC)
    later = now + timedelta(days=60)  # far past both reply deadlines
    queue = {it["number"]: it for it in await queries.handler_queue(runtime, "320612-bureau", later)}
    still, going = queue[paused["number"]]["clock_view"], queue[running["number"]]["clock_view"]
    assert going.step in ("overdue", "supervision") and going.past_due and going.remaining < 0
    assert still.suspended and not still.ticking and not still.past_due and still.step is None
    stored = await runtime.pool.fetchval(
        "SELECT (c.deadline->>'suspended_remaining_seconds')::float8 FROM clocks c JOIN tickets t "
        "ON t.id = c.ticket_id AND c.assignment_id = t.current_assignment_id "
        "WHERE t.number = $1 AND c.clock = 'reply'",
        paused["number"],
    )
    assert stored is not None and still.remaining == stored > 0
    # The same in the rendered queue: the countdown carries the frozen time and does not tick.
    html = (await api.get(H, "/handler")).text
    assert "已挂起" in html
