"""Browser tests of the administrator's reference data at /admin: a territory renamed in its tab, a unit renamed and
deactivated, and every other tab's choices (the account form's and the rule form's units, the rule form's and the
trial's territories) following at once, without a page reload, also for a change made in another window; a
deactivated routing rule reactivated from the page."""

from __future__ import annotations

import re
from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.e2e.conftest import Server, shot

WIDE = {"width": 1440, "height": 900}
WCAG = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]},
    "resultTypes": ["violations"],
}
_axe = Axe()


def _accessible(page: Any, what: str) -> None:
    """axe-core finds no A/AA violation in what the page shows now."""
    results = _axe.run(page, options=WCAG)
    assert results.violations_count == 0, f"{what}:\n{results.generate_report()}"


def _admin(browser: Any, server: Server) -> Any:
    page = browser("admin")
    page.set_viewport_size(WIDE)
    expect(page).to_have_url(server.base_url + "/admin")
    expect(page.locator("body")).to_have_attribute("data-ready", "1")
    page.on("dialog", lambda dialog: dialog.accept())
    page.evaluate("window.__drawn = 'once'")  # gone if the page reloads
    return page


def _options(page: Any, select: str) -> list[str]:
    return list(page.locator(f"{select} option").all_inner_texts())


def test_renamed_territories_and_units_reach_every_tabs_choices_without_a_reload(browser, server):
    code, new_name = "320614", "海门区（测试更名）"
    unit, unit_name = "city-port", "市港航事业发展中心（测试更名）"
    before = next(t for t in server.api("admin", "GET", "/api/admin/territories")["items"] if t["code"] == code)
    unit_before = next(u for u in server.api("admin", "GET", "/api/admin/units")["items"] if u["code"] == unit)
    admin = _admin(browser, server)
    try:
        # The territory renamed in its own tab, by keyboard.
        admin.click('.admin-tabs .tab[data-tab="territories"]')
        expect(admin.locator("#territories")).to_be_visible()
        row = admin.locator(f'#territories-table tr[data-territory="{code}"]')
        expect(row).to_contain_text(before["name"])
        expect(admin.locator('#territories-table tr[data-territory="320600"]')).to_contain_text("南通市")
        row.locator('button[data-act="edit"]').focus()
        admin.keyboard.press("Enter")
        expect(admin.locator("#tr-name")).to_be_focused()
        expect(admin.locator("label[for=tr-name]")).to_have_text("名称")
        _accessible(admin, "the territories tab, editing")
        admin.fill("#tr-name", "  ")
        admin.locator("#tr-name").press("Enter")
        expect(admin.locator('#territory-form .err[data-for="name"]')).to_have_text("请输入属地名称")
        admin.fill("#tr-name", new_name)
        admin.locator("#tr-name").press("Enter")
        expect(row).to_contain_text(new_name)
        expect(admin.locator("#territory-form")).to_be_hidden()
        shot(admin, "admin-territories")

        # The routing tab's territory choices (the rule form's and the trial's) and its units' names follow.
        admin.click('.admin-tabs .tab[data-tab="routing"]')
        expect(admin.locator("#r-territory")).to_contain_text(new_name)
        expect(admin.locator("#t-territory")).to_contain_text(new_name)
        assert before["name"] not in _options(admin, "#r-territory")
        admin.select_option("#t-category", label="公路养护与路况")
        admin.select_option("#t-territory", label=new_name)
        admin.click("#route-test button[type=submit]")
        expect(admin.locator("#route-unit")).to_have_text("海门区交通运输局")

        # A unit renamed, then deactivated: the account form's and the rule form's unit lists follow.
        admin.click('.admin-tabs .tab[data-tab="units"]')
        urow = admin.locator(f'#units-table tr[data-unit="{unit}"]')
        urow.locator('button[data-act="edit"]').click()
        admin.fill("#u-name", unit_name)
        admin.click("#unit-save")
        expect(urow).to_contain_text(unit_name)
        admin.click('.admin-tabs .tab[data-tab="accounts"]')
        expect(admin.locator("#f-unit")).to_contain_text(unit_name)
        expect(admin.locator("#r-unit")).to_contain_text(unit_name)
        expect(admin.locator(f'#rules-table tr[data-unit="{unit}"]').first).to_contain_text(unit_name)
        assert unit_before["name"] not in _options(admin, "#f-unit")
        admin.click('.admin-tabs .tab[data-tab="units"]')
        urow.locator('button[data-act="edit"]').click()
        admin.uncheck("#u-active")
        admin.click("#unit-save")
        expect(urow).to_contain_text("已停用")
        expect(admin.locator(f'#f-unit option[value="{unit}"]')).to_have_count(0)
        expect(admin.locator(f'#r-unit option[value="{unit}"]')).to_have_count(0)
        # Its handler's account still names it, and can still be edited with it.
        admin.click('.admin-tabs .tab[data-tab="accounts"]')
        account = admin.locator(f'#accounts-table tr[data-username="handler-{unit}"]')
        expect(account).to_contain_text(unit_name)
        account.locator('button[data-act="edit"]').click()
        expect(admin.locator("#f-unit")).to_have_value(unit)
        admin.click("#account-save")
        expect(admin.locator("#account-form-h")).to_have_text("新建账号")
        expect(admin.locator(f'#f-unit option[value="{unit}"]')).to_have_count(0)

        # Changed in another window (here: the API): the choices follow when this window comes back into view.
        server.api("admin", "PATCH", f"/api/admin/units/{unit}", json={"active": True})
        server.api("admin", "PATCH", f"/api/admin/territories/{code}", json={"name": before["name"]})
        admin.evaluate("window.dispatchEvent(new Event('focus'))")
        expect(admin.locator(f'#f-unit option[value="{unit}"]')).to_have_count(1)
        expect(admin.locator(f'#r-territory option[value="{code}"]')).to_have_text(before["name"])
        expect(admin.locator(f'#territories-table tr[data-territory="{code}"]')).to_contain_text(before["name"])
        assert admin.evaluate("window.__drawn") == "once"  # all of it without a reload
        assert admin.errors == []
    finally:
        server.api("admin", "PATCH", f"/api/admin/territories/{code}", json={"name": before["name"]})
        server.api(
            "admin",
            "PATCH",
            f"/api/admin/units/{unit}",
            json={k: unit_before[k] for k in ("name", "active", "contact_person", "contact_phone")},
        )


