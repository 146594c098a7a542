"""The dispatcher's pending list with each ticket's wait and its dispatch deadline (派单时限), coloured as the other
clocks are; an overdue wait in 预警与超期; correcting a waiting ticket's territory (issue 23, item 1)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import shot


def _live(page: Any) -> None:
    expect(page.locator("#live-status")).to_have_attribute("data-state", "connected", timeout=10_000)


def _overdue_waiting(server: Any) -> str:
    """The demo ticket that has waited longest past its dispatch deadline (the demo data leaves some waiting): the
    first of the lists sorted by deadline."""
    items = server.api("dispatcher", "GET", "/api/tickets", params={"status": "pending_dispatch", "limit": 200})
    now = datetime.now(UTC)
    late = []
    for t in items["items"]:
        clock = server.api("dispatcher", "GET", f"/api/tickets/{t['number']}")["clocks"].get("dispatch")
        if clock and datetime.fromisoformat(clock["due_at"]) < now:
            late.append((datetime.fromisoformat(clock["due_at"]), t["number"]))
    assert late, "the demo data left no ticket waiting past its dispatch deadline"
    return min(late)[1]


def test_the_pending_list_shows_each_wait_and_its_dispatch_deadline_in_the_ladders_colours(browser, server):
    fresh = server.create(territory=None, urgent=True, title="出租车拒载（未填属地，紧急）")
    assert fresh["status"] == "pending_dispatch"
    due = server.api("dispatcher", "GET", f"/api/tickets/{fresh['number']}")["clocks"]["dispatch"]["due_at"]
    late = _overdue_waiting(server)

    page = browser("dispatcher")
    page.goto(f"{server.base_url}/dispatcher")
    _live(page)
    row = page.locator(f'#pending-queue .row[data-number="{fresh["number"]}"]')
    countdown = row.locator('.cd[data-clock="dispatch"]')
    expect(countdown).to_contain_text("派单")
    expect(countdown).to_contain_text(re.compile(r"剩余1[0-5]分|剩余\d+秒"))  # 15 natural minutes, just started
    assert datetime.fromisoformat(countdown.get_attribute("data-due")) == datetime.fromisoformat(due)
    expect(row.locator(".age")).to_contain_text("已等待")
    expect(row).to_have_class(re.compile(r"\bstep-ok\b"))

    old = page.locator(f'#pending-queue .row[data-number="{late}"]')
    expect(old).to_have_class(re.compile(r"\bstep-(overdue|supervision)\b"))
    expect(old.locator('.cd[data-clock="dispatch"]')).to_contain_text("已超时")
    expect(old.locator(".badge")).to_contain_text(re.compile("超期|督办"))
    shot(page, "dispatcher-pending-clocks")
    # The same wait is in 预警与超期, where urges are sent from.
    page.click('.group-tabs [data-group="risk-group"]')
    risk = page.locator(f'#risk-queue .row[data-number="{late}"]')
    expect(risk).to_contain_text("派单")
    expect(risk).to_contain_text("调度派单")


def test_the_dispatcher_fills_in_a_missing_territory_and_sees_the_new_suggestion(browser, server):
    pending = server.create(territory=None, title="出租车拒载（待更正属地）")
    page = browser("dispatcher")
    page.goto(f"{server.base_url}/tickets/{pending['number']}")
    expect(page.locator("body")).to_have_attribute("data-ready", "1")
    expect(page.locator('.clock-table tr.clock[data-clock="dispatch"]')).to_contain_text("派单")
    form = page.locator("form[data-action=reclassify]")
    form.locator("summary").click()
    form.locator("select[name=territory]").select_option("320612")
    form.locator("button[type=submit]").click()
    expect(page.locator("#timeline")).to_contain_text("属地由未填写改为通州区", timeout=10_000)
    expect(page.locator("#timeline")).to_contain_text("推荐承办单位：通州区交通运输局")
    t = server.api("dispatcher", "GET", f"/api/tickets/{pending['number']}")
    assert t["territory"] == "320612" and t["routing"]["unit"] == "320612-bureau" and t["status"] == "pending_dispatch"


def test_while_a_return_is_reviewed_the_panel_says_the_units_clock_is_paused(browser, server):
    t = server.create(title="出租车拒载（退单待审）")
    server.act("handler-320612-bureau", t["number"], "return", reason="该路段属海门区管辖")
    page = browser("dispatcher")
    page.goto(f"{server.base_url}/tickets/{t['number']}")
    expect(page.locator("body")).to_have_attribute("data-ready", "1")
    expect(page.locator("#review-note")).to_contain_text("本单位的签收、办结时限暂停计时")
    sign = page.locator('.clock-table tr.clock[data-clock="sign"]')
    expect(sign).to_contain_text("暂停计时")
    expect(sign.locator(".cd")).to_have_attribute("data-ticking", "0")
    expect(page.locator('.clock-table tr.clock[data-clock="dispatch"]')).to_contain_text("剩余")  # the review's own
    shot(page, "return-review-paused")
    server.act("dispatcher", t["number"], "decide-return", accept=False, proper=False, note="属地管理，请继续办理")
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-ready", "1")
    expect(page.locator("#review-note")).to_have_count(0)
    expect(page.locator('.clock-table tr.clock[data-clock="sign"]')).not_to_contain_text("暂停计时")
    expect(page.locator('.clock-table tr.clock[data-clock="dispatch"]')).to_have_count(0)
