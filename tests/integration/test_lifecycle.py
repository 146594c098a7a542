"""The handling lifecycle through the API as the real roles: every path of DESIGN.md, its deadlines and events."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest

from tests.conftest import create_at, principal

H = "handler-320612-bureau"  # taxi complaints in 通州区 go to the local bureau
OTHER = "handler-320614-bureau"


async def _detail(api, number, user="dispatcher"):
    r = await api.get(user, f"/api/tickets/{number}")
    assert r.status_code == 200, r.text
    return r.json()


async def test_main_path_sign_reply_callback_satisfied(api):
    t = await api.create("agent")
    n = t["number"]
    d = await _detail(api, n)
    assert set(d["clocks"]) == {"sign", "reply"}
    assert d["clocks"]["reply"]["due_at"] == t["deadlines"]["reply"]
    assert d["clocks"]["reply"]["explanation"] and d["clocks"]["sign"]["remaining_seconds"] > 0
    assert d["clocks"]["sign"]["step"] is None
    t = await api.act(H, n, "sign", expected_version=t["version"])
    assert t["status"] == "in_progress" and t["version"] == 2
    t = await api.act(H, n, "note", text="已联系驾驶员核实")
    assert t["status"] == "in_progress"
    t = await api.act(H, n, "reply", content="经查属实，已对驾驶员作出处理。", outcome="resolved")
    assert t["status"] == "replied" and t["reply"]["outcome"] == "resolved"
    assert t["deadlines"]["callback"] is not None
    t = await api.act("agent", n, "callback", contacted=True, resolved="resolved", satisfaction="satisfied")
    assert t["status"] == "closed" and t["closure"] == "callback_done"
    d = await _detail(api, n)
    assert [e["action"] for e in d["events"]] == ["create", "route", "sign", "note", "reply", "callback"]
    assert [e["status_after"] for e in d["events"]][-4:] == ["in_progress", "in_progress", "replied", "closed"]
    assert d["events"][2]["actor"] and d["events"][2]["role"] == "handler" and d["events"][2]["unit"] == "320612-bureau"
    assert all(not c["running"] for a in d["assignments"] for c in a["clocks"])


async def test_dissatisfied_callback_reopens_at_the_same_unit(api):
    t = await api.create("agent")
    n = t["number"]
    await api.act(H, n, "sign")
    await api.act(H, n, "reply", content="已处理", outcome="explained")
    t = await api.act(
        "agent",
        n,
        "callback",
        contacted=True,
        resolved="unresolved",
        satisfaction="dissatisfied",
        note="市民不认可答复",
    )
    assert t["status"] == "in_progress" and t["unit"] == "320612-bureau" and t["reopen_count"] == 1
    d = await _detail(api, n)
    assert [a["origin"] for a in d["assignments"]] == ["route", "reopen"]
    assert d["assignments"][1]["signed_at"] is not None
    assert set(d["clocks"]) == {"reply"} and d["clocks"]["reply"]["running"]
    assert datetime.fromisoformat(d["clocks"]["reply"]["started_at"]) > datetime.fromisoformat(
        d["assignments"][0]["started_at"]
    )
    # The handler can reply again.
    t = await api.act(H, n, "reply", content="重新处理完毕", outcome="resolved")
    assert t["status"] == "replied"


async def test_unanswered_callbacks_close_after_three_attempts(api):
    t = await api.create("agent")
    n = t["number"]
    await api.act(H, n, "sign")
    await api.act(H, n, "reply", content="已处理", outcome="resolved")
    for attempt in (1, 2):
        t = await api.act("agent", n, "callback", contacted=False, satisfaction="no_answer")
        assert t["status"] == "replied", attempt
    t = await api.act("agent", n, "callback", contacted=False, satisfaction="no_answer")
    assert t["status"] == "closed" and t["closure"] == "callback_done"


async def test_pending_ticket_dispatched_by_hand(api):
    t = await api.create("agent", category=None)
    assert t["status"] == "pending_dispatch"
    t = await api.act("dispatcher", t["number"], "dispatch", unit="320612-bureau", note="人工派单")
    assert t["status"] == "dispatched" and t["unit"] == "320612-bureau" and t["deadlines"]["sign"]
    d = await _detail(api, t["number"])
    assert d["assignments"][0]["origin"] == "dispatch"


async def test_redispatch_before_sign(api):
    t = await api.create("agent")
    t = await api.act("dispatcher", t["number"], "dispatch", unit="320614-bureau")
    assert t["unit"] == "320614-bureau"
    d = await _detail(api, t["number"])
    assert [(a["unit"], a["end_reason"]) for a in d["assignments"]] == [
        ("320612-bureau", "withdrawn"),
        ("320614-bureau", None),
    ]
    await api.act(H, t["number"], "sign", expect=404)  # no longer theirs to act on
    await api.act(OTHER, t["number"], "sign")


async def test_return_accepted_as_proper_is_not_charged(api):
    t = await api.create("agent")
    n = t["number"]
    t = await api.act(H, n, "return", reason="该路段属海门区管辖")
    assert t["status"] == "return_requested"
    t = await api.act("dispatcher", n, "decide-return", accept=True, unit="320614-bureau", proper=True)
    assert t["status"] == "dispatched" and t["unit"] == "320614-bureau"
    d = await _detail(api, n)
    first, second = d["assignments"]
    assert first["end_reason"] == "returned" and first["return_proper"] is True and first["charged"] is False
    assert second["origin"] == "redispatch" and second["current"]


async def test_return_refused_goes_back_to_the_unit(api):
    t = await api.create("agent")
    n = t["number"]
    await api.act(H, n, "sign")
    await api.act(H, n, "return", reason="不属于本单位")
    t = await api.act("dispatcher", n, "decide-return", accept=False, proper=False, note="属地管理，请继续办理")
    assert t["status"] == "in_progress" and t["unit"] == "320612-bureau"
    d = await _detail(api, n)
    assert len(d["assignments"]) == 1 and d["assignments"][0]["charged"] is True
    r = await api.post("dispatcher", f"/api/tickets/{n}/decide-return", json={"accept": True, "proper": False})
    assert r.status_code == 409


async def test_extension_request_and_decisions(api):
    t = await api.create("agent")
    n = t["number"]
    await api.act(H, n, "sign")
    before = t["deadlines"]["reply"]
    await api.act(H, n, "request-extension", working_days=5, reason="需协调公安部门调取监控")
    r = await api.post(H, f"/api/tickets/{n}/request-extension", json={"working_days": 2, "reason": "再次申请"})
    assert r.status_code == 409  # one pending request at a time
    t = await api.act("dispatcher", n, "decide-extension", approve=True, note="同意")
    assert t["status"] == "in_progress"
    assert datetime.fromisoformat(t["deadlines"]["reply"]) > datetime.fromisoformat(before)
    d = await _detail(api, n)
    assert d["clocks"]["reply"]["version"] == 2
    await api.act(H, n, "request-extension", working_days=1, reason="再延一天")
    t2 = await api.act("manager", n, "decide-extension", approve=False, note="不同意")
    assert t2["deadlines"]["reply"] == t["deadlines"]["reply"]
    await api.act("dispatcher", n, "decide-extension", expect=409, approve=True)


async def test_extension_across_national_day_worked_by_hand(runtime):
    """A consultation received Mon 2026-09-28 09:00 is due in 2 working days: Tue 29 (1), Wed 30 (2) ->
    2026-09-30 17:30. Extended by 3 working days: Oct 1-7 are the National Day holidays, so Thu Oct 8 (1),
    Fri Oct 9 (2), and Sat Oct 10, a make-up working day (调休) (3) -> 2026-10-10 17:30 +08:00."""
    from hotline.tickets import lifecycle

    tz = timezone(timedelta(hours=8))
    agent, handler = await principal(runtime, "agent"), await principal(runtime, H)
    dispatcher = await principal(runtime, "dispatcher")
    received = datetime(2026, 9, 28, 9, 0, tzinfo=tz)
    number = await create_at(
        runtime, agent, received, kind="consultation", title="咨询", content="国庆期间出租车运价咨询"
    )
    t = await lifecycle.perform(runtime, handler, number, "sign", b"{}", now=received + timedelta(hours=1))
    assert datetime.fromisoformat(t["deadlines"]["reply"]) == datetime(2026, 9, 30, 17, 30, tzinfo=tz)
    await lifecycle.perform(
        runtime,
        handler,
        number,
        "request-extension",
        b'{"working_days": 3, "reason": "\xe9\x9c\x80\xe8\xa6\x81\xe6\x9b\xb4\xe5\xa4\x9a\xe6\x97\xb6\xe9\x97\xb4"}',
        now=received + timedelta(hours=2),
    )
    t = await lifecycle.perform(
        runtime, dispatcher, number, "decide-extension", b'{"approve": true}', now=received + timedelta(hours=3)
    )
    assert datetime.fromisoformat(t["deadlines"]["reply"]) == datetime(2026, 10, 10, 17, 30, tzinfo=tz)


async def test_close_reject_merge_and_urge(api):
    c = await api.create("agent", kind="consultation", category="bus", territory="320613")
    t = await api.act("agent", c["number"], "close", answer="已电话答复公交线路时刻")
    assert t["closure"] == "answered" and t["status"] == "closed"
    d = await _detail(api, c["number"])
    assert d["assignments"][0]["end_reason"] == "withdrawn" and d["assignments"][0]["charged"] is False

    r = await api.create("agent")
    t = await api.act("dispatcher", r["number"], "reject", reason="不属于交通运输部门职责")
    assert t["closure"] == "rejected"

    keep = await api.create("agent")
    dup = await api.create("agent")
    t = await api.act("agent", dup["number"], "merge", into=keep["number"])
    assert t["closure"] == "merged" and t["merged_into"] == keep["number"]
    await api.act("agent", keep["number"], "merge", expect=422, into=keep["number"])
    await api.act("agent", keep["number"], "merge", expect=409, into=dup["number"])  # closed target
    kd = await _detail(api, keep["number"])
    assert kd["events"][-1]["action"] == "merged_from"

    t = await api.act("manager", keep["number"], "urge", note="请尽快办理")
    assert t["status"] == "dispatched"
    assert (await _detail(api, keep["number"]))["events"][-1]["action"] == "urge"


async def test_disallowed_transitions_get_409_with_allowed_actions(api):
    pending = await api.create("agent", category=None)
    t = await api.create("agent")
    n = t["number"]
    r = await api.post(H, f"/api/tickets/{n}/reply", json={"content": "x", "outcome": "resolved"})
    assert r.status_code == 409 and r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == 409 and "sign" in body["allowed_actions"] and "reply" not in body["allowed_actions"]
    urged = await api.act("dispatcher", pending["number"], "urge", note="请尽快人工派单")  # 催办: any open state
    assert urged["status"] == "pending_dispatch"
    await api.act("agent", n, "callback", expect=409, contacted=True, resolved="resolved", satisfaction="satisfied")
    await api.act("dispatcher", n, "decide-return", expect=409, accept=False)
    await api.act("dispatcher", n, "decide-extension", expect=409, approve=True)
    await api.act(H, n, "sign")
    await api.act("agent", n, "close", expect=409, answer="太晚了")  # signed: no longer answerable at once
    await api.act(H, n, "sign", expect=409)
    await api.act(H, n, "reply", content="好", outcome="resolved")
    await api.act("agent", n, "callback", contacted=True, resolved="resolved", satisfaction="satisfied")
    for action, body in (
        ("sign", {}),
        ("note", {"text": "x"}),
        ("urge", {"note": "x"}),
        ("reject", {"reason": "x"}),
        ("dispatch", {"unit": "city-taxi"}),
    ):
        r = await api.post("admin", f"/api/tickets/{n}/{action}", json=body)
        assert r.status_code in (403, 409), (action, r.text)
    r = await api.post("dispatcher", f"/api/tickets/{n}/dispatch", json={"unit": "city-taxi"})
    assert r.status_code == 409 and r.json()["allowed_actions"] == []


async def test_stale_expected_version(api):
    t = await api.create("agent")
    r = await api.post(H, f"/api/tickets/{t['number']}/sign", json={"expected_version": t["version"] + 5})
    assert r.status_code == 409 and r.json()["version"] == t["version"] and "sign" in r.json()["allowed_actions"]


async def test_wrong_roles_and_bad_bodies(api):
    t = await api.create("agent")
    n = t["number"]
    assert (await api.post("agent", f"/api/tickets/{n}/sign", json={})).status_code == 403
    assert (await api.post(H, f"/api/tickets/{n}/urge", json={"note": "x"})).status_code == 403
    assert (await api.post("integration-12345", f"/api/tickets/{n}/sign", json={})).status_code == 403
    r = await api.post("dispatcher", f"/api/tickets/{n}/dispatch", json={"unit": "nowhere"})
    assert r.status_code == 422 and "unit" in r.json()["fields"]
    r = await api.post("dispatcher", f"/api/tickets/{n}/dispatch", json={})
    assert r.status_code == 422 and "unit" in r.json()["fields"]
    r = await api.post(H, f"/api/tickets/{n}/fly", json={})
    assert r.status_code == 404
    await api.act(H, n, "sign")
    r = await api.post(H, f"/api/tickets/{n}/reply", json={"content": "x", "outcome": "maybe"})
    assert r.status_code == 422 and "outcome" in r.json()["fields"]
    r = await api.post(H, f"/api/tickets/{n}/request-extension", json={"reason": "x"})
    assert r.status_code == 422
    r = await api.post(
        H, f"/api/tickets/{n}/request-extension", content=b"[", headers={"content-type": "application/json"}
    )
    assert r.status_code == 422


async def test_handler_of_another_unit_is_refused_everywhere(api):
    t = await api.create("agent")
    n = t["number"]
    for action, body in (
        ("sign", {}),
        ("return", {"reason": "x"}),
        ("note", {"text": "x"}),
        ("request-extension", {"working_days": 1, "reason": "x"}),
        ("reply", {"content": "x", "outcome": "resolved"}),
    ):
        r = await api.post(OTHER, f"/api/tickets/{n}/{action}", json=body)
        assert r.status_code == 404, (action, r.text)
    assert (await api.get(OTHER, f"/api/tickets/{n}")).status_code == 404


async def test_concurrent_signs_exactly_one_wins(api):
    t = await api.create("agent")
    await api.token(H)
    results = await asyncio.gather(*[api.post(H, f"/api/tickets/{t['number']}/sign", json={}) for _ in range(5)])
    assert sorted(r.status_code for r in results) == [200, 409, 409, 409, 409]
    d = await _detail(api, t["number"])
    assert [e["action"] for e in d["events"]].count("sign") == 1


async def test_failed_action_leaves_nothing(api, runtime):
    t = await api.create("agent")
    before = await runtime.pool.fetchval(
        "SELECT count(*) FROM events e JOIN tickets t ON t.id = e.ticket_id WHERE t.number = $1", t["number"]
    )
    await api.act("agent", t["number"], "merge", expect=422, into="96196-19990101-000001")
    after = await runtime.pool.fetchval(
        "SELECT count(*) FROM events e JOIN tickets t ON t.id = e.ticket_id WHERE t.number = $1", t["number"]
    )
    assert before == after
    assert (await _detail(api, t["number"]))["version"] == t["version"]


async def test_suspension_pauses_the_reply_clock_and_resume_restores_the_time_left(runtime):
    """A complaint signed Mon 2026-11-02 09:00 +08 is due in 15 working days from its receipt at 09:00.
    Suspended at Tue 2026-11-03 10:00 with T working seconds left and resumed Mon 2026-11-09 10:00, the new due is
    the resume instant plus T working seconds: the pause (4 working days) is added back, exactly."""
    import sla
    from hotline.tickets import lifecycle

    tz = timezone(timedelta(hours=8))
    agent, handler = await principal(runtime, "agent"), await principal(runtime, H)
    dispatcher = await principal(runtime, "dispatcher")
    received = datetime(2026, 11, 2, 9, 0, tzinfo=tz)
    number = await create_at(runtime, agent, received, content="绕路")
    t = await lifecycle.perform(runtime, handler, number, "sign", b"{}", now=received + timedelta(minutes=5))
    due = datetime.fromisoformat(t["deadlines"]["reply"])
    paused_at, resumed_at = datetime(2026, 11, 3, 10, 0, tzinfo=tz), datetime(2026, 11, 9, 10, 0, tzinfo=tz)
    left = sla.working_seconds_between(runtime.calendar, paused_at, due)
    t = await lifecycle.perform(
        runtime, dispatcher, number, "suspend", '{"reason": "等待公安部门调查结论"}'.encode(), now=paused_at
    )
    assert t["suspended"] is True
    clock = await runtime.pool.fetchrow(
        "SELECT c.next_step, c.suspended_at FROM clocks c JOIN tickets t ON t.id = c.ticket_id "
        "WHERE t.number = $1 AND c.clock = 'reply' AND c.stopped_at IS NULL",
        number,
    )
    assert clock["next_step"] is None and clock["suspended_at"] is not None  # nothing escalates while paused
    t = await lifecycle.perform(
        runtime, dispatcher, number, "resume", '{"text": "已收到调查结论"}'.encode(), now=resumed_at
    )
    new_due = datetime.fromisoformat(t["deadlines"]["reply"])
    assert t["suspended"] is False
    assert sla.working_seconds_between(runtime.calendar, resumed_at, new_due) == pytest.approx(left)
    assert new_due > due
    with pytest.raises(Exception, match="not suspended"):
        await lifecycle.perform(runtime, dispatcher, number, "resume", b'{"text": "again"}', now=resumed_at)