def test_a_deactivated_rule_is_reactivated_from_the_page(browser, server):
    made = server.api(
        "admin", "POST", "/api/admin/routing-rules", expect=201,
        json={"category": "bus", "territory": "320623", "unit": "city-bus"},
    )  # fmt: skip
    rule, other = str(made["id"]), None
    admin = _admin(browser, server)
    try:
        admin.click('.admin-tabs .tab[data-tab="routing"]')
        row = admin.locator(f'#rules-table tr[data-rule="{rule}"]')
        expect(row).to_contain_text("市公共交通管理处")
        row.locator('button[data-act="deactivate"]').click()
        expect(row).to_have_count(0)
        off = admin.locator(f'#rules-off tr[data-rule="{rule}"]')
        expect(off).to_contain_text("如东县")
        expect(off).to_contain_text("已停用")
        expect(off.locator('button[data-act="activate"]')).to_be_enabled()
        _accessible(admin, "the routing tab with a deactivated rule")
        # Another rule in force for the same category and territory: reactivating is not offered, and says why.
        admin.select_option("#r-category", label="城市公交")
        admin.select_option("#r-territory", label="如东县")
        admin.select_option("#r-unit", label="市客运出租汽车管理处")
        admin.click("#rule-save")
        expect(admin.locator("#rules-table")).to_have_attribute("data-saved", re.compile(r"^\d+$"))
        other = admin.locator("#rules-table").get_attribute("data-saved")
        expect(off.locator('button[data-act="activate"]')).to_be_disabled()
        expect(off).to_contain_text(f"#{other}")
        admin.locator(f'#rules-table tr[data-rule="{other}"] button[data-act="deactivate"]').click()
        expect(off.locator('button[data-act="activate"]')).to_be_enabled()
        # Reactivated from its row: in force again, and the trial answers with it.
        off.locator('button[data-act="activate"]').click()
        expect(admin.locator("#rules-table")).to_have_attribute("data-saved", rule)
        expect(row).to_contain_text("市公共交通管理处")
        expect(off).to_have_count(0)
        admin.select_option("#t-category", label="城市公交")
        admin.select_option("#t-territory", label="如东县")
        admin.click("#route-test button[type=submit]")
        expect(admin.locator("#route-result")).to_have_attribute("data-rule", rule)
        expect(admin.locator("#route-unit")).to_have_text("市公共交通管理处")
        blocked = admin.locator(f'#rules-off tr[data-rule="{other}"]')
        expect(blocked.locator('button[data-act="activate"]')).to_be_disabled()
        expect(blocked).to_contain_text(f"#{rule}")
        assert admin.evaluate("window.__drawn") == "once"
        assert admin.errors == []
    finally:
        server.api("admin", "PATCH", f"/api/admin/routing-rules/{rule}", json={"active": False})
