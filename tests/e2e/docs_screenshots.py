"""Screenshots of the agent, handler and manager pages for the README: docs/screenshots/{agent,handler,manager}.png.

    .venv/bin/python -m tests.e2e.docs_screenshots

Uses the browser tests' database and server (the same demo data). Run pngquant over them when it is installed
(Debian's `pngquant`), so the committed files stay small.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile

from playwright.sync_api import expect, sync_playwright

from tests.e2e.conftest import ROOT, launch, running_server, sign_in

DOCS = ROOT / "docs" / "screenshots"


def main() -> None:
    DOCS.mkdir(parents=True, exist_ok=True)
    with running_server() as server, sync_playwright() as p:
        def page_for(username: str):  # noqa: ANN202
            context = launch(p, tempfile.mkdtemp(prefix="hotline-docs-"))
            page = context.pages[0]
            sign_in(page, server, username)
            expect(page.locator("#live-status")).to_have_attribute("data-state", "connected")
            return page

        earlier = server.api("agent", "GET", "/api/tickets", params={"status": "in_progress", "category": "taxi",
                                                                     "territory": "320612", "limit": 1})["items"][0]
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

    if shutil.which("pngquant"):
        for name in ("agent", "handler", "manager"):
            subprocess.run(["pngquant", "--force", "--quality", "65-90", "--strip", "--output",
                            str(DOCS / f"{name}.png"), str(DOCS / f"{name}.png")], check=True)
    for name in ("agent", "handler", "manager"):
        print(DOCS / f"{name}.png", (DOCS / f"{name}.png").stat().st_size, "bytes")


if __name__ == "__main__":
    main()
