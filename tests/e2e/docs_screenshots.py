"""Screenshots for the README: the agent, handler and manager pages (docs/screenshots/{agent,handler,manager}.png),
the citizen page on a 390 px phone screen (docs/screenshots/public-{submit,progress}.png) and the administrator's
console at 1440 px (docs/screenshots/admin-*.png).

    .venv/bin/python -m tests.e2e.docs_screenshots [--pages console|public|admin]

Uses the browser tests' database and server (the same demo data). Run pngquant over them when it is installed
(Debian's `pngquant`), so the committed files stay small.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from typing import Any

from playwright.sync_api import expect, sync_playwright

from tests.e2e.conftest import ROOT, launch, running_server, sign_in

DOCS = ROOT / "docs" / "screenshots"
PHONE = {"width": 390, "height": 844}


def public(server: Any, p: Any) -> list[str]:
    """A citizen fills in the form on a phone, then checks the case after the unit replied."""
    context = launch(p, tempfile.mkdtemp(prefix="hotline-docs-"))
    page = context.pages[0]
    page.set_viewport_size(PHONE)
    page.goto(server.base_url + "/public/")
    page.get_by_label("投诉").check()
    page.get_by_label("问题类别").select_option(label="城市公交")
    page.get_by_label("发生地（区、县、市）").select_option(label="海安市")
    page.get_by_label("标题").fill("公交车到站不停")
    page.get_by_label("具体内容").fill(
        "12月2日早上7点40分，海安5路公交在人民路站不停靠，车上还有空位，站台十几个人没能上车。"
    )
    page.get_by_label("详细地址").fill("海安市人民路公交站")
    page.get_by_label("手机号码或固定电话").fill("13962881234")
    page.get_by_label("称呼（可选）").fill("李先生")
    page.screenshot(path=str(DOCS / "public-submit.png"), full_page=True)
    page.get_by_role("button", name="提交").click()
    expect(page.locator("#submit-result")).to_be_visible()
    number = page.locator("#submit-number").inner_text()
    server.act("handler-320685-bureau", number, "sign")
    server.act(
        "handler-320685-bureau",
        number,
        "reply",
        outcome="resolved",
        content="经调取车载视频核实，驾驶员未按规定进站停靠，已停岗培训并扣减当月考核分。",
    )
    page.get_by_role("button", name="查询这件的进度").click()
    expect(page.locator("#r-reply")).to_be_visible()
    page.evaluate("window.scrollBy(0, document.getElementById('progress-result').getBoundingClientRect().top - 12)")
    page.wait_for_timeout(300)
    page.screenshot(path=str(DOCS / "public-progress.png"))
    context.close()
    return ["public-submit", "public-progress"]


def console(server: Any, p: Any) -> list[str]:
    """The agent, handler and manager pages at 1366x768 from the demo data."""

    def page_for(username: str):  # noqa: ANN202
        context = launch(p, tempfile.mkdtemp(prefix="hotline-docs-"))
        page = context.pages[0]
        sign_in(page, server, username)
        expect(page.locator("#live-status")).to_have_attribute("data-state", "connected")
        return page

    earlier = server.api(
        "agent",
        "GET",
        "/api/tickets",
        params={"status": "in_progress", "category": "taxi", "territory": "320612", "limit": 1},
    )["items"][0]
    agent = page_for("agent")
    agent.locator("#f-phone").press_sequentially(earlier["caller"]["phone"])
    agent.fill("#f-name", earlier["caller"]["name"] or "")
    agent.locator("input[name=kind]").first.focus()
    agent.keyboard.press("3")
    agent.locator("#f-category").fill("出租")
    agent.keyboard.press("Enter")
    agent.locator("#f-territory").fill("通州")
    agent.keyboard.press("Enter")
    agent.fill("#f-content", "上周反映的出租车拒载问题，司机今天又在万达广场拒载，车牌苏F6E789。")
    expect(agent.locator("#earlier li[data-number]").first).to_be_visible()
    expect(agent.locator("#route-preview")).to_contain_text("通州区交通运输局")
    agent.wait_for_timeout(800)
    agent.screenshot(path=str(DOCS / "agent.png"))

    handler = page_for("handler-320612-bureau")
    number = server.api("dispatcher", "GET", "/api/tickets", params={"q": "时限演示：督办"})["items"][0]["number"]
    handler.locator(f'#handler-queue .row[data-number="{number}"] a.row-link').click()
    expect(handler.locator("#panel article.ticket")).to_have_attribute("data-number", number)
    handler.locator("#panel tr.clock[data-clock=reply] + tr details.explain summary").click()
    handler.screenshot(path=str(DOCS / "handler.png"))

    manager = page_for("manager")
    expect(manager.locator("#report-table")).to_have_attribute("data-state", "ok")
    # The page scrolls inside its main area; a taller window shows the report under the dashboard.
    height = manager.evaluate("document.querySelector('main').scrollHeight + 60")
    manager.set_viewport_size({"width": 1366, "height": min(height, 1600)})
    manager.wait_for_timeout(300)
    manager.screenshot(path=str(DOCS / "manager.png"))
    return ["agent", "handler", "manager"]


def admin(server: Any, p: Any) -> list[str]:
    """The administrator's console at 1440x900: accounts just after creating a handler, a unit's and a territory's
    edit form, the routing trial, an SLA edit's preview and a typhoon day's preview."""
    context = launch(p, tempfile.mkdtemp(prefix="hotline-docs-"))
    page = context.pages[0]
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, server, "admin")
    expect(page.locator("body")).to_have_attribute("data-ready", "1")
    page.fill("#f-username", "zhang.wei")
    page.fill("#f-display", "张伟（通州区交通运输局）")
    page.select_option("#f-role", "handler")
    page.select_option("#f-unit", label="通州区交通运输局")
    page.click("#account-save")
    expect(page.locator("#secret")).to_be_visible()
    page.wait_for_timeout(300)
    page.screenshot(path=str(DOCS / "admin-accounts.png"))
    page.click("#secret-close")
    page.click('.admin-tabs .tab[data-tab="units"]')
    page.locator('#units-table tr[data-unit="320612-bureau"] button[data-act="edit"]').click()
    page.fill("#u-person", "王科长")
    page.fill("#u-phone", "0513-86123456")
    page.wait_for_timeout(300)
    page.screenshot(path=str(DOCS / "admin-units.png"))
    page.click("#unit-cancel")
    page.click('.admin-tabs .tab[data-tab="territories"]')
    page.locator('#territories-table tr[data-territory="320614"] button[data-act="edit"]').click()
    expect(page.locator("#tr-name")).to_be_focused()
    page.wait_for_timeout(300)
    page.screenshot(path=str(DOCS / "admin-territories.png"))
    page.click("#territory-cancel")
    page.click('.admin-tabs .tab[data-tab="routing"]')
    page.select_option("#t-category", label="出租汽车")
    page.select_option("#t-territory", label="通州区")
    page.click("#route-test button[type=submit]")
    expect(page.locator("#route-result")).to_be_visible()
    page.locator("#rules-table tr.current").scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    page.screenshot(path=str(DOCS / "admin-routing.png"))
    page.click('.admin-tabs .tab[data-tab="sla"]')
    expect(page.locator('#sla-table tr[data-id="reply-help"]')).to_be_visible()
    page.locator('#sla-table tr[data-id="reply-help"] .sla-limit').fill("8")
    page.fill("#sla-reason", "求助件办理时限由10个工作日调整为8个工作日")
    page.click("#sla-preview")
    expect(page.locator("#sla-preview-result")).to_be_visible()
    page.wait_for_timeout(300)
    page.screenshot(path=str(DOCS / "admin-sla.png"))
    page.click('.admin-tabs .tab[data-tab="calendar"]')
    page.fill("#cal-date", "2026-12-09")
    page.fill("#cal-reason", "台风红色预警，通州区停工停课一天")
    page.locator('#cal-territories input[value="320612"]').check()
    page.click("#cal-form button[type=submit]")
    expect(page.locator("#cal-moved")).to_be_visible()
    page.wait_for_timeout(300)
    page.screenshot(path=str(DOCS / "admin-calendar.png"))
    context.close()
    return ["admin-accounts", "admin-units", "admin-territories", "admin-routing", "admin-sla", "admin-calendar"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", choices=["all", "console", "public", "admin"], default="all")
    which = parser.parse_args().pages
    DOCS.mkdir(parents=True, exist_ok=True)
    names: list[str] = []
    with running_server() as server, sync_playwright() as p:
        if which in ("all", "console"):
            names += console(server, p)
        if which in ("all", "public"):
            names += public(server, p)
        if which in ("all", "admin"):
            names += admin(server, p)
    _finish(names)


def _finish(names: list[str]) -> None:
    if shutil.which("pngquant"):
        for name in names:
            subprocess.run(
                [
                    "pngquant",
                    "--force",
                    "--quality",
                    "65-90",
                    "--strip",
                    "--output",
                    str(DOCS / f"{name}.png"),
                    str(DOCS / f"{name}.png"),
                ],
                check=True,
            )
    for name in names:
        print(DOCS / f"{name}.png", (DOCS / f"{name}.png").stat().st_size, "bytes")


if __name__ == "__main__":
    main()
