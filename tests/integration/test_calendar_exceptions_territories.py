"""Local calendar exceptions per territory (属地): a typhoon day off in 启东市 (320681) moves the deadlines of 启东
tickets and not those of 崇川区 (320613) tickets, at intake, on recomputation, on an extension and on the callback;
the preview counts only the clocks in the exception's territories; one exception per day and territory, in the
database too; unknown territories refused naming the field."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from hotline.infra.runtime import Runtime

PREVIEW = "/api/admin/calendar/exception-preview"
SAVED = "/api/admin/calendar/exceptions"
QIDONG, CHONGCHUAN, RUGAO = "320681", "320613", "320682"


def _local(runtime: Any, iso: str) -> date:
    return datetime.fromisoformat(iso).astimezone(runtime.calendar.tz).date()


def _working_day_after(runtime: Any, start: date, days: int) -> date:
    d = start
    while days:
        d += timedelta(days=1)
        days -= int(runtime.calendar.is_working_day(d))
    return d


async def _ticket(api: Any, territory: str, **fields: Any) -> dict[str, Any]:
    # Road upkeep goes to the local bureau of the territory: handler-<territory>-bureau handles it.
    return await api.create("agent", category="road", territory=territory, title="路面坑洼", **fields)


async def _reply_due(api: Any, number: str) -> datetime:
    r = await api.get("admin", f"/api/tickets/{number}")
    assert r.status_code == 200, r.text
    return datetime.fromisoformat(r.json()["deadlines"]["reply"])


@pytest.fixture
async def saved(api: Any) -> AsyncIterator[list[int]]:
    """Ids of exceptions a test saves; whatever is still in force at its end is withdrawn."""
    ids: list[int] = []
    yield ids
    for exception_id in ids:
        await api.request("admin", "DELETE", f"{SAVED}/{exception_id}")


async def _save(api: Any, saved: list[int], body: dict[str, Any]) -> dict[str, Any]:
    r = await api.post("admin", SAVED, json=body)
    assert r.status_code == 201, r.text
    saved.append(r.json()["exception"]["id"])
    return r.json()


async def _sees(other: Runtime, territory: str, day: date, working: bool) -> bool:
    for _ in range(40):  # picked up within a second by the version check every process makes
        await other.current_policies()
        if other.calendar_for(territory).is_working_day(day) == working:
            return True
        await asyncio.sleep(0.1)
    return False


async def test_a_qidong_typhoon_day_moves_a_qidong_deadline_and_not_a_chongchuan_one(api, runtime, settings, saved):
    other = await Runtime.start(settings)  # another API process, running before the change
    try:
        await _qidong_typhoon_day(api, runtime, other, saved)
    finally:
        await other.close()


async def _qidong_typhoon_day(api: Any, runtime: Runtime, other: Runtime, saved: list[int]) -> None:
    qidong, chongchuan = await _ticket(api, QIDONG), await _ticket(api, CHONGCHUAN)
    typhoon = _working_day_after(runtime, _local(runtime, qidong["received_at"]), 3)
    q_due, c_due = await _reply_due(api, qidong["number"]), await _reply_due(api, chongchuan["number"])
    body = {"date": typhoon.isoformat(), "reason": "台风红色预警，启东市停工一天", "territories": [QIDONG]}

    preview = (await api.post("admin", PREVIEW, json=body)).json()
    in_qidong = await runtime.pool.fetchval(
        "SELECT count(*) FROM clocks c JOIN tickets t ON t.id = c.ticket_id "
        "WHERE c.stopped_at IS NULL AND t.territory = $1",
        QIDONG,
    )
    assert preview["territories"] == [QIDONG] and preview["open_clocks"] == in_qidong
    assert preview["would_move"] >= 1 and all(m["territory"] == QIDONG for m in preview["moved"])
    assert (qidong["number"], "reply") in {(m["number"], m["clock"]) for m in preview["moved"]}
    everywhere = (await api.post("admin", PREVIEW, json={**body, "territories": []})).json()
    assert everywhere["open_clocks"] > preview["open_clocks"] and everywhere["would_move"] > preview["would_move"]

    change = await _save(api, saved, body)
    # A recomputation also counts the clocks of which only a later step (supervision) moved.
    assert change["exception"]["territories"] == [QIDONG] and change["moved"] >= preview["would_move"]
    moved = await _reply_due(api, qidong["number"])
    assert _local(runtime, moved.isoformat()) == _working_day_after(runtime, _local(runtime, q_due.isoformat()), 1)
    assert moved.astimezone(runtime.calendar.tz).time() == q_due.astimezone(runtime.calendar.tz).time()
    assert await _reply_due(api, chongchuan["number"]) == c_due
    # The city's calendar is untouched; 启东's has the day off; a new 启东 ticket's deadline counts it.
    assert runtime.calendar.is_working_day(typhoon) and not runtime.calendar_for(QIDONG).is_working_day(typhoon)
    assert await _sees(other, QIDONG, typhoon, working=False) and other.calendar_for(CHONGCHUAN).is_working_day(typhoon)
    new_q, new_c = await _ticket(api, QIDONG), await _ticket(api, CHONGCHUAN)
    assert datetime.fromisoformat(new_q["deadlines"]["reply"]) > datetime.fromisoformat(new_c["deadlines"]["reply"])
    # The SLA preview takes the territory; without one it is the city's.
    at = new_c["received_at"]
    previews = {
        t: (await api.get("agent", "/api/sla/deadlines", params={"received_at": at, "kind": "complaint", **q})).json()
        for t, q in (("q", {"territory": QIDONG}), ("c", {"territory": CHONGCHUAN}), ("city", {}))
    }
    assert previews["q"]["reply"] == new_q["deadlines"]["reply"] != previews["c"]["reply"] == previews["city"]["reply"]
    # Listed with its territories, in the overview too (as saved, not as the file's).
    listed = [i for i in (await api.get("admin", SAVED)).json()["items"] if i["id"] == saved[0]]
    assert listed[0]["territories"] == [QIDONG] and listed[0]["withdrawn_at"] is None
    overview = (await api.get("admin", "/api/admin/calendar")).json()["exceptions"]
    assert [e for e in overview if e["date"] == typhoon.isoformat()] == [
        {
            "date": typhoon.isoformat(),
            "working": False,
            "reason": body["reason"],
            "territories": [QIDONG],
            "source": "saved",
        }
    ]

    r = await api.request("admin", "DELETE", f"{SAVED}/{saved[0]}")
    assert r.status_code == 200 and r.json()["exception"]["territories"] == [QIDONG]
    assert await _reply_due(api, qidong["number"]) == q_due and await _reply_due(api, chongchuan["number"]) == c_due
    assert runtime.calendar_for(QIDONG).is_working_day(typhoon) and await _sees(other, QIDONG, typhoon, working=True)
    events = (
        await api.get("admin", "/api/admin/events", params={"what": "calendar.exception", "subject": str(saved[0])})
    ).json()["items"]
    assert events[0]["after"]["territories"] == [QIDONG] and events[1]["after"]["territories"] == [QIDONG]


async def test_an_extension_and_a_callback_count_the_territorys_typhoon_day(api, runtime, saved):
    qidong, chongchuan = await _ticket(api, QIDONG), await _ticket(api, CHONGCHUAN)
    pairs = ((qidong, "handler-320681-bureau"), (chongchuan, "handler-320613-bureau"))
    for t, handler in pairs:
        await api.act(handler, t["number"], "sign")
    due = _local(runtime, qidong["deadlines"]["reply"])
    assert due == _local(runtime, chongchuan["deadlines"]["reply"])
    # A day off in 启东 right after the reply deadline (inside the extension), then one on the next working day
    # (the callback's).
    after_due = _working_day_after(runtime, due, 1)
    today = _local(runtime, datetime.now(runtime.calendar.tz).isoformat())
    next_day = _working_day_after(runtime, today, 1)
    await _save(api, saved, {"date": after_due.isoformat(), "reason": "台风停工", "territories": [QIDONG]})
    extended = {}
    for t, handler in pairs:
        await api.act(handler, t["number"], "request-extension", working_days=2, reason="需协调")
        extended[t["territory"]] = (await api.act("dispatcher", t["number"], "decide-extension", approve=True))[
            "deadlines"
        ]["reply"]
    q_ext, c_ext = _local(runtime, extended[QIDONG]), _local(runtime, extended[CHONGCHUAN])
    assert c_ext == _working_day_after(runtime, due, 2)
    assert q_ext == _working_day_after(runtime, c_ext, 1)  # the typhoon day in between does not count in 启东
    await _save(api, saved, {"date": next_day.isoformat(), "reason": "台风停工", "territories": [QIDONG]})
    callbacks = {}
    for t, handler in pairs:
        replied = await api.act(handler, t["number"], "reply", content="已修复", outcome="resolved")
        callbacks[t["territory"]] = _local(runtime, replied["deadlines"]["callback"])
    assert callbacks[CHONGCHUAN] == next_day
    assert callbacks[QIDONG] == _working_day_after(runtime, next_day, 1)


async def test_one_exception_per_day_and_territory_a_city_wide_one_covering_all(api, runtime, saved):
    day = _working_day_after(runtime, _local(runtime, datetime.now(runtime.calendar.tz).isoformat()), 30)
    await _save(api, saved, {"date": day.isoformat(), "reason": "台风", "territories": [QIDONG]})
    # Another territory the same day is fine; the same territory again, or the whole city, is refused.
    await _save(api, saved, {"date": day.isoformat(), "reason": "台风", "territories": [RUGAO, "320623"]})
    for territories in ([QIDONG], [CHONGCHUAN, QIDONG], []):
        r = await api.post("admin", SAVED, json={"date": day.isoformat(), "reason": "重复", "territories": territories})
        assert r.status_code == 422 and "date" in r.json()["fields"], (territories, r.text)
        r = await api.post(
            "admin", PREVIEW, json={"date": day.isoformat(), "reason": "重复", "territories": territories}
        )
        assert r.status_code == 422 and "date" in r.json()["fields"]
    # The database says so too, whatever writes to it.
    admin_id = await runtime.pool.fetchval("SELECT id FROM users WHERE username = 'admin'")
    insert = (
        "INSERT INTO calendar_exceptions (day, working, reason, created_by, territories) "
        "VALUES ($1, false, 'x', $2, $3)"
    )
    for territories in ([QIDONG], []):
        with pytest.raises(asyncpg.UniqueViolationError):
            await runtime.pool.execute(insert, day, admin_id, territories)
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        await runtime.pool.execute(insert, day + timedelta(days=1), admin_id, ["999999"])
    with pytest.raises(asyncpg.CheckViolationError):
        await runtime.pool.execute(insert, day + timedelta(days=1), admin_id, [RUGAO, QIDONG])
    # A city-wide day blocks every territory that day.
    other = _working_day_after(runtime, day, 1)
    await _save(api, saved, {"date": other.isoformat(), "reason": "全市停工"})
    r = await api.post("admin", SAVED, json={"date": other.isoformat(), "reason": "台风", "territories": [QIDONG]})
    assert r.status_code == 422 and "date" in r.json()["fields"]
    listed = {i["id"]: i for i in (await api.get("admin", SAVED)).json()["items"]}
    assert [listed[i]["territories"] for i in saved] == [[QIDONG], ["320623", RUGAO], []]


async def test_unknown_or_malformed_territories_are_refused_naming_the_field(api):
    for path in (PREVIEW, SAVED):
        for territories in (["999999"], [QIDONG, "xx"], "320681", [320681], ["3" * 13]):
            r = await api.post("admin", path, json={"date": "2026-12-10", "reason": "台风", "territories": territories})
            assert r.status_code == 422, (territories, r.text)
            assert "territories" in str(r.json()), (territories, r.json())
    items = (await api.get("admin", SAVED)).json()["items"]
    assert not [i for i in items if i["date"] == "2026-12-10" and i["withdrawn_at"] is None]


async def test_the_sla_preview_refuses_an_unknown_territory_naming_it(api):
    r = await api.get("agent", "/api/sla/deadlines", params={"territory": "999999"})
    assert r.status_code == 422 and "territory" in r.json()["fields"]
