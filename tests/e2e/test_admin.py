"""Browser tests of the administrator's console at /admin: accounts (a handler created, signing in with the
one-time password, seeing the unit's queue, deactivated and signed out of the open page at once), a unit renamed,
routing rules added and deactivated, with the trial of the live router."""

from __future__ import annotations

import re
import subprocess
import sys
import uuid
from datetime import datetime, timedelta
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import ROOT, Server, shot, sign_in

WIDE = {"width": 1440, "height": 900}


def _admin(browser: Any, server: Server) -> Any:
    page = browser("admin")
    page.set_viewport_size(WIDE)
    expect(page).to_have_url(server.base_url + "/admin")
    expect(page.locator("body")).to_have_attribute("data-ready", "1")
    page.on("dialog", lambda dialog: dialog.accept())
    return page


def test_an_admin_creates_a_handler_who_sees_the_units_queue_and_is_signed_out_when_deactivated(browser, server):
    admin = _admin(browser, server)
    username = f"e2e-{uuid.uuid4().hex[:8]}"
    # Client checks first, in Chinese, naming the field.
    admin.click("#account-save")
    expect(admin.locator('#account-form .err[data-for="username"]')).not_to_be_empty()
    admin.fill("#f-username", username)
    admin.fill("#f-display", "通州区承办员（测试）")
    admin.select_option("#f-role", "handler")
    expect(admin.locator("#f-unit-field")).to_be_visible()
    expect(admin.locator("#f-channel-field")).to_be_hidden()
    admin.click("#account-save")
    expect(admin.locator('#account-form .err[data-for="unit"]')).to_have_text("承办单位账号须选择单位")
    admin.select_option("#f-unit", label="通州区交通运输局")
    admin.click("#account-save")
    expect(admin.locator("#secret")).to_be_visible()
    expect(admin.locator("#secret-user")).to_have_text(username)
    one_time = admin.locator("#secret-password").inner_text()
    assert len(one_time) == 12
    row = admin.locator(f'#accounts-table tr[data-username="{username}"]')
    expect(row).to_contain_text("通州区交通运输局")
    expect(row).to_contain_text("待改密码")
    expect(admin.locator("#changes")).to_contain_text(f"新建账号 {username}")
    # The same name again is refused by the server, next to the field.
    admin.click("#secret-close")
    admin.fill("#f-username", username)
    admin.fill("#f-display", "重复")
    admin.select_option("#f-role", "agent")
    admin.click("#account-save")
    expect(admin.locator('#account-form .err[data-for="username"]')).to_have_text("用户名已被使用")

    ticket = server.create(title=f"管理员测试 {username}")  # a taxi call in 通州区: 通州区交通运输局's queue
    handler = browser(None)
    sign_in(handler, server, username, one_time)
    expect(handler.locator("#pw-username")).to_have_text(username)
    handler.fill("#password", one_time)
    handler.fill("#new_password", "short")
    handler.fill("#new_password2", "short")
    handler.click("#password-form button[type=submit]")
    expect(handler.locator("#new_password-error")).to_have_text("新密码至少10位")
    handler.fill("#password", one_time)
    handler.fill("#new_password", "e2e-own-password")
    handler.fill("#new_password2", "e2e-own-password")
    handler.click("#password-form button[type=submit]")
    expect(handler).to_have_url(server.base_url + "/handler")
    expect(handler.locator(".who .user")).to_contain_text("通州区承办员（测试）")
    expect(handler.locator(f'#handler-queue .row[data-number="{ticket["number"]}"]')).to_be_visible()
    expect(handler.locator("#live-status")).to_have_attribute("data-state", "connected")

    admin.reload()
    expect(admin.locator("body")).to_have_attribute("data-ready", "1")
    admin.fill("#a-q", username)
    admin.click("#account-search button[type=submit]")
    expect(admin.locator("#accounts-table tbody tr")).to_have_count(1)
    row = admin.locator(f'#accounts-table tr[data-username="{username}"]')
    expect(row).not_to_contain_text("待改密码")
    row.locator('button[data-act="deactivate"]').click()
    expect(row).to_contain_text("已停用")
    expect(admin.locator("#changes")).to_contain_text("状态：启用 → 停用")
    # The handler's open page does nothing: its live feed ends and the page goes to sign-in by itself.
    expect(handler).to_have_url(re.compile(r"/login\?expired=1"), timeout=8_000)
    sign_in(handler, server, username, "e2e-own-password")
    expect(handler.locator("#password-error")).to_have_text("用户名或密码错误")

    row.locator('button[data-act="activate"]').click()
    expect(row).to_contain_text("启用")
    row.locator('button[data-act="reset"]').click()
    expect(admin.locator("#secret")).to_be_visible()
    assert admin.locator("#secret-password").inner_text() != one_time
    assert admin.errors == [] and handler.errors == []


