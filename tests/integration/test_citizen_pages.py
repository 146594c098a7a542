"""Citizen pages and browser answers: the /public/ page, the web form's checks (a Chinese phone number, the
honeypot), the promised deadline and the Chinese timeline of the progress answer, Chinese error pages for browsers
(problem+json for API clients), and the demo sign-in help shown only for a demo installation outside production."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from hotline.tickets import citizen as citizen_side
from hotline.web.console import demo_logins

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
TZ = ZoneInfo("Asia/Shanghai")


_addresses = itertools.count(1)


@pytest.fixture
async def citizen(client):  # noqa: ANN001, ANN201
    """A citizen's own client address, so the per-client submission limit (five a minute) is each test's own."""
    n = next(_addresses)
    transport = httpx.ASGITransport(app=client.app, client=(f"10.77.{n // 250}.{n % 250 + 1}", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


def _web(phone: str = "13700004321", **fields):  # noqa: ANN001, ANN202
    return {
        "kind": "complaint",
        "category": "taxi",
        "territory": "320612",
        "title": "出租车绕路",
        "content": "从南通站到通州区绕路多收费",
        "caller": {"phone": phone},
        **fields,
    }


async def test_the_public_page_has_the_form_and_the_progress_check_with_chinese_choices(client, runtime):
    r = await client.get("/public/", headers=BROWSER)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    for marker in (
        'id="submit-form"',
        'id="progress-form"',
        'for="f-phone"',
        'for="p-tail"',
        "网上受理",
        "进度查询",
        "/static/public.js",
        "/static/public.css",
    ):
        assert marker in html, marker
    for name in (
        *runtime.names.kinds.values(),
        *runtime.names.categories.values(),
        *runtime.names.territories.values(),
    ):
        assert name in html, name
    # Nothing inline for the strict policy, nothing from elsewhere.
    assert "<script>" not in html and "style=" not in html and "http" not in html.replace("http-equiv", "")
    assert (await client.get("/public", headers=BROWSER)).status_code == 200
    assert (await client.get("/static/public.js")).status_code == 200


@pytest.mark.parametrize("phone", ["12345", "99999999999999999999", "1390000000", "+1 650 253 0000", "110"])
async def test_a_web_submission_needs_a_chinese_mobile_or_landline_and_writes_nothing_otherwise(
    citizen, runtime, phone
):
    before = await runtime.pool.fetchval("SELECT count(*) FROM tickets WHERE channel = 'web'")
    r = await citizen.post("/public/tickets", json=_web(phone))
    assert r.status_code == 422 and "caller.phone" in r.json()["fields"], r.text
    assert await runtime.pool.fetchval("SELECT count(*) FROM tickets WHERE channel = 'web'") == before


@pytest.mark.parametrize("phone", ["13912345678", "0513-85123456", "+86 139 1234 5678"])
async def test_mobiles_and_landlines_are_taken_with_the_promised_deadline_in_words(citizen, runtime, phone):
    r = await citizen.post("/public/tickets", json=_web(phone))
    assert r.status_code == 201, r.text
    body = r.json()
    due = await runtime.pool.fetchval("SELECT reply_due_at FROM tickets WHERE number = $1", body["number"])
    assert datetime.fromisoformat(body["reply_due_at"]) == due
    local = due.astimezone(TZ)
    assert body["promise"] == f"将于 {local.year}年{local.month}月{local.day}日 {local:%H:%M} 前答复"


async def test_the_honeypot_field_filled_in_is_refused_and_writes_nothing(citizen, runtime):
    before = await runtime.pool.fetchval("SELECT count(*) FROM tickets WHERE channel = 'web'")
    r = await citizen.post("/public/tickets", json=_web(website="http://spam.example"))
    assert r.status_code == 422 and citizen_side.HONEYPOT in r.json()["fields"]
    assert await runtime.pool.fetchval("SELECT count(*) FROM tickets WHERE channel = 'web'") == before
    assert (await citizen.post("/public/tickets", json=_web(website=""))).status_code == 201


async def test_the_location_from_the_phone_is_stored(citizen, runtime):
    r = await citizen.post("/public/tickets", json=_web(location={"lat": 32.0, "lng": 120.9}))
    assert r.status_code == 201, r.text
    row = await runtime.pool.fetchrow("SELECT lat, lng FROM tickets WHERE number = $1", r.json()["number"])
    assert (row["lat"], row["lng"]) == (32.0, 120.9)


async def test_progress_shows_the_chinese_timeline_step_by_step_and_nothing_personal(citizen, api):
    number = (await citizen.post("/public/tickets", json=_web("13700002468"))).json()["number"]

    async def check():  # noqa: ANN202
        r = await citizen.get(f"/public/tickets/{number}", params={"phone_tail": "2468"})
        assert r.status_code == 200, r.text
        assert "13700002468" not in r.text
        body = r.json()
        return body, {s["step"]: s["state"] for s in body["timeline"]}

    body, states = await check()
    assert [s["label"] for s in body["timeline"]] == ["受理", "派单", "签收", "办理", "答复", "回访", "办结"]
    assert states == {
        "received": "done",
        "dispatched": "done",
        "signed": "current",
        "handling": "todo",
        "replied": "todo",
        "callback": "todo",
        "closed": "todo",
    }
    received = datetime.fromisoformat(body["received_at"]).astimezone(TZ)
    assert body["timeline"][0]["at_text"] == received.strftime("%Y-%m-%d %H:%M")
    checked = datetime.fromisoformat(body["checked_at"]).astimezone(TZ)
    assert body["checked_at_text"] == checked.strftime("%Y-%m-%d %H:%M:%S")  # local time, the timeline's format
    assert body["reply_due_text"] and body["overdue"] is False and body["unit_name"] == "通州区交通运输局"
    await api.act("handler-320612-bureau", number, "sign")
    body, states = await check()
    assert states["signed"] == "done" and states["handling"] == "current" and body["timeline"][3]["at_text"]
    await api.act("handler-320612-bureau", number, "reply", content="已责令驾驶员退还多收费用", outcome="resolved")
    body, states = await check()
    assert (
        states["replied"] == "done" and states["callback"] == "current" and body["reply"] == "已责令驾驶员退还多收费用"
    )
    await api.act("agent", number, "callback", contacted=True, resolved="resolved", satisfaction="satisfied")
    body, states = await check()
    assert set(states.values()) == {"done"} and body["closure_text"] == "回访后办结"


def test_overdue_is_a_reply_deadline_passed_unanswered_or_answered_late():
    now = datetime(2026, 12, 2, 9, tzinfo=UTC)
    due = now - timedelta(hours=1)
    row = {
        "status": "in_progress",
        "closure": None,
        "received_at": due - timedelta(days=10),
        "replied_at": None,
        "closed_at": None,
        "reply_due_at": due,
        "dispatched_at": due - timedelta(days=10),
        "signed_at": due - timedelta(days=9),
        "callback_at": None,
    }
    assert citizen_side.progress_of(row, TZ, now)["overdue"] is True
    assert citizen_side.progress_of({**row, "reply_due_at": now + timedelta(hours=1)}, TZ, now)["overdue"] is False
    late = {**row, "status": "replied", "replied_at": due + timedelta(minutes=5)}
    assert citizen_side.progress_of(late, TZ, now)["overdue"] is True
    assert citizen_side.progress_of({**late, "replied_at": due - timedelta(minutes=5)}, TZ, now)["overdue"] is False
    # Answered on the spot at intake: the steps between 受理 and 办结 never happened, nothing is late.
    spot = {
        **row,
        "status": "closed",
        "closure": "answered",
        "closed_at": now,
        "dispatched_at": None,
        "signed_at": None,
    }
    result = citizen_side.progress_of(spot, TZ, now)
    assert result["overdue"] is False
    assert [s["state"] for s in result["timeline"]] == ["done"] + ["skipped"] * 5 + ["done"]


@pytest.mark.parametrize("path", ["/no-such-page", "/public/no-such-page", "/static/missing.js"])
async def test_an_unknown_page_is_a_chinese_page_for_a_browser_and_problem_json_for_a_client(client, path):
    r = await client.get(path, headers=BROWSER)
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "页面不存在" in r.text and 'id="error-back"' in r.text
    assert ('href="/public/" id="error-back"' in r.text) == path.startswith("/public")
    r = await client.get(path)
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")


async def test_api_paths_keep_problem_json_even_for_a_browser(client, api):
    r = await client.get(
        "/api/tickets/96196-20000101-000001", headers={**BROWSER, "Authorization": f"Bearer {await api.token('agent')}"}
    )
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
    r = await client.get("/public/tickets/web-20000101-000001", params={"phone_tail": "1234"}, headers=BROWSER)
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")


async def test_forbidden_and_failures_are_chinese_pages_for_a_browser_with_a_way_back():
    """The app's own exception handlers, wrapped as create_app wraps them, on routes that fail each way."""
    import httpx
    from litestar import Litestar, get

    from hotline.errors import Forbidden, ServiceUnavailable
    from hotline.web.console import error_pages
    from hotline.web.problems import EXCEPTION_HANDLERS

    @get("/agent/refused")
    async def refused() -> None:
        raise Forbidden("not yours")

    @get("/public/broken")
    async def broken() -> None:
        raise RuntimeError("a bug")

    @get("/busy")
    async def busy() -> None:
        raise ServiceUnavailable("later")

    app = Litestar([refused, broken, busy], exception_handlers=error_pages.for_browsers(EXCEPTION_HANDLERS))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        for path, status, title, back in [
            ("/agent/refused", 403, "无权访问", "/"),
            ("/public/broken", 500, "服务出现问题", "/public/"),
            ("/busy", 503, "服务暂时不可用", "/"),
        ]:
            r = await c.get(path, headers=BROWSER)
            assert r.status_code == status and r.headers["content-type"].startswith("text/html"), path
            assert title in r.text and f'href="{back}" id="error-back"' in r.text and "a bug" not in r.text
            r = await c.get(path, headers={"Accept": "application/json"})
            assert r.status_code == status and r.headers["content-type"].startswith("application/problem+json")


