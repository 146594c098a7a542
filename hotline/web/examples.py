"""Examples the OpenAPI document shows on its main operations, from the demo data (hotline/ops/demo.py): a call to
96196 logged by the agent, a case transferred by the 12345 platform, the unit's reply to the call, and the agent's
callback. Requests and the answers they get (captured from the service, with the demo's names and times);
tests/unit/test_openapi_document.py checks each example against its own schema.
"""

from __future__ import annotations

from typing import Any

from hotline.web.contract import VerbatimExample as Example

CALL = {
    "channel": "96196",
    "kind": "complaint",
    "category": "taxi",
    "territory": "320612",
    "title": "出租车拒载",
    "content": "在万达广场打车，司机以交班为由拒载，车牌苏F12345。",
    "caller": {"name": "张先生", "phone": "13812345678"},
    "urgent": False,
    "address": "通州区万达广场",
}
TRANSFER = {
    "channel": "12345",
    "kind": "complaint",
    "category": "road",
    "territory": "320612",
    "title": "道路坑洼影响通行",
    "content": "南大街路段出现多处坑洼，雨天积水，电动车易摔倒。",
    "caller": {"name": "李女士", "phone": "13912345678"},
    "urgent": False,
    "external_ref": "12345-20261130-00042",
    "received_at": "2026-11-30T09:15:00+08:00",
    "external_due_at": "2026-12-14T17:30:00+08:00",
}
REPLY = {
    "content": "经核查情况属实，已约谈驾驶员并依法处理，向来电人致歉。",
    "outcome": "resolved",
    "expected_version": 2,
}
CALLBACK = {
    "contacted": True,
    "resolved": "resolved",
    "satisfaction": "satisfied",
    "note": "已电话回访。",
    "expected_version": 3,
}


def _ticket(request: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A ticket as the API answers it, made from an intake request and what the service adds."""
    ticket: dict[str, Any] = {
        "number": "96196-20261201-000001",
        "status": "dispatched",
        "closure": None,
        **{k: request[k] for k in ("channel", "kind", "category", "territory", "title", "content", "caller")},
        "urgent": request["urgent"],
        "address": request.get("address"),
        "location": None,
        "external_ref": request.get("external_ref"),
        "external_due_at": None,
        "upstream_received_at": None,
        "unit": "320612-bureau",
        "unit_name": "通州区交通运输局",
        "routing": {
            "unit": "320612-bureau",
            "rule_id": 6,
            "reason": "rule #6: category taxi handled by the local bureau of 320612 → 320612-bureau",
        },
        "merged_into": None,
        "reply": None,
        "answer": None,
        "reopen_count": 0,
        "suspended": False,
        "version": 1,
        "received_at": "2026-12-01T01:20:31.574388+00:00",
        "created_at": "2026-12-01T01:20:31.574388+00:00",
        "updated_at": "2026-12-01T01:20:31.574388+00:00",
        "closed_at": None,
        "deadlines": {"sign": "2026-12-02T09:30:00+00:00", "reply": "2026-12-22T09:30:00+00:00", "callback": None},
    }
    ticket.update(fields)
    return ticket


CALL_TICKET = _ticket(CALL)
# An integration account reads the caller's number masked, and no staff names.
TRANSFER_TICKET = _ticket(
    TRANSFER,
    number="12345-20261201-000001",
    caller={"name": "李女士", "phone": "139****5678"},
    external_due_at="2026-12-14T09:30:00+00:00",
    upstream_received_at="2026-11-30T01:15:00+00:00",
    routing={
        "unit": "320612-bureau",
        "rule_id": 15,
        "reason": "rule #15: category road handled by the local bureau of 320612 → 320612-bureau",
    },
    deadlines={"sign": "2026-12-02T09:30:00+00:00", "reply": "2026-12-14T09:30:00+00:00", "callback": None},
)
_REPLIED = {"content": REPLY["content"], "outcome": "resolved", "at": "2026-12-03T06:12:40.672452+00:00"}
REPLIED_TICKET = _ticket(
    CALL,
    status="replied",
    caller={"name": "张先生", "phone": "138****5678"},  # a unit's handler reads the number masked
    reply=_REPLIED,
    version=3,
    updated_at="2026-12-03T06:12:40.672587+00:00",
    deadlines={
        "sign": "2026-12-02T09:30:00+00:00",
        "reply": "2026-12-22T09:30:00+00:00",
        "callback": "2026-12-04T09:30:00+00:00",
    },
)
CALLED_BACK_TICKET = _ticket(
    CALL,
    status="closed",
    closure="callback_done",
    reply=_REPLIED,
    version=4,
    updated_at="2026-12-03T08:40:02.680941+00:00",
    closed_at="2026-12-03T08:40:02.680842+00:00",
)

INTAKE_EXAMPLES = [
    Example(summary="A phone call to 96196, logged by the agent", value=CALL),
    Example(summary="A case transferred from 12345 (integration-12345), with its upstream deadline", value=TRANSFER),
]
CREATED_EXAMPLES = [
    Example(summary="The phone call's ticket, routed to 通州区交通运输局 by its rule", value=CALL_TICKET),
    Example(
        summary="The 12345 transfer's ticket: its reply deadline capped by the upstream one", value=TRANSFER_TICKET
    ),
]
REPLAYED_EXAMPLES = [
    Example(summary="The 12345 platform sent the same external_ref again: the ticket made then", value=TRANSFER_TICKET)
]
REPLY_EXAMPLES = [Example(summary="The unit replies: resolved", value=REPLY)]
REPLIED_EXAMPLES = [Example(summary="Replied: the callback clock runs", value=REPLIED_TICKET)]
CALLBACK_EXAMPLES = [Example(summary="The agent called back: resolved, satisfied", value=CALLBACK)]
CALLED_BACK_EXAMPLES = [Example(summary="Closed by the callback (回访办结)", value=CALLED_BACK_TICKET)]
