"""Return review (退单待审, issue 23 item 8): while a dispatcher rules on a unit's return the unit's clocks are paused
and the ruling runs on the dispatch clock; a refused return resumes the unit's clocks with the time they had left,
so a ruling made days later does not leave the unit overdue at once. Worked by hand in working time (08:30-12:00,
13:30-17:30, Asia/Shanghai)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from hotline.escalation import exact_time
from hotline.tickets import lifecycle
from tests.conftest import create_at, principal

CN = ZoneInfo("Asia/Shanghai")
H = "handler-320612-bureau"
RECEIVED = datetime(2026, 12, 7, 9, 0, tzinfo=CN)  # Monday 09:00: sign due Tuesday 17:30 (1 working day)
RETURNED = datetime(2026, 12, 7, 10, 0, tzinfo=CN)  # 13.5 working hours of the sign clock left
REFUSED = datetime(2026, 12, 11, 10, 0, tzinfo=CN)  # Friday, 4 days later


async def _returned(runtime) -> str:
    agent, handler = await principal(runtime, "agent"), await principal(runtime, H)
    number = await create_at(runtime, agent, RECEIVED)
    t = await lifecycle.perform(runtime, handler, number, "return", b'{"reason": "not ours"}', now=RETURNED)
    assert t["status"] == "return_requested"
    return number


async def _clocks(runtime, number):
    return {
        (r["clock"], r["assignment_id"] is None): r
        for r in await runtime.pool.fetch(
            "SELECT c.* FROM clocks c JOIN tickets t ON t.id = c.ticket_id WHERE t.number = $1 ORDER BY c.id", number
        )
    }


async def test_a_return_pauses_the_units_clocks_and_times_the_dispatchers_ruling(runtime, api):
    number = await _returned(runtime)
    clocks = await _clocks(runtime, number)
    sign, reply, review = clocks[("sign", False)], clocks[("reply", False)], clocks[("dispatch", True)]
    assert sign["suspended_at"] == RETURNED and reply["suspended_at"] == RETURNED
    assert sign["next_step"] is None and sign["stopped_at"] is None  # paused: nothing escalates
    assert review["started_at"] == RETURNED and review["due_at"] == datetime(2026, 12, 7, 12, 0, tzinfo=CN)
    # Days later the ladder has moved on for the dispatcher's clock only.
    for clock in (sign, reply):
        result = await exact_time.escalate_clock(runtime, clock["id"], 1, "warning", now=REFUSED)
        assert result.outcome.recorded == []
    result = await exact_time.escalate_clock(runtime, review["id"], review["version"], "warning", now=REFUSED)
    assert [s.step for s in result.outcome.recorded] == ["warning", "overdue", "supervision"]
    detail = (await api.get("dispatcher", f"/api/tickets/{number}")).json()
    assert detail["clocks"]["sign"]["suspended_at"] is not None and detail["clocks"]["sign"]["step"] is None
    assert detail["clocks"]["dispatch"]["running"]


async def test_a_refused_return_resumes_the_units_clocks_with_the_time_they_had_left(runtime, api):
    number = await _returned(runtime)
    dispatcher = await principal(runtime, "dispatcher")
    t = await lifecycle.perform(
        runtime, dispatcher, number, "decide-return", b'{"accept": false, "proper": false}', now=REFUSED
    )
    assert t["status"] == "dispatched"
    # 13.5 working hours from Friday 10:00: 6 on Friday, 7.5 on Monday -> Monday 14 December 17:30.
    assert datetime.fromisoformat(t["deadlines"]["sign"]) == datetime(2026, 12, 14, 17, 30, tzinfo=CN)
    clocks = await _clocks(runtime, number)
    sign, review = clocks[("sign", False)], clocks[("dispatch", True)]
    assert (
        sign["suspended_at"] is None
        and sign["next_step"] == "warning"
        and sign["due_at"] == datetime(2026, 12, 14, 17, 30, tzinfo=CN)
    )
    assert review["stopped_at"] == REFUSED and review["stop_reason"] == "return_decided"
    steps = await runtime.pool.fetch("SELECT step FROM escalation_steps WHERE clock_id = $1", sign["id"])
    assert steps == []  # not "签收 已超时 督办" at once
    detail = (await api.get("dispatcher", f"/api/tickets/{number}")).json()
    assert "dispatch" not in detail["clocks"] and detail["clocks"]["sign"]["suspended_at"] is None


async def test_an_accepted_proper_return_ends_the_review_and_stops_the_units_clocks_at_the_return(runtime):
    number = await _returned(runtime)
    dispatcher = await principal(runtime, "dispatcher")
    body = b'{"accept": true, "proper": true, "unit": "320614-bureau"}'
    t = await lifecycle.perform(runtime, dispatcher, number, "decide-return", body, now=REFUSED)
    assert t["status"] == "dispatched" and t["unit"] == "320614-bureau"
    rows = await runtime.pool.fetch(
        "SELECT c.clock, c.assignment_id, c.stopped_at FROM clocks c JOIN tickets t ON t.id = c.ticket_id "
        "WHERE t.number = $1 ORDER BY c.id",
        number,
    )
    first = [r for r in rows if r["assignment_id"] == rows[0]["assignment_id"]]
    assert {r["stopped_at"] for r in first} == {RETURNED}
    [review] = [r for r in rows if r["clock"] == "dispatch"]
    assert review["stopped_at"] == REFUSED


async def test_an_extension_waits_until_the_return_is_ruled_on(runtime, api):
    number = (await api.create("agent"))["number"]
    await api.act(H, number, "sign")
    await api.act(H, number, "request-extension", working_days=2, reason="需调查")
    await api.act(H, number, "return", reason="不属于本单位")
    r = await api.post("dispatcher", f"/api/tickets/{number}/decide-extension", json={"approve": True})
    assert r.status_code == 409 and "approve" in r.json()["fields"]
    await api.act("dispatcher", number, "decide-extension", approve=False)  # a refusal needs no clock


async def test_an_accepted_improper_return_stays_charged_as_if_the_clocks_had_run_on(runtime):
    number = await _returned(runtime)
    before = await _clocks(runtime, number)
    dispatcher = await principal(runtime, "dispatcher")
    body = b'{"accept": true, "proper": false, "unit": "320614-bureau"}'
    await lifecycle.perform(runtime, dispatcher, number, "decide-return", body, now=REFUSED)
    rows = await runtime.pool.fetch(
        "SELECT * FROM clocks WHERE id = any($1::bigint[])", [c["id"] for c in before.values()]
    )
    unit_clocks = {r["clock"]: r for r in rows if r["assignment_id"] is not None}
    for name in ("sign", "reply"):
        c = unit_clocks[name]
        assert (
            c["suspended_at"] is None and c["stopped_at"] == REFUSED and c["due_at"] == before[(name, False)]["due_at"]
        )
        assert c["deadline"].get("suspended_at") is None  # the pause undone: judged on the deadline it had