async def _login_page(client):  # noqa: ANN001, ANN202
    r = await client.get("/login")
    assert r.status_code == 200
    return r.text


async def test_the_sign_in_page_lists_the_demo_logins_only_for_demo_data_outside_production(
    client, runtime, monkeypatch
):
    monkeypatch.setenv("HOTLINE_ENV", "development")
    html = await _login_page(client)
    assert 'id="demo-logins"' in html
    for username in ("agent", "dispatcher", "manager", "admin"):
        assert f'data-username="{username}"' in html
    assert "integration-12345" not in html
    assert '<option value="handler-320612-bureau">通州区交通运输局</option>' in html
    units = await runtime.pool.fetchval("SELECT count(*) FROM units")
    assert html.count('<option value="handler-') == units
    # Production mode: never, demo data or not.
    monkeypatch.setenv("HOTLINE_ENV", "production")
    assert 'id="demo-logins"' not in await _login_page(client)
    # HOTLINE_ENV unset (or anything but development) is production.
    monkeypatch.delenv("HOTLINE_ENV")
    assert demo_logins.production_mode() is True and demo_logins.production_mode({"HOTLINE_ENV": "staging"}) is True
    assert 'id="demo-logins"' not in await _login_page(client)
    # Without the demo data's mark nothing is listed either.
    monkeypatch.setenv("HOTLINE_ENV", "development")
    await runtime.pool.execute("DELETE FROM service_flags WHERE name = 'demo_data'")
    try:
        assert 'id="demo-logins"' not in await _login_page(client)
    finally:
        await runtime.pool.execute("INSERT INTO service_flags (name) VALUES ('demo_data') ON CONFLICT DO NOTHING")
    assert 'id="demo-logins"' in await _login_page(client)


async def test_seeding_the_demo_data_sets_its_mark(runtime):
    from hotline.ops.seed import seed

    await runtime.pool.execute("DELETE FROM service_flags WHERE name = 'demo_data'")
    async with runtime.pool.acquire() as conn:
        await seed(conn, demo=False, demo_password="x")
        assert await conn.fetchval("SELECT count(*) FROM service_flags") == 0
        await seed(conn, demo=True, demo_password=runtime.settings.demo_password)
        assert await conn.fetchval("SELECT count(*) FROM service_flags WHERE name = 'demo_data'") == 1
