"""Which lifecycle events are told to a unit's handlers as notifications (站内通知), in the event's transaction: a
dispatch to the unit (派单, 改派), an urge (催办), the decision on its extension request and on its return."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hotline.escalation import notifications
from hotline.infra.db import Conn


async def tell(conn: Conn, action: str, payload: dict[str, Any], unit: str | None, number: str, now: datetime) -> None:
    """`unit` holds the ticket after the action; `payload` is the event's."""
    if action == "dispatch" and payload.get("unit"):
        await notifications.tell_event(conn, "dispatch", payload["unit"], number, now)
    elif action == "urge" and unit:
        await notifications.tell_event(conn, "urge", unit, number, now)
    elif action == "decide-extension" and unit:
        await notifications.tell_event(conn, "extension_decision", unit, number, now, approved=payload["approve"])
    elif action == "decide-return" and payload.get("returned_by"):
        returned_by = payload["returned_by"]
        accepted = bool(payload["accept"])
        await notifications.tell_event(conn, "return_decision", returned_by, number, now, approved=accepted)
        if accepted and unit and unit != returned_by:
            await notifications.tell_event(conn, "dispatch", unit, number, now)
