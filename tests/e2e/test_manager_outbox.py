"""监管看板 shows the upstream feedback's dead letters, and its 重试 button re-drives one (issue 12)."""

from __future__ import annotations

import json
import subprocess
import uuid

from playwright.sync_api import expect

from tests.e2e.conftest import shot


def psql(server, sql: str) -> str:
    out = subprocess.run(
        ["psql", server.env["HOTLINE_DATABASE_URL"], "-XAtq", "-c", sql], capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def test_the_manager_sees_a_dead_letter_and_re_drives_it_with_the_retry_button(browser, server):
    ref = f"NT12345-{uuid.uuid4().hex[:10]}"
    ticket = server.api(
        "integration-12345",
        "POST",
        "/api/tickets",
        expect=201,
        json={
            "channel": "12345",
            "kind": "complaint",
            "category": "taxi",
            "territory": "320612",
            "title": "出租车拒载",
            "content": "市民反映出租车拒载。",
            "external_ref": ref,
        },
    )
    body = json.dumps(
        {
            "event": "signed",
            "event_id": str(uuid.uuid4()),
            "sequence": 1,
            "channel": "12345",
            "external_ref": ref,
            "ticket": ticket["number"],
            "occurred_at": "2026-12-04T01:00:00+00:00",
            "data": {"unit": "320612-bureau"},
        },
        ensure_ascii=False,
    )
    outbox_id = psql(
        server,
        "INSERT INTO upstream_outbox (ticket_id, seq, channel, event, body, status, attempts, last_error, created_at, "
        f"next_attempt_at) SELECT id, 1, '12345', 'signed', '{body}'::jsonb, 'dead', 8, 'HTTP 503', now(), now() "
        f"FROM tickets WHERE number = '{ticket['number']}' RETURNING id",
    )
    page = browser("manager")
    row = page.locator(f'#dead-letters tr[data-outbox="{outbox_id}"]')
    expect(row).to_contain_text(ticket["number"])
    expect(row).to_contain_text("签收")
    expect(row).to_contain_text("HTTP 503")
    row.scroll_into_view_if_needed()
    shot(page, "manager-dead-letters")
    row.locator("button.retry").click()
    expect(row).to_have_count(0)
    assert psql(server, f"SELECT status || ' ' || attempts FROM upstream_outbox WHERE id = {outbox_id}") == "pending 0"
    assert not page.errors  # type: ignore[attr-defined]
