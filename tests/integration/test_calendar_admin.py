"""The administrator's calendar view and the preview of a local exception (a typhoon day): which running deadlines
it would move, before anything is saved."""

from __future__ import annotations

from datetime import date, datetime, timedelta

PREVIEW = "/api/admin/calendar/exception-preview"


def _working_day_after(runtime, start: date, days: int) -> date:
    d = start
    while days:
        d += timedelta(days=1)
        days -= int(runtime.calendar.is_working_day(d))
    return d


async def test_the_calendar_lists_the_known_years_and_the_local_exceptions(api, runtime):
    r = await api.get("admin", "/api/admin/calendar")
    assert r.status_code == 200
    body = r.json()
    assert 2026 in body["known_years"] and 2004 in body["known_years"] and 2100 not in body["known_years"]
    assert body["version"] == runtime.calendar.version and body["time_zone"] == "Asia/Shanghai"
    assert body["office_hours"] == [list(p) for p in runtime.calendar.office_hours]
    assert (await api.get("manager", "/api/admin/calendar")).status_code == 403


async def test_a_typhoon_day_preview_lists_the_deadlines_it_would_push_back_and_saves_nothing(api, runtime):
    t = await api.create("agent", kind="help")  # reply due in 10 working days
    received = datetime.fromisoformat(t["received_at"]).astimezone(runtime.calendar.tz).date()
    typhoon = _working_day_after(runtime, received, 3)  # inside the reply clock of the ticket just logged
    version = runtime.calendar.version
    r = await api.post("admin", PREVIEW, json={"date": typhoon.isoformat(), "reason": "台风红色预警停工一天"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["would_move"] >= 1 and body["open_clocks"] >= body["would_move"] >= len(body["moved"]) >= 1
    for m in body["moved"]:
        assert datetime.fromisoformat(m["new_due_at"]) > datetime.fromisoformat(m["due_at"])  # a day off: later
        assert datetime.fromisoformat(m["due_at"]).astimezone(runtime.calendar.tz).date() >= typhoon
    assert runtime.calendar.version == version and runtime.calendar.is_working_day(typhoon)  # nothing saved
    # A declared working day on a day already off would pull deadlines earlier.
    sunday = typhoon + timedelta(days=(6 - typhoon.weekday()) or 7)
    while runtime.calendar.is_working_day(sunday):
        sunday += timedelta(days=7)
    r = await api.post("admin", PREVIEW, json={"date": sunday.isoformat(), "working": True, "reason": "补班"})
    assert r.status_code == 200
    assert all(datetime.fromisoformat(m["new_due_at"]) < datetime.fromisoformat(m["due_at"]) for m in r.json()["moved"])


async def test_a_preview_that_would_change_nothing_or_is_out_of_range_names_the_field(api):
    r = await api.post("admin", PREVIEW, json={"date": "2026-10-01", "reason": "国庆"})  # already a holiday
    assert r.status_code == 422 and "date" in r.json()["fields"]
    r = await api.post("admin", PREVIEW, json={"date": "2150-01-05", "reason": "x"})
    assert r.status_code == 422 and "date" in r.json()["fields"]
    r = await api.post("admin", PREVIEW, json={"date": "2026-12-10", "reason": ""})
    assert r.status_code == 422 and "reason" in str(r.json())
    r = await api.post("admin", PREVIEW, json={"date": "not-a-date", "reason": "x"})
    assert r.status_code == 422 and "date" in str(r.json())
    assert (await api.post("dispatcher", PREVIEW, json={"date": "2026-12-10", "reason": "x"})).status_code == 403
