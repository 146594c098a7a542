"""Saving a local calendar exception (a typhoon day) from the admin API: it moves the running deadlines the preview
said it would move, every process puts it in force, withdrawing it moves them back; admin only, bad input named."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import date, datetime, timedelta

from hotline.infra.runtime import Runtime
from tests.integration import test_contract_admin_auth_public as contract

PREVIEW = "/api/admin/calendar/exception-preview"
SAVED = "/api/admin/calendar/exceptions"
SECOND_PROCESS = """
import asyncio, sys
from datetime import date
from config.settings import get_settings
from hotline.infra.runtime import Runtime
from tests.integration import test_contract_admin_auth_public as contract

async def main():
    rt = await Runtime.start(get_settings())
    try:
        print(rt.calendar.is_working_day(date.fromisoformat(sys.argv[1])), rt.calendar.version)
    finally:
        await rt.close()

asyncio.run(main())
"""


def _working_day_after(runtime, start: date, days: int) -> date:
    d = start
    while days:
        d += timedelta(days=1)
        days -= int(runtime.calendar.is_working_day(d))
    return d


def _second_process(settings, day: date) -> tuple[bool, str]:
    env = {**os.environ, "HOTLINE_DATABASE_URL": settings.database_url, "HOTLINE_REDIS_URL": settings.redis_url}
    done = subprocess.run(
        [sys.executable, "-c", SECOND_PROCESS, day.isoformat()], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    working, version = done.stdout.split()
    return working == "True", version


async def _deadline(api, number: str, clock: str) -> datetime:
    r = await api.get("admin", f"/api/tickets/{number}")
    assert r.status_code == 200, r.text
    return datetime.fromisoformat(r.json()["deadlines"][clock])


async def _sees(other: Runtime, day: date, working: bool) -> bool:
    for _ in range(40):  # picked up within a second by the version check every process makes
        await other.current_policies()
        if other.calendar.is_working_day(day) == working:
            return True
        await asyncio.sleep(0.1)
    return False


async def test_a_saved_typhoon_day_moves_the_deadlines_the_preview_named_everywhere_and_withdrawing_restores_them(
    api, runtime, settings
):
    t = await api.create("agent", kind="help")  # reply due in 10 working days
    received = datetime.fromisoformat(t["received_at"]).astimezone(runtime.calendar.tz).date()
    typhoon = _working_day_after(runtime, received, 3)
    other = await Runtime.start(settings)  # another API process, running before the change
    try:
        version = runtime.calendar.version
        own_due = await _deadline(api, t["number"], "reply")
        body = {"date": typhoon.isoformat(), "reason": "台风红色预警，全市停工一天"}
        preview = (await api.post("admin", PREVIEW, json=body)).json()
        assert preview["would_move"] >= 1, preview
        named = preview["moved"][0]
        r = await api.post("admin", SAVED, json=body)
        assert r.status_code == 201, r.text
        saved = r.json()
        exception = saved["exception"]
        assert (exception["date"], exception["working"], exception["reason"]) == (
            typhoon.isoformat(),
            False,
            body["reason"],
        )
        assert exception["created_by"] == "admin" and exception["withdrawn_at"] is None
        assert saved["moved"] >= 1 and saved["recompute_more"] is False
        assert saved["calendar_version"] != version == other.calendar.version
        # The deadline the preview named is now the one it announced; the new ticket's reply moved a day later.
        assert await _deadline(api, named["number"], named["clock"]) == datetime.fromisoformat(named["new_due_at"])
        assert await _deadline(api, t["number"], "reply") > own_due
        assert not runtime.calendar.is_working_day(typhoon)
        assert await _sees(other, typhoon, working=False)
        assert _second_process(settings, typhoon) == (False, saved["calendar_version"])
        overview = (await api.get("admin", "/api/admin/calendar")).json()
        entry = {"date": typhoon.isoformat(), "working": False, "reason": body["reason"]}
        assert {**entry, "territories": [], "source": "saved"} in overview["exceptions"]
        listed = (await api.get("admin", SAVED)).json()["items"]
        assert listed[0]["id"] == exception["id"] and listed[0]["withdrawn_at"] is None
        # Saving the same day again is refused, naming the date.
        again = await api.post("admin", SAVED, json=body)
        assert again.status_code == 422 and "date" in again.json()["fields"]

        r = await api.request("admin", "DELETE", f"{SAVED}/{exception['id']}")
        assert r.status_code == 200, r.text
        withdrawn = r.json()
        assert withdrawn["exception"]["withdrawn_by"] == "admin" and withdrawn["calendar_version"] == version
        assert await _deadline(api, named["number"], named["clock"]) == datetime.fromisoformat(named["due_at"])
        assert await _deadline(api, t["number"], "reply") == own_due
        assert runtime.calendar.is_working_day(typhoon) and await _sees(other, typhoon, working=True)
        assert (await api.request("admin", "DELETE", f"{SAVED}/{exception['id']}")).status_code == 404
        overview = (await api.get("admin", "/api/admin/calendar")).json()
        assert all(e["date"] != typhoon.isoformat() for e in overview["exceptions"])
        events = (
            await api.get(
                "admin", "/api/admin/events", params={"what": "calendar.exception", "subject": str(exception["id"])}
            )
        ).json()
        assert [(e["what"], e["actor"]) for e in events["items"]] == [("calendar.exception", "admin")] * 2
        assert events["items"][0]["before"]["withdrawn"] is False and events["items"][0]["after"]["withdrawn"] is True
        assert events["items"][1]["before"] is None and events["items"][1]["after"]["date"] == typhoon.isoformat()
    finally:
        await other.close()


async def test_saving_and_withdrawing_exceptions_is_for_administrators_only(api):
    body = {"date": "2026-12-10", "reason": "台风"}
    assert (await api.post("manager", SAVED, json=body)).status_code == 403
    assert (await api.get("manager", SAVED)).status_code == 403
    assert (await api.request("manager", "DELETE", f"{SAVED}/1")).status_code == 403
    assert (await api.post("dispatcher", SAVED, json=body)).status_code == 403


async def test_a_bad_exception_is_refused_naming_the_field(api):
    for body, field in [
        ({"date": "not-a-date", "reason": "x"}, "date"),
        ({"date": "2026-10-01", "reason": "国庆"}, "date"),  # already a holiday: would change nothing
        ({"date": "2150-01-05", "reason": "x"}, "date"),
        ({"date": "2026-12-10", "reason": ""}, "reason"),
        ({"date": "2026-12-10"}, "reason"),
    ]:
        r = await api.post("admin", SAVED, json=body)
        assert r.status_code == 422, (body, r.text)
        assert field in str(r.json()), (body, r.json())
    items = (await api.get("admin", SAVED)).json()["items"]
    assert not [i for i in items if i["date"] == "2026-12-10"]  # nothing was saved
    assert (await api.request("admin", "DELETE", f"{SAVED}/999999999")).status_code == 404


CALENDAR_OPERATIONS = {
    ("get", SAVED): ("listCalendarExceptions", False),
    ("post", SAVED): ("saveCalendarException", True),
    ("delete", SAVED + "/{exception_id}"): ("withdrawCalendarException", False),
}


async def test_the_calendar_operations_are_named_guarded_typed_and_answer_as_documented(api, client, runtime):
    document = (await client.get("/schema/openapi.json")).json()
    for (method, path), (operation_id, with_body) in CALENDAR_OPERATIONS.items():
        op = document["paths"][path][method]
        assert op["operationId"] == operation_id and op["tags"] == ["admin"], (path, op.get("operationId"))
        assert op["security"] == [{"bearer": []}] and "Roles: admin." in op["description"]
        contract._component(document, contract._success(op))
        if with_body:
            contract._component(document, op["requestBody"]["content"]["application/json"]["schema"])
        else:
            assert "requestBody" not in op, path
    # The guard answers before the body is read.
    r = await api.request("manager", "POST", SAVED, content=b"[]", headers={"Content-Type": "application/json"})
    assert r.status_code == 403
    contract._conforms(document, "post", SAVED, r)
    # Real answers: a declared working day on a Sunday (no clock runs over it far ahead), listed, withdrawn.
    sunday = date(2026, 12, 27)
    assert not runtime.calendar.is_working_day(sunday)
    r = await api.post("admin", SAVED, json={"date": sunday.isoformat(), "working": True, "reason": "补班"})
    assert r.status_code == 201, r.text
    contract._conforms(document, "post", SAVED, r)
    exception_id = r.json()["exception"]["id"]
    contract._conforms(document, "get", SAVED, await api.get("admin", SAVED))
    r = await api.request("admin", "DELETE", f"{SAVED}/{exception_id}")
    contract._conforms(document, "delete", SAVED + "/{exception_id}", r)
    r = await api.request("admin", "DELETE", f"{SAVED}/{exception_id}")
    assert r.status_code == 404
    contract._conforms(document, "delete", SAVED + "/{exception_id}", r)
    contract._conforms(document, "post", SAVED, await api.post("admin", SAVED, json={"date": "x", "reason": "y"}))
    assert runtime.calendar.is_working_day(sunday) is False


async def test_the_calendar_page_of_another_process_shows_a_save_or_withdrawal_at_once(api, app, settings):
    """The administrator's next read may land on another API process: it shows the change at once, not after that
    process's once-a-second version check (the browser test once read the withdrawn typhoon day back)."""
    import httpx

    from hotline.web.app import create_app

    other = await Runtime.start(settings)
    second = create_app(settings)
    second.state.settings, second.state.runtime, second.state.redis = settings, other, other.redis
    headers = {"Authorization": f"Bearer {await api.token('admin')}"}
    sunday = date(2026, 12, 20)
    entry = {"date": sunday.isoformat(), "working": True, "reason": "补班（另一进程）", "territories": []}
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=second), base_url="http://other") as c:
            await other.reload_policies()  # its check is fresh: within the second, it would not look again
            r = await api.post(
                "admin", SAVED, json={"date": sunday.isoformat(), "working": True, "reason": entry["reason"]}
            )
            assert r.status_code == 201, r.text
            exception_id = r.json()["exception"]["id"]
            seen = (await c.get("/api/admin/calendar", headers=headers)).json()["exceptions"]
            assert {**entry, "source": "saved"} in seen
            await other.reload_policies()
            assert (await api.request("admin", "DELETE", f"{SAVED}/{exception_id}")).status_code == 200
            seen = (await c.get("/api/admin/calendar", headers=headers)).json()["exceptions"]
            assert all(e["date"] != sunday.isoformat() for e in seen)
    finally:
        await other.close()
