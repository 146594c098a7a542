"""A ticket's 办理单 printed on one A4 page, and the queue pages' keyboard shortcuts (issue 23, item 10)."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import Server, shot

BUREAU = "handler-320612-bureau"  # taxi calls in 通州区 go to 通州区交通运输局
# A4 inside print.css's margins (11/12 mm top/bottom, 12 mm each side), in CSS pixels (96 per inch)
A4_CONTENT = {"width": round((210 - 24) / 25.4 * 96), "height": round((297 - 23) / 25.4 * 96)}
REPLY = "经调取行车记录仪核实，驾驶员确有拒载行为，已依规处罚并责令其向乘客道歉，乘客表示接受。"


def _pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))


def _worked_ticket(server: Server) -> str:
    """A ticket with a shift's worth of history: signed, notes, an urge, an extension asked and granted, replied."""
    number = server.create(
        title="出租车拒载并辱骂乘客",
        content="乘客于晚高峰在通州区金沙镇汽车站打车，驾驶员以不顺路为由拒载，并出言辱骂，要求核实处理并回复。",
    )["number"]
    server.act(BUREAU, number, "sign")
    for text in ("已电话联系乘客，核实上车时间与地点。", "已调取车辆GPS轨迹。", "已约谈驾驶员及所属公司。"):
        server.act(BUREAU, number, "note", text=text)
    server.act("dispatcher", number, "urge", note="乘客再次来电，请加快办理。")
    server.act(BUREAU, number, "request-extension", working_days=2, reason="需等待公司提交行车记录仪视频。")
    server.act("dispatcher", number, "decide-extension", approve=True, note="同意延期。")
    server.act(BUREAU, number, "reply", outcome="resolved", content=REPLY)
    return number


