"""The citizen pages in a real browser on a 390 px phone screen: submitting a case, following it to the unit's
reply, a wrong tail and the rate limits answered in Chinese, keyboard use, reflow at 200 % zoom and 320 px, no
axe-core violations of WCAG 2.x A/AA; browser error pages and the demo sign-in help."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.e2e.conftest import PASSWORD, Server, shot

TZ = ZoneInfo("Asia/Shanghai")
PHONE = {"width": 390, "height": 844}
WCAG = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]},
    "resultTypes": ["violations"],
}
_axe = Axe()


def _accessible(page: Any, what: str) -> None:
    """axe-core (the copy shipped by axe-playwright-python, injected from disk) finds no A/AA violation."""
    results = _axe.run(page, options=WCAG)
    assert results.violations_count == 0, f"{what}:\n{results.generate_report()}"


def _no_sideways_scroll(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert width <= 0, f"the page scrolls sideways by {width}px"


def _citizen(browser: Any, server: Server) -> Any:
    page = browser(None)
    page.set_viewport_size(PHONE)
    page.goto(server.base_url + "/public/")
    return page


def _fill_case(page: Any, phone: str) -> None:
    page.get_by_label("投诉").check()
    page.get_by_label("问题类别").select_option(label="出租汽车")
    page.get_by_label("发生地（区、县、市）").select_option(label="通州区")
    page.get_by_label("标题").fill("出租车拒载")
    page.get_by_label("具体内容").fill("今天下午3点在通州区金沙镇汽车站，出租车苏F1234司机拒载。")
    page.get_by_label("详细地址").fill("通州区金沙镇汽车站")
    page.get_by_label("手机号码或固定电话").fill(phone)
    page.get_by_label("称呼（可选）").fill("王女士")


def _check(page: Any, number: str, tail: str) -> None:
    page.get_by_label("受理编号").fill(number)
    page.get_by_label("手机号后四位").fill(tail)
    page.get_by_role("button", name="查询", exact=True).click()


def _steps(page: Any) -> dict[str, str]:
    items = page.locator("#r-timeline li")
    return {
        items.nth(i).get_attribute("data-step"): items.nth(i).get_attribute("class").split("c-")[-1].strip()
        for i in range(items.count())
    }


def test_a_citizen_on_a_phone_submits_a_case_and_follows_it_to_the_units_reply(browser, server):
    page = _citizen(browser, server)
    expect(page.locator("h1#submit-h")).to_have_text("网上受理")
    _no_sideways_scroll(page)
    _accessible(page, "the empty page")

    # Nothing filled in: every missing field says so in Chinese, and focus goes to the first.
    page.get_by_role("button", name="提交").click()
    expect(page.locator("#f-kind-error")).to_have_text("请选择诉求类型")
    expect(page.locator("#f-title-error")).to_have_text("请填写标题（200字以内）")
    expect(page.locator("#f-phone-error")).to_have_text("请填写11位手机号码，或带区号的固定电话")
    _accessible(page, "the form with its errors")

    phone = "1390" + datetime.now().strftime("%H%M%S%f")[:7]
    _fill_case(page, "12345")
    page.get_by_role("button", name="提交").click()
    expect(page.locator("#f-phone-error")).to_have_text("请填写11位手机号码，或带区号的固定电话")
    expect(page.get_by_label("手机号码或固定电话")).to_be_focused()
    page.get_by_label("手机号码或固定电话").fill(phone)

    # The phone's location, with the browser's consent.
    page.context.grant_permissions(["geolocation"], origin=server.base_url)
    page.context.set_geolocation({"latitude": 32.0123, "longitude": 120.8567})
    page.get_by_role("button", name="附上我的当前位置").click()
    expect(page.locator("#f-location-status")).to_contain_text("已附上位置")

    page.get_by_role("button", name="提交").click()
    result = page.locator("#submit-result")
    expect(result).to_be_visible()
    expect(result).to_be_focused()
    number = page.locator("#submit-number").inner_text()
    assert re.fullmatch(r"web-\d{8}-\d{6}", number), number
    ticket = server.api("dispatcher", "GET", f"/api/tickets/{number}")
    due = datetime.fromisoformat(ticket["deadlines"]["reply"]).astimezone(TZ)
    expect(page.locator("#submit-promise")).to_have_text(
        f"将于 {due.year}年{due.month}月{due.day}日 {due:%H:%M} 前答复。"
    )
    assert (ticket["location"]["lat"], ticket["location"]["lng"]) == (32.0123, 120.8567)
    assert ticket["title"] == "出租车拒载" and ticket["unit"] == "320612-bureau"
    _no_sideways_scroll(page)
    shot(page, "public-submitted")

    # From the answer straight to its progress, number and tail filled in.
    page.get_by_role("button", name="查询这件的进度").click()
    expect(page.locator("#progress-result")).to_be_visible()
    expect(page.locator("#r-status")).to_have_text("已派单")
    expect(page.locator("#r-unit")).to_have_text("通州区交通运输局")
    expect(page.locator("#r-due")).to_have_text(f"{due.year}年{due.month}月{due.day}日 {due:%H:%M} 前答复")
    assert list(_steps(page)) == ["received", "dispatched", "signed", "handling", "replied", "callback", "closed"]
    expect(page.locator("#r-timeline .c-step-name")).to_have_text(
        ["受理", "派单", "签收", "办理", "答复", "回访", "办结"]
    )
    received = datetime.fromisoformat(ticket["created_at"]).astimezone(TZ)
    expect(page.locator('#r-timeline li[data-step="received"] .c-step-at')).to_have_text(f"{received:%Y-%m-%d %H:%M}")
    assert _steps(page)["signed"] == "current"
    expect(page.locator("#r-reply")).to_be_hidden()
    assert phone not in page.content()

    # A handler signs and replies; the citizen checks again and reads the reply.
    server.act("handler-320612-bureau", number, "sign")
    server.act(
        "handler-320612-bureau", number, "reply", content="经查属实，已对驾驶员批评教育并处罚。", outcome="resolved"
    )
    page.get_by_role("button", name="查询", exact=True).click()
    expect(page.locator("#r-status")).to_have_text("已答复")
    expect(page.locator("#r-reply-text")).to_have_text("经查属实，已对驾驶员批评教育并处罚。")
    steps = _steps(page)
    assert [steps[k] for k in ("received", "dispatched", "signed", "handling", "replied")] == ["done"] * 5
    assert steps["callback"] == "current" and steps["closed"] == "todo"
    expect(page.locator('#r-timeline li[data-step="replied"] .c-step-at')).to_have_text(
        re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d")
    )
    _no_sideways_scroll(page)
    _accessible(page, "the progress answer")
    shot(page, "public-progress")
    assert page.errors == []


def test_a_wrong_tail_or_number_gets_one_chinese_message_that_reveals_nothing(browser, server):
    number = server.api("dispatcher", "GET", "/api/tickets", params={"channel": "web", "limit": 1})["items"][0][
        "number"
    ]
    page = _citizen(browser, server)
    _check(page, number, "0000")
    message = "未查到相符的工单，请核对受理编号和手机号后四位。"
    expect(page.locator("#progress-error")).to_have_text(message)
    expect(page.locator("#progress-result")).to_be_hidden()
    _check(page, "web-19990101-000001", "1234")
    expect(page.locator("#progress-error")).to_have_text(message)
    _check(page, number, "12")
    expect(page.locator("#p-tail-error")).to_have_text("请填写手机号码的后四位数字")
    _accessible(page, "the progress check's errors")
    assert page.errors == []


def test_the_page_works_from_the_keyboard_and_reflows_at_200_percent_zoom(browser, server):
    page = _citizen(browser, server)
    # Tab from the top reaches every field of the form, in order, then the submit button.
    seen = []
    for _ in range(40):
        page.keyboard.press("Tab")
        seen.append(
            page.evaluate("document.activeElement.id || document.activeElement.name || document.activeElement.tagName")
        )
        if seen[-1] == "submit-button":
            break
    for field in (
        "kind",
        "f-category",
        "f-territory",
        "f-title",
        "f-content",
        "f-address",
        "f-locate",
        "f-phone",
        "f-name",
        "submit-button",
    ):
        assert field in seen, (field, seen)
    assert "f-website" not in seen  # the honeypot is out of everyone's way
    # A radio group is chosen with the arrow keys.
    page.locator("input[name=kind]").first.focus()
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.querySelector('input[name=kind]:checked').value") == "help"
    # 200 % zoom of a 1280 px window is 640 CSS px; 320 px is WCAG's reflow case (1280 px at 400 %).
    for width in (640, 320):
        page.set_viewport_size({"width": width, "height": 700})
        page.wait_for_timeout(100)
        _no_sideways_scroll(page)
    page.set_viewport_size(PHONE)
    assert page.errors == []


def test_the_page_is_light_and_quick_on_a_slow_phone(browser, server):
    """No framework, nothing from elsewhere: on a slow 3G line (400 ms round trips, 400 kbit/s) with the CPU
    slowed 4x the page is usable well within 3 s, in under 40 kB."""
    page = browser(None)
    page.set_viewport_size(PHONE)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 400, "downloadThroughput": 50_000, "uploadThroughput": 50_000},
    )
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(server.base_url + "/public/", wait_until="load")
    timing = page.evaluate("""() => { const n = performance.getEntriesByType('navigation')[0];
        const res = performance.getEntriesByType('resource');
        return {dcl: n.domContentLoadedEventEnd, load: n.loadEventEnd,
                bytes: n.transferSize + res.reduce((a, r) => a + r.transferSize, 0)}; }""")
    print("public page on slow 3G, CPU 4x:", timing)
    assert all(url.startswith(server.base_url) for url in requests), requests
    assert timing["bytes"] < 40_000, timing
    assert timing["load"] < 3000, timing
    expect(page.get_by_label("标题")).to_be_editable()
    assert page.errors == []


def test_unknown_pages_and_refusals_are_chinese_pages_with_a_way_back(browser, server):
    page = browser(None)
    page.set_viewport_size(PHONE)
    response = page.goto(server.base_url + "/public/no-such-page")
    assert response.status == 404
    expect(page.locator("#error-h")).to_have_text("页面不存在")
    _accessible(page, "the citizen's 404 page")
    page.locator("#error-back").click()
    expect(page).to_have_url(server.base_url + "/public/")
    response = page.goto(server.base_url + "/no-such-page")
    assert response.status == 404
    expect(page.locator("#error-back")).to_have_attribute("href", "/")
    page.locator("#error-back").click()
    expect(page).to_have_url(re.compile(r"/login"))
    # A script's request still gets problem+json.
    kind = page.evaluate("fetch('/no-such-page').then(r => r.headers.get('content-type'))")
    assert kind.startswith("application/problem+json")


def test_the_demo_sign_in_help_lists_logins_by_role_and_units_for_handlers(browser, server):
    page = browser(None)
    page.goto(server.base_url + "/login")
    help_ = page.locator("#demo-logins")
    expect(help_).to_be_visible()
    expect(help_).to_contain_text(PASSWORD)
    expect(help_.locator("li")).to_have_count(4)  # 坐席, 派单员, 管理, 系统管理员
    page.get_by_label("承办单位（选择单位填入其承办人账号）").select_option(label="通州区交通运输局")
    expect(page.locator("#username")).to_have_value("handler-320612-bureau")
    page.click("#login-form button[type=submit]")
    expect(page).to_have_url(server.base_url + "/handler")
    expect(page.locator(".who .user")).to_contain_text("通州区交通运输局")
    page.click("#logout")
    expect(page).to_have_url(server.base_url + "/login")
    page.locator('#demo-logins button[data-username="manager"]').click()
    page.click("#login-form button[type=submit]")
    expect(page).to_have_url(server.base_url + "/manager")
    assert page.errors == []


# Last in this file: it uses up this client's public limits for the rest of the minute.
def test_too_many_checks_or_submissions_are_answered_in_chinese_with_the_wait(browser, server):
    page = _citizen(browser, server)
    for _ in range(2):  # a fixed window may roll over between the burst and the click: try once more then
        page.evaluate("""async () => { for (let i = 0; i < 35; i++)
            await fetch('/public/tickets/web-19990101-000001?phone_tail=1234'); }""")
        _check(page, "web-19990101-000001", "1234")
        expect(page.locator("#progress-error")).not_to_be_empty()
        if "频繁" in page.locator("#progress-error").inner_text():
            break
    expect(page.locator("#progress-error")).to_have_text(re.compile(r"^查询过于频繁，请稍后再试（约 \d+ 秒后）。$"))
    for _ in range(2):
        # Refused phone numbers count against the limit and write nothing.
        page.evaluate("""async () => { for (let i = 0; i < 8; i++) await fetch('/public/tickets', {method: 'POST',
            headers: {'Content-Type': 'application/json'}, body: JSON.stringify({kind: 'help', title: 't',
            content: 'c', caller: {phone: '12345'}})}); }""")
        _fill_case(page, "13900001111")
        page.get_by_role("button", name="提交").click()
        expect(page.locator("#submit-error")).to_be_visible()
        if "频繁" in page.locator("#submit-error").inner_text():
            break
    expect(page.locator("#submit-error")).to_have_text(re.compile(r"^提交过于频繁，请稍后再试（约 \d+ 秒后）。$"))
    assert page.errors == []
