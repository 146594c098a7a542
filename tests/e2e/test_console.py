"""The web console in a real browser: sign-in, the agent's intake and callbacks, the handler's queue, the dispatcher's
decisions, the manager's live dashboard and report, scope, speed and layout at 1366x768."""

from __future__ import annotations

import csv
import io
import json
import re
import statistics
import time
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import jwt
import openpyxl
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from tests.e2e.conftest import ROOT, SECRET, Server, shot, sign_in

TZ = ZoneInfo("Asia/Shanghai")
BUREAU = "handler-320612-bureau"  # taxi calls in 通州区 go to 通州区交通运输局
OTHER_BUREAU = "handler-320614-bureau"


def _phone() -> str:
    return "139" + f"{int(time.time() * 1000) % 100_000_000:08d}"


def _percent(rate: float) -> str:
    """A rate as the console prints it: tenths of a percent, rounded half up."""
    return f"{int(rate * 1000 + 0.5 + 1e-9) / 10:.1f}%"


def _live(page: Any) -> None:
    expect(page.locator("#live-status")).to_have_attribute("data-state", "connected", timeout=10_000)


def _value(page: Any, selector: str) -> int:
    return int(page.locator(selector).get_attribute("data-value"))


def _open(page: Any, row: Any, number: str) -> Any:
    """Click a queue row and wait until its ticket, not the one shown before, fills the panel."""
    row.locator("a.row-link").click()
    expect(page.locator("#panel")).not_to_have_attribute("aria-busy", "true")
    expect(page.locator("#panel article.ticket")).to_have_attribute("data-number", number)
    return page.locator("#panel")


def _ladder(server: Server, step: str) -> str:
    label = {"warning": "预警", "overdue": "超期", "supervision": "督办"}[step]
    items = server.api("dispatcher", "GET", "/api/tickets", params={"q": f"时限演示：{label}", "limit": 5})["items"]
    assert len(items) == 1, items
    return items[0]["number"]


# --- sign-in -------------------------------------------------------------------------------------------------------


def test_sign_in_lands_each_role_on_its_page_and_sign_out_ends_the_session(browser, server):
    page = browser(None)
    page.goto(server.base_url + "/agent")
    expect(page).to_have_url(re.compile(r"/login\?next=/agent"))
    page.click("#login-form button[type=submit]")
    expect(page.locator("#username-error")).to_have_text("请输入用户名")
    expect(page.locator("#password-error")).to_have_text("请输入密码")
    page.fill("#username", "agent")
    page.fill("#password", "not-the-password")
    page.click("#login-form button[type=submit]")
    expect(page.locator("#password-error")).to_have_text("用户名或密码错误")
    expect(page.locator("#username")).to_have_value("agent")
    shot(page, "login-error")
    sign_in(page, server, "integration-12345")
    expect(page.locator("#username-error")).to_have_text("接口账号不能登录控制台")

    for username, path, name in [
        ("agent", "/agent", "坐席员"),
        (BUREAU, "/handler", "通州区交通运输局"),
        ("dispatcher", "/dispatcher", "派单员"),
        ("manager", "/manager", "值班领导"),
    ]:
        sign_in(page, server, username)
        expect(page).to_have_url(server.base_url + path)
        expect(page.locator(".who .user")).to_contain_text(name)
        _live(page)
        page.click("#logout")
        expect(page).to_have_url(server.base_url + "/login")
        page.goto(server.base_url + path)
        expect(page).to_have_url(re.compile("/login"))
    # the root sends a signed-in user to their own page; another role's page says no in Chinese
    sign_in(page, server, BUREAU)
    page.goto(server.base_url + "/")
    expect(page).to_have_url(server.base_url + "/handler")
    response = page.goto(server.base_url + "/manager")
    assert response.status == 403
    expect(page.locator(".message-page h1")).to_have_text("无权访问此页面")
    assert page.errors == []


