"""Lifecycle events told as notifications (站内通知) to the unit's handlers, in the bell's list: a dispatch to the unit,
an urge, the decision on its extension request and on its return (hotline/tickets/event_notices.py)."""

from __future__ import annotations

from typing import Any

HANDLER, OTHER = "handler-320612-bureau", "handler-320614-bureau"


async def _news(api: Any, username: str, after: int) -> list[dict[str, Any]]:
    r = await api.get(username, "/api/notifications", params={"limit": 50})
    assert r.status_code == 200, r.text
    return [n for n in r.json()["items"] if n["id"] > after]


async def _last_id(api: Any, username: str) -> int:
    items = (await api.get(username, "/api/notifications", params={"limit": 1})).json()["items"]
    return items[0]["id"] if items else 0


def _kinds(news: list[dict[str, Any]], number: str) -> list[tuple[str, bool | None, str]]:
    return sorted((n["kind"], n["approved"], n["title"]) for n in news if n["ticket"] == number)


async def test_urge_extension_and_return_decisions_and_dispatch_reach_the_units_handlers(api: Any) -> None:
    mine, other = await _last_id(api, HANDLER), await _last_id(api, OTHER)

    urged = (await api.create())["number"]
    await api.act("dispatcher", urged, "urge", note="请尽快处理")
    await api.act(HANDLER, urged, "sign")
    await api.act(HANDLER, urged, "request-extension", working_days=3, reason="需调取监控")
    await api.act("dispatcher", urged, "decide-extension", approve=True)
    assert _kinds(await _news(api, HANDLER, mine), urged) == [
        ("extension_decision", True, f"延期申请已批准：工单 {urged}"),
        ("urge", None, f"催办：工单 {urged} 被催办，请加快办理"),
    ]

    refused = (await api.create())["number"]
    await api.act(HANDLER, refused, "return", reason="不属本单位职责")
    await api.act("dispatcher", refused, "decide-return", accept=False)
    moved = (await api.create())["number"]
    await api.act(HANDLER, moved, "return", reason="属海门区")
    await api.act("dispatcher", moved, "decide-return", accept=True, unit="320614-bureau")
    waiting = await api.create(category=None, kind="help")
    assert waiting["status"] == "pending_dispatch"
    await api.act("dispatcher", waiting["number"], "dispatch", unit="320612-bureau")

    news = await _news(api, HANDLER, mine)
    assert _kinds(news, refused) == [("return_decision", False, f"退单未同意：工单 {refused} 退回本单位继续办理")]
    assert _kinds(news, moved) == [("return_decision", True, f"退单已同意：工单 {moved} 已改派")]
    assert _kinds(news, waiting["number"]) == [("dispatch", None, f"新派单：工单 {waiting['number']} 已派至本单位")]
    assert all(n["step_id"] is None and not n["read"] for n in news)
    # The unit it went to hears of the re-dispatch, and of nothing else here.
    theirs = await _news(api, OTHER, other)
    assert [(n["kind"], n["ticket"]) for n in theirs] == [("dispatch", moved)]

    # They count as unread and are marked read like the escalation ones.
    r = await api.post(HANDLER, "/api/notifications/read", json={"ids": [n["id"] for n in news]})
    assert r.status_code == 200 and r.json()["marked"] == len(news)
