"""The dispatch stage (issue 23, item 1): a ticket waiting for a dispatcher carries a `dispatch` clock in its JSON
`clocks` (with `due_at`), urgent or not, from the policy data; dispatching, closing, rejecting or merging stops it;
a dispatcher corrects the territory and category of a waiting ticket, recorded with before and after, and the
router's suggestion is computed again."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tests.conftest import create_at, principal

CN = ZoneInfo("Asia/Shanghai")
# A Monday in 2026 that is a working day: 09:00 plus 2 working hours is 11:00 the same morning.
MONDAY_9 = datetime(2026, 12, 7, 9, 0, tzinfo=CN)


async def _waiting(runtime, *, urgent: bool, when: datetime = MONDAY_9, **fields) -> str:
    agent = await principal(runtime, "agent")
    return await create_at(runtime, agent, when, territory=None, urgent=urgent, **fields)


async def test_a_waiting_ticket_carries_a_dispatch_clock_of_two_working_hours(api, runtime):
    number = await _waiting(runtime, urgent=False)
    r = await api.get("dispatcher", f"/api/tickets/{number}")
    assert r.status_code == 200, r.text
    t = r.json()
    assert t["status"] == "pending_dispatch" and t["unit"] is None
    clock = t["clocks"]["dispatch"]
    assert datetime.fromisoformat(clock["due_at"]) == datetime(2026, 12, 7, 11, 0, tzinfo=CN)
    assert clock["running"] and clock["basis"] == "working"
    assert datetime.fromisoformat(clock["warning_at"]) == datetime(2026, 12, 7, 10, 30, tzinfo=CN)  # 75 %
    assert set(t["clocks"]) == {"dispatch"}
    # The ticket's own wait: no assignment holds it.
    assert t["assignments"] == [] and [c["clock"] for c in t["dispatch_clocks"]] == ["dispatch"]


async def test_an_urgent_waiting_ticket_gets_fifteen_natural_minutes(api, runtime):
    saturday_night = datetime(2026, 12, 5, 23, 50, tzinfo=CN)  # natural time: weekends and nights count
    number = await _waiting(runtime, urgent=True, when=saturday_night)
    t = (await api.get("dispatcher", f"/api/tickets/{number}")).json()
    clock = t["clocks"]["dispatch"]
    assert datetime.fromisoformat(clock["due_at"]) == saturday_night + timedelta(minutes=15)
    assert clock["basis"] == "natural"


async def test_a_routed_ticket_has_no_dispatch_clock(api):
    t = await api.create("agent")
    detail = (await api.get("dispatcher", f"/api/tickets/{t['number']}")).json()
    assert set(detail["clocks"]) == {"sign", "reply"} and detail["dispatch_clocks"] == []


async def test_dispatching_stops_the_dispatch_clock_and_starts_the_units(api, runtime):
    number = await _waiting(runtime, urgent=False)
    await api.act("dispatcher", number, "dispatch", unit="320612-bureau")
    t = (await api.get("dispatcher", f"/api/tickets/{number}")).json()
    assert set(t["clocks"]) == {"sign", "reply"}
    [waited] = t["dispatch_clocks"]
    assert not waited["running"] and waited["stopped_at"] is not None


async def test_closing_rejecting_or_merging_a_waiting_ticket_stops_its_dispatch_clock(api, runtime):
    target = await api.create("agent")
    for action, body in (
        ("close", {"answer": "已电话解答"}),
        ("reject", {"reason": "非交通运输领域"}),
        ("merge", {"into": target["number"]}),
    ):
        number = await _waiting(runtime, urgent=False)
        who = "dispatcher" if action != "close" else "agent"
        await api.act(who, number, action, **body)
        row = await runtime.pool.fetchrow(
            "SELECT c.stopped_at, c.stop_reason FROM clocks c JOIN tickets t ON t.id = c.ticket_id "
            "WHERE t.number = $1 AND c.clock = 'dispatch'",
            number,
        )
        assert row["stopped_at"] is not None, action
        t = (await api.get("dispatcher", f"/api/tickets/{number}")).json()
        assert "dispatch" not in t["clocks"], action


async def test_a_dispatcher_corrects_the_territory_and_the_suggestion_is_recomputed(api, runtime):
    number = await _waiting(runtime, urgent=True, kind="complaint")
    before = (await api.get("dispatcher", f"/api/tickets/{number}")).json()
    assert before["routing"]["unit"] is None
    t = await api.act("dispatcher", number, "reclassify", territory="320612", expected_version=before["version"])
    assert t["status"] == "pending_dispatch" and t["territory"] == "320612" and t["category"] == "taxi"
    assert t["routing"]["unit"] == "320612-bureau" and t["unit"] is None  # a suggestion: the dispatcher dispatches
    detail = (await api.get("dispatcher", f"/api/tickets/{number}")).json()
    [event] = [e for e in detail["events"] if e["action"] == "reclassify"]
    assert event["before"] == {"territory": None, "category": "taxi"}
    assert event["after"] == {"territory": "320612", "category": "taxi"}
    assert event["routing"]["unit"] == "320612-bureau" and event["role"] == "dispatcher"
    assert "dispatch" in detail["clocks"]  # still waiting, on the same clock
    # Then the category: the suggestion follows it.
    t = await api.act("dispatcher", number, "reclassify", category="highway")
    assert t["routing"]["unit"] == "city-highway"


async def test_a_bad_correction_is_a_problem_naming_the_field(api, runtime):
    number = await _waiting(runtime, urgent=False)
    path = f"/api/tickets/{number}/reclassify"
    for body, field in (
        ({"territory": "999999"}, "territory"),
        ({"category": "rockets"}, "category"),
        ({"territory": "32061"}, "territory"),  # not six digits: refused by the body's type
        ({}, "territory"),  # nothing to correct
        ({"category": "taxi"}, "category"),  # no change
    ):
        r = await api.post("dispatcher", path, json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert field in r.json()["fields"], (body, r.json())
    events = await runtime.pool.fetchval(
        "SELECT count(*) FROM events e JOIN tickets t ON t.id = e.ticket_id WHERE t.number = $1 AND e.action = $2",
        number,
        "reclassify",
    )
    assert events == 0  # nothing half-written
    assert (await api.post("handler-320612-bureau", path, json={"territory": "320612"})).status_code == 403
    routed = await api.create("agent")
    r = await api.post("dispatcher", f"/api/tickets/{routed['number']}/reclassify", json={"territory": "320614"})
    assert r.status_code == 409 and "reclassify" not in r.json()["allowed_actions"]


async def test_an_overdue_wait_is_in_the_pending_list_and_the_risk_list(runtime):
    from hotline.web.console import queries as console

    tuesday = datetime(2026, 12, 1, 9, 0, tzinfo=CN)  # due 11:00 that morning, supervision two working days later
    number = await _waiting(runtime, urgent=False, when=tuesday)
    now = datetime(2026, 12, 4, 9, 0, tzinfo=CN)
    [item] = [i for i in await console.pending_dispatch(runtime, now) if i["number"] == number]
    assert item["clock_view"].clock == "dispatch" and item["clock_view"].step == "supervision"
    assert item["clock_view"].past_due and item["age"] == (now - tuesday).total_seconds()
    [risk] = [i for i in await console.at_risk(runtime, now) if i["number"] == number]
    assert risk["clock"] == "dispatch" and risk["unit"] is None
    # Not on the manager's late tiles or 督办清单: their one definition (hotline/escalation/overdue.py) counts units'
    # sign and reply deadlines; a wait for dispatch is the dispatcher's, shown in these two lists.
    await api_dispatch(runtime, number, now)
    assert number not in {i["number"] for i in await console.at_risk(runtime, now)}


async def api_dispatch(runtime, number: str, now: datetime) -> None:
    from hotline.tickets import lifecycle

    dispatcher = await principal(runtime, "dispatcher")
    await lifecycle.perform(runtime, dispatcher, number, "dispatch", b'{"unit": "320612-bureau"}', now=now)


async def test_a_corrected_territory_counts_the_wait_on_its_own_calendar(api, runtime):
    """启东市 (320681) takes Monday 14 December off (a local exception): a wait received there at 09:00 with no
    territory was due at 11:00; corrected to 启东市, it is counted on 启东's calendar, from Tuesday 08:30."""
    from hotline.tickets import lifecycle

    monday = datetime(2026, 12, 14, 9, 0, tzinfo=CN)
    r = await api.post(
        "admin",
        "/api/admin/calendar/exceptions",
        json={"date": "2026-12-14", "working": False, "reason": "台风停工", "territories": ["320681"]},
    )
    assert r.status_code == 201, r.text
    try:
        number = await _waiting(runtime, urgent=False, when=monday)
        t = (await api.get("dispatcher", f"/api/tickets/{number}")).json()
        assert datetime.fromisoformat(t["clocks"]["dispatch"]["due_at"]) == datetime(2026, 12, 14, 11, 0, tzinfo=CN)
        dispatcher = await principal(runtime, "dispatcher")
        body = b'{"territory": "320681"}'
        await lifecycle.perform(runtime, dispatcher, number, "reclassify", body, now=monday.replace(minute=30))
        t = (await api.get("dispatcher", f"/api/tickets/{number}")).json()
        clock = t["clocks"]["dispatch"]
        assert datetime.fromisoformat(clock["due_at"]) == datetime(2026, 12, 15, 10, 30, tzinfo=CN)
        assert clock["version"] == 2 and clock["started_at"] == t["received_at"]
    finally:
        await api.request("admin", "DELETE", f"/api/admin/calendar/exceptions/{r.json()['exception']['id']}")