def test_the_routing_rules_are_listed_in_order_and_the_trial_names_the_unit_and_the_rule(browser, server):
    admin = _admin(browser, server)
    admin.click('.admin-tabs .tab[data-tab="routing"]')
    expect(admin.locator("#routing")).to_be_visible()
    expect(admin.locator("#accounts")).to_be_hidden()
    rules = admin.locator("#rules-table tbody tr")
    assert rules.count() > 10
    admin.click("#route-test button[type=submit]")
    expect(admin.locator('#route-test .err[data-for="category"]')).to_have_text("请选择业务类别")
    admin.select_option("#t-category", label="出租汽车")
    admin.select_option("#t-territory", label="通州区")
    admin.click("#route-test button[type=submit]")
    expect(admin.locator("#route-unit")).to_have_text("通州区交通运输局")
    rule_id = admin.locator("#route-result").get_attribute("data-rule")
    decision = server.api("admin", "GET", "/api/admin/routing-test", params={"category": "taxi", "territory": "320612"})
    assert rule_id == str(decision["rule"]["id"])
    expect(admin.locator(f'#rules-table tr[data-rule="{rule_id}"]')).to_have_class("current")
    expect(admin.locator("#route-rule")).to_contain_text(f"规则 #{rule_id}")
    shot(admin, "admin-routing")
    assert admin.errors == []


def test_an_admin_renames_a_unit_and_its_tickets_show_the_new_name(browser, server):
    code, new_name = "city-highway", "市高速公路管理处（测试更名）"
    before = next(u for u in server.api("admin", "GET", "/api/admin/units")["items"] if u["code"] == code)
    ticket = server.create(category="highway", title="高速公路护栏损坏")
    assert ticket["unit"] == code
    admin = _admin(browser, server)
    admin.click('.admin-tabs .tab[data-tab="units"]')
    expect(admin.locator("#units")).to_be_visible()
    row = admin.locator(f'#units-table tr[data-unit="{code}"]')
    expect(row).to_contain_text(before["name"])
    try:
        # Keyboard only: the row's edit button, then the form's fields, then Enter to save.
        row.locator('button[data-act="edit"]').focus()
        admin.keyboard.press("Enter")
        expect(admin.locator("#u-name")).to_be_focused()
        expect(admin.locator("#u-name")).to_have_value(before["name"])
        expect(admin.locator("label[for=u-name]")).to_have_text("单位名称")
        admin.fill("#u-name", " ")
        admin.locator("#u-name").press("Enter")
        expect(admin.locator('#unit-form .err[data-for="name"]')).to_have_text("请输入单位名称")
        admin.fill("#u-name", new_name)
        admin.keyboard.press("Tab")
        admin.keyboard.type("李主任")
        admin.keyboard.press("Tab")
        admin.keyboard.type("call me")
        admin.keyboard.press("Enter")
        expect(admin.locator('#unit-form .err[data-for="contact_phone"]')).to_contain_text("联系电话")
        admin.fill("#u-phone", "0513-86000000")
        admin.locator("#u-phone").press("Enter")
        expect(row).to_contain_text(new_name)
        expect(row).to_contain_text("李主任")
        expect(row).to_contain_text("0513-86000000")
        expect(admin.locator("#unit-form")).to_be_hidden()
        # The ticket's page, drawn by the server, names the unit by its new name.
        dispatcher = browser("dispatcher")
        dispatcher.goto(server.base_url + f"/tickets/{ticket['number']}")
        expect(dispatcher.locator("main")).to_contain_text(new_name)
        shot(admin, "admin-units")
        assert admin.errors == [] and dispatcher.errors == []
    finally:
        server.api(
            "admin",
            "PATCH",
            f"/api/admin/units/{code}",
            json={k: before[k] for k in ("name", "active", "contact_person", "contact_phone")},
        )