def test_the_ticket_prints_as_one_a4_page_with_its_timeline_and_reply_and_no_buttons(browser, server):
    number = _worked_ticket(server)
    page = browser(BUREAU)
    page.goto(f"{server.base_url}/tickets/{number}")
    expect(page.locator("body")).to_have_attribute("data-ready", "1")
    button = page.get_by_role("button", name="打印办理单")
    expect(button).to_be_visible()
    expect(page.locator(".print-head")).to_be_hidden()
    # The button opens the browser's print dialog.
    page.evaluate("() => { window.__printed = 0; window.print = () => { window.__printed += 1; }; }")
    button.click()
    assert page.evaluate("window.__printed") == 1

    page.emulate_media(media="print")
    page.set_viewport_size(A4_CONTENT)  # laid out as on the sheet
    expect(button).to_be_hidden()
    expect(page.locator(".topbar")).to_be_hidden()
    assert page.locator("button:visible, form:visible, nav:visible").count() == 0
    head = page.locator(".print-head")
    expect(head).to_be_visible()
    expect(head).to_contain_text("工单办理单")
    expect(head).to_contain_text(number)
    expect(page.locator("#printed-at")).to_have_text(re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d$"))
    expect(page.locator("#reply-box")).to_contain_text(REPLY)
    timeline = page.locator("#timeline li")
    assert timeline.count() >= 9, timeline.all_inner_texts()
    for text in ("签收", "催办", "申请延期", "延期审批", "答复", "已约谈驾驶员及所属公司。"):
        expect(page.locator("#timeline")).to_contain_text(text)
    # Everything is on the page: nothing scrolled away inside the panel, the last line above the page's foot.
    assert page.evaluate("(el => el.scrollHeight <= el.clientHeight + 1)(document.getElementById('panel'))")
    foot = page.locator(".print-foot")
    expect(foot).to_be_visible()
    for last in (foot, timeline.last, page.locator("#reply-box")):
        box = last.bounding_box()
        assert box and box["y"] + box["height"] <= A4_CONTENT["height"], (box, A4_CONTENT)
    shot(page, "ticket-print")
    pdf = page.pdf(format="A4", print_background=False)
    assert pdf.startswith(b"%PDF") and _pages(pdf) == 1
    assert page.errors == []


def _selected(page: Any) -> str:
    expect(page.locator("#panel")).not_to_have_attribute("aria-busy", "true")
    selected = page.locator(".list-col .row.selected")
    expect(selected).not_to_have_count(0)
    numbers = set(selected.evaluate_all("els => els.map(e => e.dataset.number)"))
    assert len(numbers) == 1, numbers  # one ticket (a queue may list a ticket twice: issue 23, item 2)
    number = numbers.pop()
    expect(page.locator("#panel article.ticket")).to_have_attribute("data-number", number)
    return number


def test_the_queue_pages_shortcuts_move_sign_and_reply_and_are_listed_behind_a_question_mark(browser, server):
    fresh = server.create(title="快捷键测试：出租车绕路", content="乘客反映出租车绕路多收费。")["number"]
    page = browser(BUREAU)
    page.goto(server.base_url + "/handler")
    expect(page.locator("body")).to_have_attribute("data-ready", "1")
    rows = page.locator("#handler-queue .row[data-number]")
    expect(rows.nth(2)).to_be_visible()
    order = rows.evaluate_all("els => els.map(e => e.dataset.number)")

    help_ = page.locator("#shortcut-help")
    expect(help_).to_be_hidden()
    page.keyboard.press("?")
    expect(help_).to_be_visible()
    for words in ("下一张工单", "上一张工单", "签收当前工单", "填写答复"):
        expect(help_).to_contain_text(words)
    shot(page, "handler-shortcuts")
    page.keyboard.press("j")  # the overlay is open: no ticket moves under it
    expect(page.locator(".list-col .row.selected")).to_have_count(0)
    page.keyboard.press("Escape")
    expect(help_).to_be_hidden()
    page.locator(".shortcut-hint").click()
    expect(help_).to_be_visible()
    page.keyboard.press("?")
    expect(help_).to_be_hidden()

    page.keyboard.press("j")
    assert _selected(page) == order[0]
    page.keyboard.press("j")
    assert _selected(page) == order[1]
    page.keyboard.press("ArrowDown")
    assert _selected(page) == order[2]
    page.keyboard.press("k")
    assert _selected(page) == order[1]
    page.keyboard.press("ArrowUp")
    assert _selected(page) == order[0]
    page.keyboard.press("k")  # the first stays the first
    assert _selected(page) == order[0]

    # s signs the open ticket, r puts the cursor in its reply, where letters are only text.
    row = page.locator(f'#handler-queue .row[data-number="{fresh}"]')
    expect(row).to_be_visible()
    row.locator("a.row-link").click()
    assert _selected(page) == fresh
    expect(page.locator("#panel article.ticket")).to_have_attribute("data-status", "dispatched")
    page.keyboard.press("r")
    expect(page.locator("#toast")).to_have_text("该工单当前不能答复")
    page.keyboard.press("s")
    expect(page.locator("#panel article.ticket")).to_have_attribute("data-status", "in_progress")
    expect(page.locator("#panel")).not_to_have_attribute("aria-busy", "true")
    assert server.api(BUREAU, "GET", f"/api/tickets/{fresh}")["status"] == "in_progress"
    page.keyboard.press("r")
    reply = page.locator("#panel form[data-action=reply] textarea[name=content]")
    expect(reply).to_be_focused()
    page.keyboard.type("jks?")
    expect(reply).to_have_value("jks?")
    assert _selected(page) == fresh
    expect(help_).to_be_hidden()
    page.keyboard.press("Escape")  # leaves the field: the keys work again
    expect(reply).not_to_be_focused()
    page.keyboard.press("?")
    expect(help_).to_be_visible()
    assert page.errors == []


def test_the_dispatchers_shortcuts_walk_the_list_whose_tab_is_open(browser, server):
    page = browser("dispatcher")
    page.goto(server.base_url + "/dispatcher")
    expect(page.locator("body")).to_have_attribute("data-ready", "1")
    pending = page.locator("#pending-queue .row[data-number]")
    expect(pending.first).to_be_visible()
    page.keyboard.press("j")
    assert _selected(page) == pending.first.get_attribute("data-number")
    page.locator('.group-tabs [data-group="risk-group"]').click()
    risk = page.locator("#risk-group .row[data-number]")
    expect(risk.first).to_be_visible()
    numbers = risk.evaluate_all("els => els.map(e => e.dataset.number)")
    selected = _selected(page)
    # A waiting ticket overdue on its dispatch clock is in 预警与超期 too: j goes on from it there; a selected ticket
    # that is not in the open list starts it at its first.
    start = numbers.index(selected) + 1 if selected in numbers else 0
    page.keyboard.press("j")
    assert _selected(page) == numbers[start]
    page.keyboard.press("j")
    assert _selected(page) == numbers[start + 1]
    page.keyboard.press("s")
    expect(page.locator("#toast")).to_have_text("该工单当前不能签收")
    assert page.errors == []
