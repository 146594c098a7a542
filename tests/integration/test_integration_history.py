"""An integration account reads the public side of its own transfers' history (issue 16 item 9): status changes,
dates, the reply; not handlers' internal notes, urges, return reasons or the staff who acted."""

from __future__ import annotations

import json
import uuid

from tests.conftest import ticket_body
from tests.integration.test_lifecycle import H

INTEGRATION = "integration-12345"


async def test_an_integration_sees_status_changes_and_the_reply_but_no_internal_notes_or_staff(api, runtime):
    r = await api.post(
        INTEGRATION, "/api/tickets", json=ticket_body(channel="12345", external_ref=f"12345-{uuid.uuid4().hex[:10]}")
    )
    assert r.status_code == 201, r.text
    n = r.json()["number"]
    await api.act(H, n, "sign")
    await api.act(H, n, "note", text="内部备注：司机是局里熟人，低调处理")
    await api.act("dispatcher", n, "urge", note="内部催办：领导关注")
    await api.act(H, n, "return", reason="内部退单理由：不归我们管")
    await api.act("dispatcher", n, "decide-return", accept=False, proper=False, note="内部：驳回退单")
    await api.act(H, n, "reply", content="经核查，已对驾驶员批评教育。", outcome="resolved")
    staff = [
        r["display_name"]
        for r in await runtime.pool.fetch(
            "SELECT display_name FROM users WHERE username = any($1::text[])", [H, "dispatcher"]
        )
    ]

    seen = (await api.get(INTEGRATION, f"/api/tickets/{n}")).json()
    text = json.dumps(seen, ensure_ascii=False)
    assert "内部" not in text  # no note, urge, return reason or dispatcher's note anywhere in the body
    assert not any(name in text for name in staff)
    actions = [e["action"] for e in seen["events"]]
    assert "note" not in actions and "urge" not in actions
    assert {"create", "sign", "return", "reply"} <= set(actions)
    assert all("actor" not in e for e in seen["events"])
    reply = next(e for e in seen["events"] if e["action"] == "reply")
    assert reply["content"] == "经核查，已对驾驶员批评教育。" and reply["status_after"] == "replied" and reply["at"]
    assert seen["reply"]["content"] == "经核查，已对驾驶员批评教育。" and seen["status"] == "replied"
    assert all(a["return_reason"] is None for a in seen["assignments"])

    # Staff still read the whole internal record.
    full = (await api.get("dispatcher", f"/api/tickets/{n}")).json()
    full_text = json.dumps(full, ensure_ascii=False)
    assert "内部备注" in full_text and "内部退单理由" in full_text and "内部催办" in full_text
    assert any(e.get("actor") for e in full["events"])
