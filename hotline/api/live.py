"""GET /api/live: the live feed as server-sent events, filtered by what the signed-in role may see.

Every API process subscribes to the same Redis channel, so a change committed by any process reaches every
browser, whichever process holds its connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import msgspec
from litestar import get
from litestar.response import ServerSentEvent, ServerSentEventMessage

from hotline import live
from hotline.auth import Principal
from hotline.runtime import Runtime

KEEPALIVE_SECONDS = 15.0


async def _stream(rt: Runtime, principal: Principal) -> AsyncIterator[ServerSentEventMessage]:
    pubsub = rt.redis.pubsub()
    await pubsub.subscribe(live.CHANNEL)
    try:
        yield ServerSentEventMessage(event="ready", data=msgspec.json.encode(
            {"role": principal.role, "unit": principal.unit}).decode(), retry=3000)
        while True:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=KEEPALIVE_SECONDS)
            if message is None:
                yield ServerSentEventMessage(comment="keepalive")
                continue
            raw = message["data"]
            try:
                data: dict[str, Any] = msgspec.json.decode(raw)
            except msgspec.DecodeError:
                continue
            if live.visible_to(data, principal.role, principal.unit):
                text = raw.decode() if isinstance(raw, bytes) else str(raw)
                yield ServerSentEventMessage(event=str(data.get("type", "message")), data=text)
    finally:
        # Shielded: the client went away and this generator is being cancelled.
        await asyncio.shield(_close(pubsub))


async def _close(pubsub: Any) -> None:
    try:
        await pubsub.unsubscribe(live.CHANNEL)
        await pubsub.aclose()
    except Exception:
        pass


@get("/api/live")
async def live_feed(rt: Runtime, principal: Principal) -> ServerSentEvent:
    principal.require("agent", "dispatcher", "handler", "manager", "admin")
    return ServerSentEvent(_stream(rt, principal), headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


ROUTES = [live_feed]