def test_a_session_expires_and_cookie_changes_need_the_console_header(browser, server):
    page = browser(BUREAU)
    cookie = next(c for c in page.context.cookies() if c["name"] == "hotline_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert abs(cookie["expires"] - (time.time() + 8 * 3600)) < 300  # max_age = token_ttl_seconds (8 h)
    number = server.create(title="会话测试")["number"]
    # A script on the page cannot read the cookie, and a change sent without the console's header is refused.
    assert "hotline_session" not in page.evaluate("document.cookie")
    status = page.evaluate(
        """n => fetch('/api/tickets/' + n + '/sign', {method: 'POST',
        headers: {'Content-Type': 'application/json'}, body: '{}'}).then(r => r.status)""",
        number,
    )
    assert status == 403
    status = page.evaluate(
        """n => fetch('/api/tickets/' + n + '/sign', {method: 'POST',
        headers: {'Content-Type': 'application/json', 'X-Requested-With': 'hotline-console'}, body: '{}'})
        .then(r => r.status)""",
        number,
    )
    assert status == 200
    # Signed out elsewhere (the same token revoked): the next thing the page loads sends the user to sign in.
    page.evaluate("fetch('/api/auth/logout', {method: 'POST', headers: {'X-Requested-With': 'hotline-console'}})")
    page.wait_for_timeout(300)
    try:  # the live feed may already have noticed and moved the page; otherwise opening a ticket does
        page.evaluate("document.querySelector('#handler-queue a.row-link').click()")
    except PlaywrightError:
        pass
    expect(page).to_have_url(re.compile(r"/login\?expired=1"))
    expect(page.locator("#login-notice")).to_contain_text("登录已过期")
    # An expired token in the cookie is treated the same way.
    fresh = browser(None)
    claims = {
        "sub": "1",
        "usr": "agent",
        "rol": "agent",
        "nam": "坐席员",
        "unt": None,
        "chn": None,
        "jti": "expired-e2e",
        "iat": int(time.time()) - 7200,
        "exp": int(time.time()) - 60,
    }
    fresh.context.add_cookies(
        [{"name": "hotline_session", "value": jwt.encode(claims, SECRET, algorithm="HS256"), "url": server.base_url}]
    )
    fresh.goto(server.base_url + "/agent")
    expect(fresh).to_have_url(re.compile(r"/login\?next=/agent&expired=1"))
    expect(fresh.locator("#login-notice")).to_contain_text("登录已过期")


# --- the whole path of a call --------------------------------------------------------------------------------------


def test_a_call_routed_to_the_bureau_is_signed_replied_called_back_dissatisfied_and_reopened_live(browser, server):
    manager = browser("manager")
    _live(manager)
    today_before = _value(manager, "#today-total")
    phone_channel_before = _value(manager, '#today-by-channel tr[data-channel="96196"] td.num')
    reopened_before = _value(manager, "#reopened-open")
    handler = browser(BUREAU)
    _live(handler)
    handler.evaluate("window.__sameDocument = true")
    agent = browser("agent")
    _live(agent)
    agent.evaluate("window.__sameDocument = true")

    # The agent logs the call from the keyboard.
    phone = _phone()
    expect(agent.locator("#f-phone")).to_be_focused()
    agent.keyboard.type(phone)
    agent.keyboard.press("Tab")
    agent.keyboard.type("王女士")
    agent.keyboard.press("Alt+C")
    agent.keyboard.type("出租")
    agent.keyboard.press("Enter")
    expect(agent.locator("input[name=category]")).to_have_value("taxi")
    agent.keyboard.press("Alt+T")
    agent.keyboard.type("通州")
    agent.keyboard.press("Enter")
    expect(agent.locator("input[name=territory]")).to_have_value("320612")
    agent.locator("input[name=kind]").first.focus()
    agent.keyboard.press("3")
    expect(agent.locator("input[name=kind][value=complaint]")).to_be_checked()
    expect(agent.locator("#route-preview")).to_contain_text("通州区交通运输局")
    expect(agent.locator("#sla-preview")).to_contain_text("办结时限")
    agent.locator("#f-content").focus()
    agent.keyboard.type("在通州区万达广场打车，出租车司机拒载，车牌苏F6E789。请求查处。")
    shot(agent, "agent-intake")
    agent.keyboard.press("Control+Enter")
    expect(agent.locator("#created-number")).to_be_visible()
    number = agent.locator("#created-number").inner_text()
    expect(agent.locator("#result")).to_contain_text("通州区交通运输局")
    expect(agent.locator("#f-phone")).to_have_value("")
    expect(agent.locator("#f-phone")).to_be_focused()

    # The bureau sees it arrive without reloading; the manager's counts move.
    row = handler.locator(f'#handler-queue .row[data-number="{number}"]')
    expect(row).to_be_visible(timeout=10_000)
    expect(row.locator(".badge.status")).to_have_text("待签收")
    expect(row.locator(".cd")).to_contain_text("签收")
    shot(handler, "handler-new-call")
    expect(manager.locator("#today-total")).to_have_attribute("data-value", str(today_before + 1), timeout=10_000)
    expect(manager.locator('#today-by-channel tr[data-channel="96196"] td.num')).to_have_attribute(
        "data-value", str(phone_channel_before + 1)
    )

    # The handler signs, tries an extension the server refuses, then replies.
    _open(handler, row, number)
    expect(handler.locator("#panel .phone")).to_contain_text("****")  # handlers never see the full number
    handler.locator("#panel form[data-action=sign] button[type=submit]").click()
    expect(handler.locator("#panel article.ticket")).to_have_attribute("data-status", "in_progress")
    ext = handler.locator("#panel form[data-action=request-extension]")
    ext.locator("summary").click()
    ext.locator("input[name=until]").fill(datetime.now(TZ).date().isoformat())
    ext.locator("textarea[name=reason]").fill("需要现场核查")
    ext.locator("button[type=submit]").click()
    expect(ext.locator('.err[data-for="until"]')).to_have_text("延至日期应晚于当前办结时限")
    reply = handler.locator("#panel form[data-action=reply]")
    reply.locator("button[type=submit]").click()
    expect(reply.locator('.err[data-for="content"]')).to_have_text("请填写答复内容")
    reply.locator("textarea[name=content]").fill("经查属实，已约谈驾驶员并处罚款，向乘客致歉。")
    reply.locator("select[name=outcome]").select_option("resolved")
    reply.locator("button[type=submit]").click()
    expect(row).to_have_count(0, timeout=10_000)

    # The agent's callback queue shows it with the reply in front; the caller is not satisfied.
    agent.keyboard.press("F3")
    cb_row = agent.locator(f'#callback-queue .row[data-number="{number}"]')
    expect(cb_row).to_be_visible(timeout=10_000)
    _open(agent, cb_row, number)
    expect(agent.locator("#panel #reply-box")).to_contain_text("已约谈驾驶员")
    expect(agent.locator("#panel .phone")).to_have_text(phone)
    form = agent.locator("#panel form[data-action=callback]")
    form.locator("button[type=submit]").click()
    expect(form.locator('.err[data-for="contacted"]')).to_have_text("请选择是否联系上来电人")
    form.locator("input[name=contacted][value=true]").check()
    form.locator("input[name=resolved][value=unresolved]").check()
    form.locator("input[name=satisfaction][value=dissatisfied]").check()
    form.locator("input[name=note]").fill("市民表示司机仍未道歉")
    shot(agent, "agent-callback")
    form.locator("button[type=submit]").click()
    expect(cb_row).to_have_count(0, timeout=10_000)

    # Reopened at the same bureau, on the handler's screen and the manager's dashboard, all without a reload.
    expect(row).to_be_visible(timeout=10_000)
    expect(row.locator(".badge.reopen")).to_have_text("重办1")
    expect(row.locator(".badge.status")).to_have_text("办理中")
    expect(manager.locator("#reopened-open")).to_have_attribute("data-value", str(reopened_before + 1), timeout=10_000)
    shot(manager, "manager-live")
    assert handler.evaluate("window.__sameDocument") is True
    assert agent.evaluate("window.__sameDocument") is True
    detail = server.api("dispatcher", "GET", f"/api/tickets/{number}")
    assert detail["status"] == "in_progress" and detail["reopen_count"] == 1 and detail["unit"] == "320612-bureau"

    # The full timeline and the deadline explanation.
    handler.goto(f"{server.base_url}/tickets/{number}")
    timeline = handler.locator("#timeline")
    for label in ("受理登记", "自动派单", "签收", "答复", "回访"):
        expect(timeline).to_contain_text(label)
    expect(timeline).to_contain_text("不满意，未解决；退回原承办单位重办")
    expect(handler.locator("details.explain").first).to_contain_text("个工作日")
    expect(handler.locator("#routing-text")).to_contain_text("属地交通运输局")
    shot(handler, "ticket-page")

    # Another bureau cannot see it, on a page or through the API.
    other = browser(OTHER_BUREAU)
    expect(other.locator(f'#handler-queue .row[data-number="{number}"]')).to_have_count(0)
    response = other.goto(f"{server.base_url}/tickets/{number}")
    assert response.status == 404
    expect(other.locator("#not-found")).to_contain_text("不在您的办理范围内")
    status = other.evaluate("n => fetch('/console/fragments/ticket/' + n).then(r => r.status)", number)
    assert status == 404
    server.api(OTHER_BUREAU, "GET", f"/api/tickets/{number}", expect=404)
    for page in (manager, handler, agent, other):
        assert page.errors == []


# --- intake details ------------------------------------------------------------------------------------------------


def test_intake_shows_chinese_errors_by_the_field_earlier_calls_duplicates_and_answers_consultations(browser, server):
    agent = browser("agent")
    _live(agent)
    agent.keyboard.press("Control+Enter")
    errors = {
        "caller.phone": "请填写来电号码（回访需要）",
        "kind": "请选择诉求类型",
        "category": "请选择业务类别",
        "content": "请填写诉求内容",
    }
    for field, message in errors.items():
        expect(agent.locator(f'#intake-form .err[data-for="{field}"]')).to_have_text(message)
    expect(agent.locator("#f-phone")).to_have_attribute("aria-invalid", "true")
    agent.fill("#f-phone", "12ab")
    agent.locator("#f-category").fill("不存在的类别")
    agent.keyboard.press("Tab")
    expect(agent.locator('#intake-form .err[data-for="category"]')).to_have_text("没有匹配的选项，请从列表中选择")
    agent.keyboard.press("Control+Enter")
    expect(agent.locator('#intake-form .err[data-for="caller.phone"]')).to_contain_text("来电号码格式不正确")
    expect(agent.locator("input[name=territory]")).to_have_value("")  # a shortcut never picks for the user
    shot(agent, "agent-intake-errors")

    # A second call from the same caller: the earlier ticket and the likely duplicate appear while typing.
    phone = _phone()
    original = server.create(
        caller={"name": "赵先生", "phone": phone},
        title="网约车司机绕路",
        content="网约车司机绕路多收费，车牌苏FD12345。",
        category="ride_hailing",
    )
    agent.fill("#f-phone", "")
    agent.locator("#f-phone").press_sequentially(phone)
    expect(agent.locator(f'#earlier li[data-number="{original["number"]}"]')).to_be_visible()
    dup = agent.locator(f'#duplicates li[data-number="{original["number"]}"]')
    expect(dup).to_contain_text("同一号码")
    shot(agent, "agent-duplicates")
    dup.locator(".merge-btn").click()
    expect(agent.locator("#result")).to_contain_text("已合并")
    merged_number = agent.locator("#created-number").inner_text()
    merged = server.api("dispatcher", "GET", f"/api/tickets/{merged_number}")
    assert merged["closure"] == "merged" and merged["merged_into"] == original["number"]
    assert server.api("dispatcher", "GET", f"/api/tickets/{original['number']}")["status"] == "dispatched"

    # A consultation answered on the phone is closed at once. First with a one-digit number, which only the server
    # can judge (the numbering plan): its reason is shown by the field, in Chinese, and nothing is logged.
    agent.fill("#f-phone", "1")
    agent.locator("input[name=kind]").first.focus()
    agent.keyboard.press("1")
    expect(agent.locator("#answer-field")).to_be_visible()
    agent.locator("#f-category").fill("其他")
    agent.keyboard.press("Enter")
    agent.fill("#f-content", "咨询老年人乘坐公交车优惠卡如何办理。")
    agent.keyboard.press("Control+Shift+Enter")
    expect(agent.locator('#intake-form .err[data-for="answer"]')).to_have_text("请填写直接答复的内容")
    agent.fill("#f-answer", "持身份证到公交卡服务网点办理，65周岁以上免费。")
    agent.keyboard.press("Control+Shift+Enter")
    expect(agent.locator('#intake-form .err[data-for="caller.phone"]')).to_have_text(
        "来电号码位数太少，不是可回访的号码"
    )
    expect(agent.locator("#result")).not_to_contain_text("已直接答复办结")
    shot(agent, "agent-intake-phone-refused")
    agent.fill("#f-phone", _phone())
    agent.keyboard.press("Control+Shift+Enter")
    expect(agent.locator("#result")).to_contain_text("已直接答复办结")
    answered = server.api("dispatcher", "GET", f"/api/tickets/{agent.locator('#created-number').inner_text()}")
    assert answered["status"] == "closed" and answered["closure"] == "answered"
    assert answered["title"] == "咨询老年人乘坐公交车优惠卡如何办理"  # taken from the first sentence
    assert agent.errors == []


def test_an_urgent_call_gets_the_urgent_clocks_in_the_preview_and_on_the_ticket(browser, server):
    agent = browser("agent")
    _live(agent)
    agent.keyboard.type(_phone())
    agent.keyboard.press("Alt+C")
    agent.keyboard.type("公交")
    agent.keyboard.press("Enter")
    agent.keyboard.press("Alt+T")
    agent.keyboard.type("崇川")
    agent.keyboard.press("Enter")
    agent.locator("input[name=kind]").first.focus()
    agent.keyboard.press("2")  # 求助
    expect(agent.locator("#sla-preview")).to_contain_text("办结时限")
    expect(agent.locator("#sla-preview .badge.urgent")).to_have_count(0)
    agent.keyboard.press("Alt+U")
    expect(agent.locator("#f-urgent")).to_be_checked()
    expect(agent.locator("#sla-preview .badge.urgent")).to_have_text("紧急")
    agent.locator("#f-content").focus()
    agent.keyboard.type("公交车上有乘客突发疾病，司机已停车，请求协调。")
    agent.keyboard.press("Control+Enter")
    expect(agent.locator("#created-number")).to_be_visible()
    t = server.api("dispatcher", "GET", f"/api/tickets/{agent.locator('#created-number').inner_text()}")
    assert t["urgent"] is True and t["unit"] == "city-bus"
    received = datetime.fromisoformat(t["received_at"])
    # Urgent: 30 natural minutes to sign, 24 natural hours to reply, whatever the hour of the call.
    assert datetime.fromisoformat(t["deadlines"]["sign"]) - received == timedelta(minutes=30)
    assert datetime.fromisoformat(t["deadlines"]["reply"]) - received == timedelta(hours=24)
    assert agent.errors == []


# --- handler queue -------------------------------------------------------------------------------------------------


def test_the_handler_queue_is_sorted_by_time_left_with_escalation_colours(browser, server):
    numbers = {step: _ladder(server, step) for step in ("warning", "overdue", "supervision")}
    handler = browser(BUREAU)
    colours = {"warning": "rgb(255, 246, 214)", "overdue": "rgb(253, 228, 226)", "supervision": "rgb(253, 228, 226)"}
    labels = {"warning": "预警", "overdue": "超期", "supervision": "督办"}
    for step, number in numbers.items():
        row = handler.locator(f'#handler-queue .row[data-number="{number}"]')
        expect(row).to_have_class(re.compile(rf"\bstep-{step}\b"))
        expect(row.locator(f".badge.step-{step}")).to_have_text(labels[step])
        assert row.evaluate("el => getComputedStyle(el).backgroundColor") == colours[step]
        text = row.locator(".cd-text").inner_text()
        assert text.startswith("剩余" if step == "warning" else "已超时"), text
    border = handler.locator(f'#handler-queue .row[data-number="{numbers["supervision"]}"]').evaluate(
        "el => getComputedStyle(el).borderLeftColor"
    )
    assert border == "rgb(106, 27, 154)"  # supervision is marked apart from plain overdue
    # By time left; a paused clock (挂起, or a return under review: 退单待审) does not count down and comes last.
    dues = handler.locator("#handler-queue .row .cd").evaluate_all(
        "els => els.map(e => [e.dataset.due, !!e.querySelector('.muted-badge')])"
    )
    counting = [datetime.fromisoformat(d) for d, paused in dues if not paused]
    assert len(counting) > 10 and counting == sorted(counting)
    assert [paused for _, paused in dues] == sorted(paused for _, paused in dues)
    expect(handler.locator("#handler-queue .row").first).to_have_class(re.compile(r"step-(overdue|supervision)"))
    shot(handler, "handler-queue")
    # Its deadline explanation says how supervision was reached.
    _open(
        handler, handler.locator(f'#handler-queue .row[data-number="{numbers["supervision"]}"]'), numbers["supervision"]
    )
    explain = handler.locator("#panel tr.clock[data-clock=reply] + tr details.explain")
    explain.locator("summary").click()
    expect(explain).to_contain_text("受理当日")
    expect(explain).to_contain_text("督办：超期2个工作日仍未办结")
    shot(handler, "handler-ticket-panel")

    # A call that is not the bureau's: signed, a progress note, then returned with a reason.
    number = server.create(title="出租车拒载（退单演示）", content="通州区南大街出租车拒载。")["number"]
    row = handler.locator(f'#handler-queue .row[data-number="{number}"]')
    expect(row).to_be_visible(timeout=10_000)
    panel = _open(handler, row, number)
    panel.locator("form[data-action=sign] button[type=submit]").click()
    expect(panel.locator("article.ticket")).to_have_attribute("data-status", "in_progress")
    note = panel.locator("form[data-action=note]")
    note.locator("summary").click()
    note.locator("textarea[name=text]").fill("已电话联系乘客核实上车地点。")
    note.locator("button[type=submit]").click()
    expect(panel.locator("#timeline")).to_contain_text("已电话联系乘客核实上车地点。")
    back = panel.locator("form[data-action=return]")
    back.locator("summary").click()
    back.locator("button[type=submit]").click()
    expect(back.locator('.err[data-for="reason"]')).to_have_text("请填写退单理由")
    back.locator("textarea[name=reason]").fill("车辆登记在崇川区，应由市客运出租汽车管理处办理。")
    back.locator("button[type=submit]").click()
    expect(row.locator(".badge.status")).to_have_text("退单待审")
    expect(panel.locator("#timeline")).to_contain_text("退单理由：车辆登记在崇川区")
    assert server.api("dispatcher", "GET", f"/api/tickets/{number}")["status"] == "return_requested"
    assert handler.errors == []


# --- dispatcher ----------------------------------------------------------------------------------------------------


def test_the_handler_asks_for_an_extension_and_is_told_in_chinese_when_the_date_is_a_holiday(browser, server):
    t = server.create(title="出租车不打表（申请延期演示）")
    server.act(BUREAU, t["number"], "sign")
    due = datetime.fromisoformat(server.api(BUREAU, "GET", f"/api/tickets/{t['number']}")["deadlines"]["reply"])
    local_due = due.astimezone(TZ).date()
    sunday = local_due + timedelta(days=(6 - local_due.weekday()) % 7 or 7)
    page = browser(BUREAU)
    _live(page)
    row = page.locator(f'#handler-queue .row[data-number="{t["number"]}"]')
    _open(page, row, t["number"])
    ext = page.locator("#panel form[data-action=request-extension]")
    ext.locator("summary").click()
    ext.locator("input[name=until]").fill(sunday.isoformat())
    ext.locator("textarea[name=reason]").fill("需调取营运记录")
    ext.locator("button[type=submit]").click()
    expect(ext.locator('.err[data-for="until"]')).to_contain_text("应为工作日")
    ext.locator("input[name=until]").fill("")
    ext.locator("input[name=working_days]").fill("5")
    ext.locator("button[type=submit]").click()
    expect(page.locator("#toast")).to_be_visible()
    expect(row).to_contain_text("延期审批中")
    requested = [
        e
        for e in server.api("dispatcher", "GET", f"/api/tickets/{t['number']}")["events"]
        if e["action"] == "request-extension"
    ]
    assert len(requested) == 1 and requested[0]["working_days"] == 5 and requested[0]["reason"] == "需调取营运记录"
    assert page.errors == []


def test_the_dispatcher_dispatches_rules_on_returns_and_extensions_and_urges(browser, server):
    pending = server.create(territory=None, title="出租车拒载（未填属地）")
    assert pending["status"] == "pending_dispatch"
    returned = server.create(
        title="货车乱停放（退单演示）", category="freight", content="通州区金沙镇货车长期占道停放。"
    )
    server.act(BUREAU, returned["number"], "return", reason="占道停放属城管执法范围，不属本局职责。")
    extended = server.create(title="出租车不打表（延期演示）")
    server.act(BUREAU, extended["number"], "sign")
    server.act(BUREAU, extended["number"], "request-extension", working_days=3, reason="需调取出租车营运记录")
    old_due = server.api("dispatcher", "GET", f"/api/tickets/{extended['number']}")["deadlines"]["reply"]

    page = browser("dispatcher")
    _live(page)
    page.evaluate("window.__sameDocument = true")
    row = page.locator(f'#pending-queue .row[data-number="{pending["number"]}"]')
    expect(row).to_contain_text("未填写属地，需人工派单")
    shot(page, "dispatcher")
    _open(page, row, pending["number"])
    form = page.locator("#panel form[data-action=dispatch]")
    form.locator("button[type=submit]").click()
    expect(form.locator('.err[data-for="unit"]')).to_have_text("请选择承办单位")
    form.locator("select[name=unit]").select_option("320612-bureau")
    form.locator("button[type=submit]").click()
    expect(row).to_have_count(0)
    assert server.api("dispatcher", "GET", f"/api/tickets/{pending['number']}")["unit"] == "320612-bureau"

    page.click('.group-tabs [data-group="returns-group"]')
    row = page.locator(f'#returns-queue .row[data-number="{returned["number"]}"]')
    expect(row).to_contain_text("占道停放属城管执法范围")
    expect(row).to_contain_text("道路货运")
    _open(page, row, returned["number"])
    form = page.locator("#panel form[data-action=decide-return]")
    form.locator("input[name=accept][value=true]").check()
    form.locator("select[name=unit]").select_option("city-office")
    form.locator("input[name=proper]").check()
    form.locator("input[name=note]").fill("同意改派局办公室协调")
    shot(page, "dispatcher-return")
    form.locator("button[type=submit]").click()
    expect(row).to_have_count(0)
    after = server.api("dispatcher", "GET", f"/api/tickets/{returned['number']}")
    assert after["unit"] == "city-office" and after["assignments"][0]["return_proper"] is True

    page.click('.group-tabs [data-group="extensions-group"]')
    row = page.locator(f'#extensions-queue .row[data-number="{extended["number"]}"]')
    expect(row).to_contain_text("延长3个工作日")
    _open(page, row, extended["number"])
    form = page.locator("#panel form[data-action=decide-extension]")
    form.locator("input[name=approve][value=true]").check()
    form.locator("button[type=submit]").click()
    expect(row).to_have_count(0)
    new_due = server.api("dispatcher", "GET", f"/api/tickets/{extended['number']}")["deadlines"]["reply"]
    assert datetime.fromisoformat(new_due) > datetime.fromisoformat(old_due)

    page.click('.group-tabs [data-group="risk-group"]')
    row = page.locator("#risk-queue .row").first
    expect(row).to_have_class(re.compile(r"step-(overdue|supervision)"))  # the longest overdue come first
    overdue = row.get_attribute("data-number")
    urges_before = sum(
        e["action"] == "urge" for e in server.api("dispatcher", "GET", f"/api/tickets/{overdue}")["events"]
    )
    _open(page, row, overdue)
    form = page.locator("#panel form[data-action=urge]")
    form.locator("button[type=submit]").click()
    expect(page.locator("#toast")).to_contain_text("已催办")
    expect(page.locator("#panel #timeline")).to_contain_text("催办")
    events = server.api("dispatcher", "GET", f"/api/tickets/{overdue}")["events"]
    assert sum(e["action"] == "urge" for e in events) == urges_before + 1

    # A new unroutable call shows up on the open page by itself.
    page.click('.group-tabs [data-group="pending-group"]')
    late = server.create(territory=None, title="出租车拒载（实时到达）")
    expect(page.locator(f'#pending-queue .row[data-number="{late["number"]}"]')).to_be_visible(timeout=10_000)
    assert page.evaluate("window.__sameDocument") is True
    assert page.errors == []


def test_the_dispatcher_refuses_a_return_and_denies_an_extension(browser, server):
    refused = server.create(title="出租车拒载（退单不同意演示）")
    server.act(BUREAU, refused["number"], "sign")
    server.act(BUREAU, refused["number"], "return", reason="认为应由市客运出租汽车管理处办理。")
    denied = server.create(title="出租车绕路（延期不同意演示）")
    server.act(BUREAU, denied["number"], "sign")
    server.act(BUREAU, denied["number"], "request-extension", working_days=10, reason="工作量大")
    old_due = server.api("dispatcher", "GET", f"/api/tickets/{denied['number']}")["deadlines"]["reply"]

    page = browser("dispatcher")
    _live(page)
    page.click('.group-tabs [data-group="returns-group"]')
    row = page.locator(f'#returns-queue .row[data-number="{refused["number"]}"]')
    _open(page, row, refused["number"])
    form = page.locator("#panel form[data-action=decide-return]")
    form.locator("input[name=accept][value=false]").check()
    form.locator("input[name=note]").fill("属地管理，请继续办理")
    form.locator("button[type=submit]").click()
    expect(row).to_have_count(0)
    after = server.api("dispatcher", "GET", f"/api/tickets/{refused['number']}")
    assert after["status"] == "in_progress" and after["unit"] == "320612-bureau"
    assert after["assignments"][0]["return_proper"] is False and len(after["assignments"]) == 1

    page.click('.group-tabs [data-group="extensions-group"]')
    row = page.locator(f'#extensions-queue .row[data-number="{denied["number"]}"]')
    _open(page, row, denied["number"])
    form = page.locator("#panel form[data-action=decide-extension]")
    form.locator("input[name=approve][value=false]").check()
    form.locator("button[type=submit]").click()
    expect(row).to_have_count(0)
    after = server.api("dispatcher", "GET", f"/api/tickets/{denied['number']}")
    assert after["deadlines"]["reply"] == old_due
    assert [e for e in after["events"] if e["action"] == "decide-extension"][-1]["approve"] is False
    assert page.errors == []


# --- manager -------------------------------------------------------------------------------------------------------

RATES = ("on_time_sign_rate", "on_time_reply_rate", "closure_rate", "satisfaction_rate", "resolution_rate")


def _run_report(page: Any, server: Server, start: str, end: str, group: str) -> dict[str, Any]:
    """Run the report from the form for the period and grouping; return what the API says for the same query."""
    page.select_option("#r-group", group)
    page.click("#report-run")
    expect(page.locator("#report-table")).to_have_attribute("data-state", "ok")
    return page.context.request.get(
        f"{server.base_url}/api/reports/closure?from={start}&to={end}&group_by={group}&format=json"
    ).json()


def _expect_rows(page: Any, report: dict[str, Any], rates: tuple[str, ...], *, names: bool = False) -> None:
    """The table shows the report's rows: received counts and the given rates as the console prints them."""
    table = page.locator("#report-table")
    expect(table.locator("tbody tr")).to_have_count(len(report["rows"]))
    for r in report["rows"]:
        tr = table.locator(f'tbody tr[data-group="{r["group"] or ""}"]')
        if names:
            expect(tr.locator("td").first).to_have_text(r["group_name"] or r["group"] or "（未填写）")
        expect(tr.locator('td[data-k="received"]')).to_have_text(str(r["received"]))
        for k in rates:
            expect(tr.locator(f'td[data-k="{k}"]')).to_have_text("—" if r[k] is None else _percent(r[k]))


def test_the_manager_report_matches_its_csv_and_xlsx_exports_and_the_charts_are_drawn(browser, server):
    page = browser("manager")
    _live(page)
    table = page.locator("#report-table")
    expect(table).to_have_attribute("data-state", "ok")
    today = datetime.now(TZ).date()
    start, end = (today - timedelta(days=120)).isoformat(), (today + timedelta(days=1)).isoformat()
    page.fill("#r-from", end)
    page.fill("#r-to", start)
    page.click("#report-run")
    expect(page.locator('#report-form .err[data-for="to"]')).to_have_text("截止日期应晚于起始日期")
    page.fill("#r-from", start)
    page.fill("#r-to", end)
    report = _run_report(page, server, start, end, "unit")
    assert len(report["rows"]) >= 10
    _expect_rows(page, report, RATES)
    shot(page, "manager-report")

    # The export buttons download what the screen shows: its headers, its percentages, its names, row by row.
    screen_header = table.locator("thead th").all_inner_texts()
    screen_rows = [tr.locator("td").all_inner_texts() for tr in table.locator("tbody tr, tfoot tr").all()]
    with page.expect_download() as download:
        page.click("#export-csv")
    assert download.value.suggested_filename.endswith(".csv")
    lines = list(csv.reader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig"))))
    header = lines[0]
    assert header[0] == "分组" and set(screen_header) <= set(header) and "p50_working_hours" not in header
    cols = [header.index(h) for h in screen_header]
    assert [[line[i] for i in cols] for line in lines[1:]] == screen_rows
    assert lines[-1][0] == "合计" and any(c.endswith("%") for c in lines[1])
    # columns=codes (for integrations): the field names and the JSON's raw values.
    codes = page.context.request.get(
        server.base_url + page.locator("#export-csv").get_attribute("href") + "&columns=codes"
    )
    rows = list(csv.DictReader(io.StringIO(codes.body().decode("utf-8-sig"))))
    assert [r["group"] for r in rows] == [r["group"] or "" for r in report["rows"]] + ["total"]
    for got, want in zip(rows, [*report["rows"], report["totals"]], strict=True):
        for metric in report["metrics"]:
            if want[metric] is None:
                assert got[metric] == "", (metric, got)
            else:
                assert float(got[metric]) == want[metric], (metric, got[metric], want[metric])

    with page.expect_download() as download:
        page.click("#export-xlsx")
    assert download.value.suggested_filename.endswith(".xlsx")
    book = openpyxl.load_workbook(io.BytesIO(download.value.path().read_bytes()))
    values = list(book["办结率统计"].iter_rows(values_only=True))
    header = list(values[0])
    assert set(screen_header) <= set(header)
    by_group = {row[0]: row for row in values[1:]}
    for want in report["rows"]:
        got = by_group[want["group_name"]]
        assert got[header.index("受理量")] == want["received"]
        assert got[header.index("办结率")] == want["closure_rate"]
    query = dict(book["查询条件"].iter_rows(values_only=True))
    assert query["起始时间（含）"] == f"{start} 00:00 北京时间" and query["截止时间（不含）"] == f"{end} 00:00 北京时间"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} 北京时间", query["统计时点"])

    # Charts are SVG drawn by the server: 12 weeks of bars, a unit x territory grid.
    expect(page.locator("#trend svg rect.bar.received")).to_have_count(12)
    units = len(server.api("manager", "GET", "/api/reference")["units"])
    cells = page.locator("#heatmap svg rect.cell")
    assert cells.count() >= units * 8
    heat_total = sum(cells.evaluate_all("els => els.map(e => +e.dataset.count)"))
    assert heat_total > 0
    assert heat_total <= _value(page, "#overdue-total")
    assert page.errors == []


def test_the_month_report_arrives_with_the_manager_page_and_matches_the_api(browser, server):
    page = browser("manager")
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/api/reports/closure" in r.url else None)
    page.goto(server.base_url + "/manager")
    page.wait_for_function("() => document.body.dataset.ready === '1'")
    expect(page.locator("#report-table")).to_have_attribute("data-state", "ok")
    assert asked == []  # drawn from the page itself, not from a second request
    start, end = page.input_value("#r-from"), page.input_value("#r-to")
    today = datetime.now(TZ).date()
    assert (start, end) == (today.replace(day=1).isoformat(), (today + timedelta(days=1)).isoformat())
    report = server.api("manager", "GET", f"/api/reports/closure?from={start}&to={end}&group_by=unit&format=json")
    assert report["rows"]
    _expect_rows(page, report, RATES, names=True)
    expect(page.locator('#report-table tfoot td[data-k="received"]')).to_have_text(str(report["totals"]["received"]))
    page.click("#report-run")  # a second run asks the API
    expect(page.locator("#report-table")).to_have_attribute("data-state", "ok")
    assert len(asked) == 1
    assert page.errors == []


def test_the_report_groups_by_territory_channel_category_and_kind_like_the_api(browser, server):
    page = browser("manager")
    _live(page)
    table = page.locator("#report-table")
    expect(table).to_have_attribute("data-state", "ok")
    today = datetime.now(TZ).date()
    start, end = (today - timedelta(days=60)).isoformat(), (today + timedelta(days=1)).isoformat()
    page.fill("#r-from", start)
    page.fill("#r-to", end)
    for group in ("territory", "channel", "category", "kind"):
        report = _run_report(page, server, start, end, group)
        assert report["rows"], group
        _expect_rows(page, report, ("closure_rate",), names=True)
        expect(table.locator('tfoot td[data-k="received"]')).to_have_text(str(report["totals"]["received"]))
    assert page.errors == []


def test_the_dashboard_breaks_overdue_items_down_by_unit_and_territory_and_lists_supervision(browser, server):
    page = browser("manager")
    _live(page)
    total = _value(page, "#overdue-total")
    assert total > 0  # the demo history has late tickets

    def rows(table: str) -> dict[str, int]:
        cells = page.locator(f"{table} tr").evaluate_all(
            "trs => trs.filter(tr => tr.cells.length === 2).map(tr => [tr.cells[0].innerText, +tr.cells[1].innerText])"
        )
        return dict(cells)

    by_unit, by_territory = rows("#overdue-by-unit"), rows("#overdue-by-territory")
    assert sum(by_unit.values()) == total and sum(by_territory.values()) == total
    names = server.api("manager", "GET", "/api/reference")
    unit_names = {u["name"] for u in names["units"]} | {"回访（呼叫中心）", "待派单（调度）"}
    territory_names = {t["name"] for t in names["territories"]} | {"未填写属地"}
    assert set(by_unit) <= unit_names and set(by_territory) <= territory_names
    assert list(by_unit.values()) == sorted(by_unit.values(), reverse=True)  # the worst first
    # 督办: the items two working days past their deadline, the longest overdue first (at most 50 listed; the tile
    # counts them all), each with its unit and how late it is.
    supervised = _value(page, "#supervision-total")
    links = page.locator("#supervision-list tr a")
    assert supervised > 0 and links.count() == min(50, supervised)
    texts = page.locator("#supervision-list tr").evaluate_all(
        "trs => trs.map(tr => [tr.cells[2].innerText, tr.cells[3].innerText])"
    )
    # A dispatch clock (a ticket waiting for dispatch, or a return under review) is the dispatchers': 调度派单.
    assert all(unit in unit_names | {"回访", "调度派单"} and "超期" in late for unit, late in texts), texts[:3]
    warning = _ladder(server, "warning")
    expect(page.locator(f'#supervision-list a[href="/tickets/{warning}"]')).to_have_count(0)
    assert page.errors == []


# --- speed and layout ----------------------------------------------------------------------------------------------

READY_MARK = "performance.getEntriesByName('hotline:ready', 'mark')[0].startTime"
NAV_TIMING = """() => { const n = performance.getEntriesByType('navigation')[0];
  return {server: n.responseEnd - n.requestStart, dcl: n.domContentLoadedEventEnd - n.startTime,
          load: n.loadEventEnd - n.startTime, bytes: n.transferSize}; }"""


def test_every_page_renders_in_under_300_ms_and_fits_1366_by_768(browser, server):
    supervision = _ladder(server, "supervision")
    pages = [
        ("agent", "/agent"),
        (BUREAU, "/handler"),
        ("dispatcher", "/dispatcher"),
        ("manager", "/manager"),
        (BUREAU, f"/tickets/{supervision}"),
        ("manager", f"/tickets/{supervision}"),
    ]
    timings: dict[str, dict[str, float]] = {}
    sessions: dict[str, Any] = {}
    for username, path in pages:
        page = sessions.get(username) or sessions.setdefault(username, browser(username))
        samples = []
        for _ in range(6):  # the first visit warms caches; the median of the rest is reported
            page.goto(server.base_url + path)
            page.wait_for_function("() => document.body.dataset.ready === '1'", polling=5)
            # Ready: the page's own data requests are in too (the manager's report, the queues' refresh). The page
            # marks that moment itself (HL.ready): reading performance.now() here instead would add the load event
            # goto waits for and two Playwright round trips (80-140 ms here under load) to what a user sees.
            ready = page.evaluate(READY_MARK)
            page.wait_for_load_state("load")
            samples.append({**page.evaluate(NAV_TIMING), "ready": ready})
        warm = samples[1:]
        timing = {k: round(statistics.median(s[k] for s in warm), 1) for k in ("server", "dcl", "load", "ready")}
        timings[f"{username} {path}"] = timing
        assert timing["dcl"] < 300, (path, timing)
        assert timing["ready"] < 300, (path, timing)
        assert timing["server"] < 300, (path, timing)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 1366, (path, width)
        name = "ticket" if path.startswith("/tickets/") else path.strip("/")
        shot(page, f"page-{name}-{username}")
        assert page.errors == []
    (ROOT / "artifacts" / "page-timings.json").write_text(json.dumps(timings, ensure_ascii=False, indent=1))
    print("\npage timings (ms, median of 5 warm loads):")
    for key, t in timings.items():
        print(f"  {key}: server {t['server']}, DOMContentLoaded {t['dcl']}, load {t['load']}, ready {t['ready']}")
