"""The feedback outbox (外网反馈): which lifecycle actions tell the upstream platform what, written in the action's
own transaction (the engine calls `stage()` once, for every action), so a committed action's event is never lost
and a rolled-back one is never sent. Delivery is `hotline.upstream.delivery`'s.

Events: `signed` (签收), `extension_approved` (延期获批: the new deadline), `replied` (答复: content, outcome, the unit,
when), `returned_upstream` (退单: the unit says it is not theirs, and why), `closed` (办结: the closure and, after a
callback, the citizen's satisfaction). Only for a ticket a transfer channel sent (it has an `external_ref`), and
only the events that channel's entry in config/data/upstream.toml lists.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

import msgspec

from config.upstream import UpstreamConfig, load_upstream
from hotline.infra.db import Conn
from hotline.infra.runtime import Runtime
from hotline.infra.sql import load

_INSERT = load(__file__, "insert_outbox")
Event = Literal["signed", "extension_approved", "replied", "returned_upstream", "closed"]


class FeedbackData(msgspec.Struct, kw_only=True, omit_defaults=True):
    """What an event tells; each event fills its own fields (README: Upstream platforms)."""

    unit: str | None = None  # the unit holding the case (signed, extension_approved, replied, returned_upstream)
    unit_name: str | None = None
    new_due_at: str | None = None  # extension_approved: the new reply deadline (ISO 8601)
    content: str | None = None  # replied: the unit's answer
    outcome: str | None = None  # replied: resolved, partly_resolved, unresolved, explained
    replied_at: str | None = None
    reason: str | None = None  # returned_upstream: why the unit says it is not theirs
    closure: str | None = None  # closed: answered, callback_done, merged, rejected, withdrawn
    closed_at: str | None = None
    satisfaction: str | None = None  # closed after a callback: satisfied, basically_satisfied, dissatisfied, ...
    resolved: str | None = None  # closed after a callback: resolved, partly, unresolved


class FeedbackEvent(msgspec.Struct, kw_only=True):
    """The JSON body POSTed to the upstream platform (also sent: X-Hotline-Delivery = event_id)."""

    event: Event
    event_id: str  # stable across retries: the receiver drops a repeat by it
    sequence: int  # 1, 2, 3 ... per ticket, in the order the events happened and are delivered
    channel: str
    external_ref: str  # the platform's own case number
    ticket: str  # this service's ticket number
    occurred_at: str
    data: FeedbackData


class _Config:
    def __init__(self, rt: Runtime) -> None:
        self.value = load_upstream(rt.settings.upstream_config)


def config_of(rt: Runtime) -> UpstreamConfig:
    """This process's upstream configuration, read once per runtime (a bad file fails at first use, naming it)."""
    return rt.part(_Config).value


def events_for(
    name: str, ticket: Any, status_after: str, updates: dict[str, Any], payload: dict[str, Any], unit_names: Any
) -> list[tuple[str, dict[str, Any]]]:
    """The events an action gives, with their data: (event, data) in the order they happened."""
    unit = updates.get("unit", ticket["unit"])
    held = {"unit": unit, "unit_name": unit_names.get(unit) if unit else None}
    out: list[tuple[str, dict[str, Any]]] = []
    if name == "sign":
        out.append(("signed", held))
    elif name == "decide-extension" and payload.get("approve"):
        out.append(("extension_approved", {**held, "new_due_at": payload.get("new_due_at")}))
    elif name == "reply":
        replied_at = updates["replied_at"]
        out.append(
            (
                "replied",
                {
                    **held,
                    "content": updates["reply_content"],
                    "outcome": updates["reply_outcome"],
                    "replied_at": replied_at.isoformat(),
                },
            )
        )
    elif name == "return":
        out.append(("returned_upstream", {**held, "reason": payload.get("reason")}))
    if status_after == "closed" and ticket["status"] != "closed":
        closed_at = updates.get("closed_at")
        out.append(
            (
                "closed",
                {
                    "closure": updates.get("closure"),
                    "closed_at": closed_at.isoformat() if closed_at else None,
                    "satisfaction": payload.get("satisfaction"),
                    "resolved": payload.get("resolved"),
                },
            )
        )
    return out


async def stage(
    rt: Runtime,
    conn: Conn,
    *,
    name: str,
    ticket: Any,
    status_after: str,
    updates: dict[str, Any],
    payload: dict[str, Any],
    now: datetime,
) -> list[int]:
    """Write the action's outbound events to the outbox on the action's connection (inside its transaction);
    returns their ids, for the engine to enqueue their delivery after the commit."""
    if ticket["external_ref"] is None:
        return []
    config = config_of(rt)
    channel = ticket["channel"]
    ids = []
    for event, data in events_for(name, ticket, status_after, updates, payload, rt.names.units):
        if not config.sends(channel, event):
            continue
        event_id = uuid.uuid4()
        body = msgspec.to_builtins(
            FeedbackEvent(
                event=event,  # type: ignore[arg-type]
                event_id=str(event_id),
                sequence=0,  # the ticket's next number, set by the INSERT
                channel=channel,
                external_ref=ticket["external_ref"],
                ticket=ticket["number"],
                occurred_at=now.isoformat(),
                data=FeedbackData(**data),
            )
        )
        ids.append(await conn.fetchval(_INSERT, event_id, ticket["id"], channel, event, body, now))
    return ids
