"""The bell (issue 23, item 5): the unread count and list of the user's notifications, mark-read, live notices for a
new dispatch, an urge, an extension decision and a return decision, desktop notifications once allowed, asked once."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import ROOT, Server

BUREAU = "handler-320612-bureau"  # taxi calls in 通州区 go to 通州区交通运输局

# Records what the page shows as desktop notifications (the real constructor still runs).
RECORD_DESKTOP = """
window.__desktop = [];
if (window.Notification) {
  const Real = window.Notification;
  window.Notification = class extends Real {
    constructor(title, options) { window.__desktop.push((options || {}).body); super(title, options); }
  };
}
"""


def _unread(server: Server, username: str) -> int:
    return server.api(username, "GET", "/api/notifications", params={"limit": 1})["unread"]


def _sweep(server: Server) -> int:
    """The worker's catch-up sweep, once (tests/e2e/sweep.py): records due steps and tells their people."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.e2e.sweep"], cwd=ROOT, env=server.env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return int(done.stdout.strip().splitlines()[-1])


def _ready(page: Any, server: Server, path: str) -> None:
    page.goto(server.base_url + path)
    page.wait_for_function("() => document.body.dataset.ready === '1'")
    expect(page.locator("#live-status")).to_have_attribute("data-state", "connected", timeout=10_000)


def _notice(page: Any, text: str, number: str) -> None:
    expect(page.locator(f'#notices .notice[data-number="{number}"]', has_text=text)).to_have_count(1)


def test_live_notices_and_desktop_notifications_for_dispatch_urge_and_decisions(browser, server):
    page = browser(BUREAU)
    page.context.grant_permissions(["notifications"], origin=server.base_url)
    page.add_init_script(RECORD_DESKTOP)
    _ready(page, server, "/handler")
    other = browser("handler-320614-bureau")  # another unit hears nothing of these tickets
    _ready(other, server, "/handler")
    dispatcher = browser("dispatcher")
    _ready(dispatcher, server, "/dispatcher")
    expect(page.locator("#bell-desktop")).to_be_hidden()  # already allowed: nothing to ask

    ticket = server.create(title="通知测试：派单")["number"]
    _notice(page, "新派单", ticket)
    server.act("dispatcher", ticket, "urge", note="请尽快处理")
    _notice(page, "催办", ticket)
    # Stored too: the bell's count follows, live, and its list names the urge.
    expect(page.locator("#bell")).to_have_attribute("data-unread", str(_unread(server, BUREAU)))
    latest = server.api(BUREAU, "GET", "/api/notifications", params={"limit": 1})["items"][0]
    assert latest["kind"] == "urge" and latest["ticket"] == ticket
    server.act(BUREAU, ticket, "sign")
    server.act(BUREAU, ticket, "request-extension", working_days=3, reason="需调取监控")
    _notice(dispatcher, "延期待审批", ticket)  # the dispatcher hears of what waits for a decision
    server.act("dispatcher", ticket, "decide-extension", approve=True)
    _notice(page, "延期申请已批准", ticket)

    waiting = server.create(title="通知测试：待派单", category=None, kind="help")
    assert waiting["status"] == "pending_dispatch"
    _notice(dispatcher, "新工单待派单", waiting["number"])
    expect(other.locator("#notices .notice")).to_have_count(0)
    expect(page.locator(f'#notices .notice[data-number="{waiting["number"]}"]')).to_have_count(0)

    returned = server.create(title="通知测试：退单")["number"]
    _notice(page, "新派单", returned)
    server.act(BUREAU, returned, "return", reason="不属本单位职责")
    _notice(dispatcher, "退单待审", returned)
    server.act("dispatcher", returned, "decide-return", accept=False)
    _notice(page, "退单未同意", returned)

    shown = page.evaluate("() => window.__desktop")
    for text in ("新派单", "催办", "延期申请已批准", "退单未同意"):
        assert any(text in (s or "") for s in shown), (text, shown)
    # A notice opens its ticket.
    page.locator(f'#notices .notice[data-number="{returned}"]', has_text="退单未同意").click()
    page.wait_for_url(f"**/tickets/{returned}")
    assert page.errors == []


def test_the_bell_counts_lists_and_marks_read_and_asks_for_desktop_notifications_once(browser, server):
    # The demo's 时限演示 tickets are late: once the sweep records their steps, their unit's handler is told
    # (站内通知), live, with the page open.
    overdue = server.api("dispatcher", "GET", "/api/tickets", params={"q": "时限演示：超期", "limit": 5})["items"]
    assert len(overdue) == 1
    handler = f"handler-{overdue[0]['unit']}"
    page = browser(handler)
    _ready(page, server, "/handler")
    before = _unread(server, handler)
    expect(page.locator("#bell")).to_have_attribute("data-unread", str(before))
    _sweep(server)
    unread = _unread(server, handler)
    assert unread > 0
    expect(page.locator("#bell")).to_have_attribute("data-unread", str(unread))
    expect(page.locator("#bell-count")).to_have_text(str(unread) if unread < 100 else "99+")
    if unread > before:  # told live: a notice too
        expect(page.locator("#notices .notice").first).to_contain_text("工单")

    page.click("#bell")
    expect(page.locator("#bell-panel")).to_be_visible()
    expect(page.locator("#bell-panel")).to_have_attribute("data-loaded", "1")
    listed = server.api(handler, "GET", "/api/notifications", params={"limit": 30})["items"]
    items = page.locator("#bell-list li[data-id]")
    expect(items).to_have_count(len(listed))
    expect(page.locator("#bell-list li.unread")).to_have_count(sum(1 for n in listed if not n["read"]))
    assert items.first.inner_text().startswith(listed[0]["title"])

    # Desktop notifications: offered once; the answer is the browser's, the question is not asked again.
    expect(page.locator("#bell-desktop")).to_be_visible()
    page.click("#bell-desktop")
    expect(page.locator("#bell-desktop")).to_be_hidden()

    page.click("#bell-read-all")
    expect(page.locator("#bell-count")).to_be_hidden()
    expect(page.locator("#bell")).to_have_attribute("data-unread", "0")
    assert _unread(server, handler) == 0
    page.reload()
    page.wait_for_function("() => document.body.dataset.ready === '1'")
    page.click("#bell")
    expect(page.locator("#bell-panel")).to_have_attribute("data-loaded", "1")
    expect(page.locator("#bell-list li.unread")).to_have_count(0)
    expect(page.locator("#bell-desktop")).to_be_hidden()  # asked once
    assert page.errors == []