def test_an_admin_adds_a_routing_rule_the_trial_uses_it_and_deactivating_it_falls_back(browser, server):
    admin = _admin(browser, server)
    admin.click('.admin-tabs .tab[data-tab="routing"]')
    expect(admin.locator("#rule-form")).to_be_visible()
    added = None
    try:
        admin.click("#rule-save")
        expect(admin.locator('#rule-form .err[data-for="category"]')).to_have_text("请选择业务类别")
        admin.select_option("#r-category", label="出租汽车")
        admin.select_option("#r-territory", label="通州区")
        admin.select_option("#r-unit", label="市客运出租汽车管理处")
        admin.click("#rule-save")
        expect(admin.locator("#rules-table")).to_have_attribute("data-saved", re.compile(r"^\d+$"))
        added = admin.locator("#rules-table").get_attribute("data-saved")
        row = admin.locator(f'#rules-table tr[data-rule="{added}"]')
        expect(row).to_contain_text("市客运出租汽车管理处")
        expect(row).to_contain_text("通州区")
        # The trial answers from the live router: the new, more specific rule.
        admin.select_option("#t-category", label="出租汽车")
        admin.select_option("#t-territory", label="通州区")
        admin.click("#route-test button[type=submit]")
        expect(admin.locator("#route-unit")).to_have_text("市客运出租汽车管理处")
        expect(admin.locator("#route-result")).to_have_attribute("data-rule", added)
        # The same category and territory again: refused next to the field, in Chinese.
        admin.select_option("#r-category", label="出租汽车")
        admin.select_option("#r-territory", label="通州区")
        admin.select_option("#r-unit", label="市公共交通管理处")
        admin.click("#rule-save")
        expect(admin.locator('#rule-form .err[data-for="territory"]')).to_contain_text(f"与规则 #{added} 重叠")
        # Deactivated from its row: the category and territory go back to the local bureau.
        row.locator('button[data-act="deactivate"]').click()
        expect(row).to_have_count(0)
        admin.click("#route-test button[type=submit]")
        expect(admin.locator("#route-unit")).to_have_text("通州区交通运输局")
        assert admin.errors == []
    finally:
        if added is not None:
            server.api("admin", "PATCH", f"/api/admin/routing-rules/{added}", json={"active": False})


