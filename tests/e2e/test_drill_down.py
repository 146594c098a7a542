"""The manager's figures drill down (issue 23, item 3): a tile, a row by unit, a heat-map cell and a report figure
each open the list of exactly the tickets behind them, the same as the API query they carry."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from playwright.sync_api import expect

from tests.e2e.conftest import Server


def _listed(page: Any, target: Any, server: Server) -> list[str]:
    """Click a figure; the dialog's ticket numbers, checked against the count shown and the API's answer."""
    inside = target.locator("[data-value]")  # a tile's number
    shown = int(
        target.get_attribute("data-count")
        or (inside.first.get_attribute("data-value") if inside.count() else target.inner_text().strip())
    )
    query = target.get_attribute("data-drill")
    target.click()
    dialog = page.locator("#drill")
    expect(dialog).to_have_attribute("data-state", "ok")
    expect(dialog).to_have_attribute("data-query", query)
    numbers = dialog.locator("#drill-list tbody tr[data-number]").evaluate_all("trs => trs.map(t => t.dataset.number)")
    assert len(numbers) == len(set(numbers)) == shown, (query, len(numbers), shown)
    expect(page.locator("#drill-count")).to_have_text(f"共 {shown} 件")
    api: list[str] = []
    params: dict[str, Any] = {**dict(parse_qsl(query)), "limit": 200}
    while True:
        page_ = server.api("manager", "GET", "/api/tickets", params=params)
        api += [t["number"] for t in page_["items"]]
        if not page_["next_cursor"]:
            break
        params["cursor"] = page_["next_cursor"]
    assert sorted(api) == sorted(numbers)
    page.click("#drill-close")
    expect(dialog).not_to_be_visible()
    return numbers


def test_a_tile_a_unit_row_a_heat_map_cell_and_a_report_figure_list_exactly_their_tickets(browser, server):
    page = browser("manager")
    page.goto(server.base_url + "/manager")
    page.wait_for_function("() => document.body.dataset.ready === '1'")
    overdue = int(page.get_attribute("#overdue-total", "data-value"))
    assert overdue > 0  # the demo history has late tickets

    tile = page.locator("button.tile", has=page.locator("#overdue-total"))
    late = _listed(page, tile, server)
    for selector in ("#sign-overdue-total", "#supervision-total", "#today-total"):
        _listed(page, page.locator("button.tile", has=page.locator(selector)), server)

    unit_row = page.locator("#overdue-by-unit tr[data-drill]").first
    # A row opens on a click anywhere in it; its count is the row's number cell.
    unit_row_count = int(unit_row.locator("td.num").get_attribute("data-value"))
    unit_row.click()
    expect(page.locator("#drill")).to_have_attribute("data-count", str(unit_row_count))
    assert set(
        page.locator("#drill-list tbody tr[data-number]").evaluate_all("trs => trs.map(t => t.dataset.number)")
    ) <= set(late)
    page.click("#drill-close")

    cells = page.locator("#heatmap rect.cell[data-drill]")
    counts = cells.evaluate_all("els => els.map(e => +e.dataset.count)")
    assert sum(counts) == overdue  # the heat map counts the tile's tickets, each once
    busiest = max(range(len(counts)), key=lambda i: counts[i])
    in_cell = _listed(page, cells.nth(busiest), server)
    assert set(in_cell) <= set(late)
    # The heat map's totals open their row's, their column's and all of its tickets.
    assert set(_listed(page, page.locator("#heatmap text.row-total[data-drill]").first, server)) <= set(late)
    assert set(_listed(page, page.locator("#heatmap text.col-total[data-drill]").first, server)) <= set(late)
    assert sorted(_listed(page, page.locator("#heatmap text.col-total[data-drill]").last, server)) == sorted(late)

    expect(page.locator("#report-table")).to_have_attribute("data-state", "ok")
    received = page.locator('#report-table tfoot td[data-k="received"]')
    _listed(page, received, server)
    group_received = page.locator('#report-table tbody td[data-k="received"][data-drill]').first
    _listed(page, group_received, server)
    assert page.errors == []
