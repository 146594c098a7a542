"""The outbox as operators see it (GET /api/outbox, the manager's board): deliveries with their attempts, last
error and next attempt; and re-driving a dead letter (POST /api/outbox/{id}/retry)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

import msgspec

from hotline.errors import Conflict, NotFound
from hotline.infra.runtime import Runtime
from hotline.infra.sql import load
from hotline.inputs import encode_cursor, is_int64, limit_fields, raise_fields, read_cursor
from hotline.upstream import delivery
from hotline.upstream.outbox import Event, FeedbackEvent

_LIST = load(__file__, "list_outbox")
_ROW = load(__file__, "outbox_row")
STATUSES = ("pending", "failed", "dead", "delivered")
OutboxStatus = Literal["pending", "failed", "dead", "delivered"]


class OutboxDelivery(msgspec.Struct, kw_only=True):
    """One feedback event for an upstream platform (外网反馈) and how its delivery stands."""

    id: int
    event_id: str  # what the receiver deduplicates by (also the X-Hotline-Delivery header)
    sequence: int  # the ticket's event number: n+1 is sent only once n is acknowledged
    channel: str
    event: Event
    ticket: str
    external_ref: str | None
    status: OutboxStatus
    attempts: int
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime | None  # null when delivered or dead
    delivered_at: datetime | None
    body: FeedbackEvent  # the JSON body posted


class OutboxPage(msgspec.Struct, kw_only=True):
    items: list[OutboxDelivery]
    next_cursor: str | None


def _item(r: Any) -> OutboxDelivery:
    waiting = r["status"] in ("pending", "failed")
    return OutboxDelivery(
        id=r["id"],
        event_id=str(r["event_id"]),
        sequence=r["seq"],
        channel=r["channel"],
        event=r["event"],
        ticket=r["number"],
        external_ref=r["external_ref"],
        status=r["status"],
        attempts=r["attempts"],
        last_error=r["last_error"],
        created_at=r["created_at"],
        next_attempt_at=r["next_attempt_at"] if waiting else None,
        delivered_at=r["delivered_at"],
        body=msgspec.convert(r["body"], FeedbackEvent),
    )


async def list_outbox(
    rt: Runtime, *, status: str | None, channel: str | None, limit: int = 50, cursor: str | None = None
) -> OutboxPage:
    fields = limit_fields(limit, 200)
    if status is not None and status not in STATUSES:
        fields["status"] = f"one of {', '.join(STATUSES)}"
    if channel is not None and channel not in rt.names.channels:
        fields["channel"] = "not a known channel"
    after = read_cursor(cursor, "instant", "id", fields=fields)
    raise_fields(fields)
    at, after_id = after if after else (None, None)
    rows = await rt.pool.fetch(_LIST, status, channel, at, after_id, limit + 1)
    items = [_item(r) for r in rows[:limit]]
    more = len(rows) > limit
    return OutboxPage(
        items=items, next_cursor=encode_cursor(items[-1].created_at, items[-1].id) if more and items else None
    )


async def retry(rt: Runtime, outbox_id: int) -> OutboxDelivery:
    """Re-drive a dead letter; 404 for no such delivery, 409 when it is not dead (it is still being tried, or done)."""
    if not is_int64(outbox_id):
        raise NotFound(f"no outbox delivery {outbox_id}")
    now = datetime.now(UTC)
    if not await delivery.redrive(rt, outbox_id, now=now):
        status = await rt.pool.fetchval("SELECT status FROM upstream_outbox WHERE id = $1", outbox_id)
        if status is None:
            raise NotFound(f"no outbox delivery {outbox_id}")
        raise Conflict(f"delivery {outbox_id} is {status}: only a dead letter is re-driven")
    return _item(await rt.pool.fetchrow(_ROW, outbox_id))