def _recompute(server: Server, version: int) -> int:
    done = subprocess.run(
        [sys.executable, "-m", "tests.e2e.recompute", str(version)],
        cwd=ROOT,
        env=server.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return int(done.stdout.strip().splitlines()[-1])


def test_an_sla_edit_is_previewed_saved_as_a_version_with_its_reason_and_recomputes_as_many_clocks(browser, server):
    original = server.api("admin", "GET", "/api/admin/sla-policies")
    admin = _admin(browser, server)
    admin.click('.admin-tabs .tab[data-tab="sla"]')
    expect(admin.locator("#sla-version")).to_have_text(f"v{original['version']}")
    row = admin.locator('#sla-table tr[data-id="reply-help"]')
    old_limit = next(r["limit"] for r in original["policy"] if r["id"] == "reply-help")
    new_limit = 3 if old_limit != 3 else 4
    expect(admin.locator("#sla-save")).to_be_disabled()
    row.locator(".sla-limit").fill("-1")
    admin.click("#sla-preview")
    expect(admin.locator('#sla-form .err[data-for="policy"]')).to_contain_text("标红的规则")
    expect(row.locator(".sla-limit")).to_have_attribute("aria-invalid", "true")
    row.locator(".sla-limit").fill(str(new_limit))
    admin.click("#sla-preview")
    expect(admin.locator('#sla-diff li[data-id="reply-help"]')).to_contain_text(f"→ {new_limit}个工作日")
    expect(admin.locator("#sla-diff li")).to_have_count(1)
    would_move = int(admin.locator("#sla-count").get_attribute("data-would-move"))
    assert would_move > 0  # the demo data has running reply clocks of help requests
    expect(admin.locator("#sla-count")).to_contain_text(f"{would_move} 个时限将改变")
    admin.click("#sla-save")
    expect(admin.locator('#sla-form .err[data-for="reason"]')).to_have_text("请填写修改理由")
    admin.fill("#sla-reason", "求助件办理时限按新规压缩")
    admin.click("#sla-save")
    version = original["version"] + 1
    expect(admin.locator("#sla-version")).to_have_text(f"v{version}")
    expect(admin.locator(f'#sla-versions li[data-version="{version}"]')).to_contain_text("求助件办理时限按新规压缩")
    shot(admin, "admin-sla")
    try:
        assert _recompute(server, version) == would_move
        admin.reload()
        admin.click('.admin-tabs .tab[data-tab="sla"]')
        expect(admin.locator(f'#sla-versions li[data-version="{version}"]')).to_contain_text("已重算在办时限")
        expect(admin.locator(f'#sla-versions li[data-version="{original["version"]}"]')).to_be_visible()
        current = server.api("admin", "GET", "/api/admin/sla-policies")
        assert next(r["limit"] for r in current["policy"] if r["id"] == "reply-help") == new_limit
    finally:
        restored = server.api(
            "admin",
            "PUT",
            "/api/admin/sla-policies",
            params={"recompute_open": "true"},
            json={"defaults": original["defaults"], "policy": original["policy"], "reason": "browser test: restore"},
        )
        _recompute(server, restored["version"])
    assert admin.errors == []


def test_a_typhoon_day_shows_the_deadlines_it_would_move_before_anything_is_saved(browser, server):
    import sla
    from config.reference import load_calendar_config

    overrides, hours = load_calendar_config()
    calendar = sla.build_calendar(overrides, office_hours=hours)
    ticket = server.create(title="台风日预览测试")
    day = datetime.fromisoformat(ticket["received_at"]).astimezone(calendar.tz).date()
    for _ in range(3):  # the third working day after receipt: inside the new ticket's reply clock
        day += timedelta(days=1)
        while not calendar.is_working_day(day):
            day += timedelta(days=1)
    admin = _admin(browser, server)
    admin.click('.admin-tabs .tab[data-tab="calendar"]')
    expect(admin.locator("#cal-years")).to_contain_text("2004–2026")
    admin.click("#cal-form button[type=submit]")
    expect(admin.locator('#cal-form .err[data-for="date"]')).to_have_text("请选择日期")
    admin.fill("#cal-date", day.isoformat())
    admin.fill("#cal-reason", "台风红色预警，全市停工一天")
    admin.click("#cal-form button[type=submit]")
    expect(admin.locator("#cal-moved")).to_be_visible()
    expected = server.api(
        "admin", "POST", "/api/admin/calendar/exception-preview", json={"date": day.isoformat(), "reason": "台风"}
    )
    assert expected["would_move"] >= 1
    # The page's own count (other tests' tickets may change the running clocks between its preview and ours).
    count = admin.locator("#cal-count")
    expect(count).to_contain_text("个时限将改变")
    page_moves = int(count.get_attribute("data-would-move") or "0")
    assert page_moves >= 1 and f"其中 {page_moves} 个时限将改变" in count.inner_text()
    first = admin.locator("#cal-moved tbody tr").first
    number, clock = first.get_attribute("data-number"), first.get_attribute("data-clock")
    shown = server.api("admin", "GET", f"/api/tickets/{number}")
    due = datetime.fromisoformat(shown["deadlines"][clock]).astimezone(calendar.tz)
    expect(first.locator("td").nth(3)).to_contain_text(due.strftime("%m-%d"))  # the row's deadline as it stands
    # The same clock in our own preview, when its list (the first 50 by deadline) has it: moved later, as shown.
    same = [m for m in expected["moved"] if (m["number"], m["clock"]) == (number, clock)]
    entry = same[0] if same else expected["moved"][0]
    before = datetime.fromisoformat(entry["due_at"]).astimezone(calendar.tz)
    moved = datetime.fromisoformat(entry["new_due_at"]).astimezone(calendar.tz)
    assert moved > before
    if same:
        expect(first.locator("td.new-due")).to_contain_text(moved.strftime("%m-%d"))
    shot(admin, "admin-calendar")
    # Nothing was saved: the same day is still a working day for a new call.
    assert server.api("admin", "GET", "/api/admin/calendar")["exceptions"] == []
    a_holiday = "2026-10-01"
    admin.fill("#cal-date", a_holiday)
    admin.click("#cal-form button[type=submit]")
    expect(admin.locator('#cal-form .err[data-for="date"]')).to_contain_text("本来就是休息日")
    assert admin.errors == []


def test_a_typhoon_day_in_one_territory_is_previewed_saved_moves_its_deadlines_only_and_is_withdrawn(browser, server):
    import sla
    from config.reference import load_calendar_config

    overrides, hours = load_calendar_config()
    calendar = sla.build_calendar(overrides, office_hours=hours)
    # Road upkeep goes to the territory's own bureau: one ticket in 启东市, one in 崇川区.
    ticket = server.create(title="台风日保存测试", category="road", territory="320681")
    other = server.create(title="台风日保存测试（崇川）", category="road", territory="320613")
    due = datetime.fromisoformat(ticket["deadlines"]["reply"])
    other_due = other["deadlines"]["reply"]
    day = datetime.fromisoformat(ticket["received_at"]).astimezone(calendar.tz).date()
    for _ in range(3):  # the third working day after receipt: inside the new ticket's reply clock
        day += timedelta(days=1)
        while not calendar.is_working_day(day):
            day += timedelta(days=1)
    admin = _admin(browser, server)
    admin.click('.admin-tabs .tab[data-tab="calendar"]')
    expect(admin.locator("#cal-saved tbody")).to_contain_text("暂无")
    expect(admin.locator("#cal-citywide")).to_be_checked()  # 全市 unless territories are chosen
    saved_id = None
    try:
        admin.fill("#cal-date", day.isoformat())
        admin.fill("#cal-reason", "台风红色预警，启东市停工停课一天")
        admin.locator('#cal-territories input[value="320681"]').check()
        expect(admin.locator("#cal-citywide")).not_to_be_checked()
        expect(admin.locator("#cal-save")).to_be_disabled()  # not before a preview
        admin.click("#cal-form button[type=submit]")
        count = admin.locator("#cal-count")
        expect(count).to_contain_text("启东市在办计时")
        expect(count).to_contain_text("个时限将改变")
        expect(admin.locator("#cal-save")).to_be_enabled()
        rows = admin.locator("#cal-moved tbody tr")
        assert {rows.nth(i).get_attribute("data-territory") for i in range(rows.count())} == {"320681"}
        expect(rows.first.locator("td").nth(1)).to_have_text("启东市")
        if int(count.get_attribute("data-would-move") or "0") <= rows.count():  # all listed: ours among them
            expect(admin.locator(f'#cal-moved tr[data-number="{ticket["number"]}"]')).to_have_count(1)
        first = rows.first
        number, clock = first.get_attribute("data-number"), first.get_attribute("data-clock")
        announced = first.locator("td.new-due").inner_text()
        admin.locator("#cal-save").focus()  # keyboard reachable: Enter on the focused button saves
        admin.keyboard.press("Enter")
        row = admin.locator(f'#cal-saved tr[data-date="{day.isoformat()}"]')
        expect(row).to_contain_text("台风红色预警，启东市停工停课一天")
        expect(row.locator("td.territories")).to_have_text("启东市")
        expect(row.locator("button[data-withdraw]")).to_be_visible()
        expect(admin.locator("#toast")).to_contain_text("个在办时限已按新日历重算")
        # Listed once: the saved table holds it; the table of calendar.toml's exceptions does not repeat it.
        expect(admin.locator(f'#calendar tr[data-date="{day.isoformat()}"]')).to_have_count(1)
        expect(admin.locator("#cal-citywide")).to_be_checked()  # the form is back to 全市
        saved_id = row.get_attribute("data-id")
        shot(admin, "admin-calendar-saved")
        # The deadline the preview showed before saving is the one the ticket has now; the 启东 ticket's moved
        # later, the 崇川 one's did not.
        shown = server.api("admin", "GET", f"/api/tickets/{number}")
        now_due = datetime.fromisoformat(shown["deadlines"][clock]).astimezone(calendar.tz)
        assert now_due.strftime("%m-%d") in announced and now_due.strftime("%H:%M") in announced
        assert (
            datetime.fromisoformat(server.api("admin", "GET", f"/api/tickets/{ticket['number']}")["deadlines"]["reply"])
            > due
        )
        assert server.api("admin", "GET", f"/api/tickets/{other['number']}")["deadlines"]["reply"] == other_due
        # A second save of the same day and territory is refused in Chinese, naming the date.
        admin.fill("#cal-date", day.isoformat())
        admin.fill("#cal-reason", "重复")
        admin.locator('#cal-territories input[value="320681"]').check()
        admin.click("#cal-form button[type=submit]")
        expect(admin.locator('#cal-form .err[data-for="date"]')).to_contain_text("在所选属地已有本地例外")
        # Withdrawn (the confirmation is accepted): the day is a working day again and the deadline is back.
        row.locator("button[data-withdraw]").click()
        expect(row).to_contain_text("撤销")
        expect(row.locator("button[data-withdraw]")).to_have_count(0)
        saved_id = None
        assert server.api("admin", "GET", "/api/admin/calendar")["exceptions"] == []
        assert (
            datetime.fromisoformat(server.api("admin", "GET", f"/api/tickets/{ticket['number']}")["deadlines"]["reply"])
            == due
        )
    finally:
        if saved_id is not None:
            server.api("admin", "DELETE", f"/api/admin/calendar/exceptions/{saved_id}", expect=None)
    assert admin.errors == []
