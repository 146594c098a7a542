"""GET /api/live: the live feed as server-sent events, filtered by what the signed-in role may see.

Every API process holds one subscription to the Redis channel (hotline.infra.live.Hub), so a change committed by any
process reaches every browser, whichever process holds its connection, and a thousand open consoles cost a
process one Redis connection, not a thousand. A stream also ends when its own session is signed out or its account
deactivated or changed, and the browser's reconnect is refused (401), which sends the open page to the sign-in page
at once rather than at its next click.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import msgspec
from litestar import Request, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.openapi.spec import OpenAPIType, Schema
from litestar.response import Stream

from hotline.auth.tokens import Principal
from hotline.infra import live
from hotline.infra.runtime import Runtime
from hotline.vocab import STAFF_ROLES
from hotline.web.contract import operation
from hotline.web.media import success_media

KEEPALIVE_SECONDS = 15.0
READY_WAIT_SECONDS = 5.0
_KEEPALIVE = b": keepalive\r\n\r\n"
EVENT_STREAM = "text/event-stream"
# One event of the stream, as Schemathesis validates each: its `data` is one JSON document. A string beside it, as
# the stream read whole as text (what a generated client does with it).
_EVENT = Schema(
    type=OpenAPIType.OBJECT,
    properties={
        "event": Schema(type=OpenAPIType.STRING, enum=["ready", "ticket", "escalation", "reconnect"]),
        "data": Schema(type=OpenAPIType.STRING, content_media_type="application/json"),
        "id": Schema(type=OpenAPIType.STRING),
        "retry": Schema(type=OpenAPIType.INTEGER),
    },
    required=["data"],
)
EVENTS = success_media(
    {
        EVENT_STREAM: Schema(
            any_of=[Schema(type=OpenAPIType.STRING), _EVENT],
            description="Server-sent events, each a JSON `data:` line: `ready` ({role, unit}) once subscribed, then "
            "`ticket` and `escalation` for changes this account may see, `reconnect` ({reason}) when the stream "
            "ends and the page should reload; a `: keepalive` comment every 15 s of silence.",
        )
    },
    only=True,
)


def hub_of(state: State, rt: Runtime) -> live.Hub:
    hub: live.Hub | None = getattr(state, "live_hub", None)
    if hub is None or hub.redis is not rt.redis:
        hub = state.live_hub = live.Hub(rt.redis)
    return hub


async def close_hub(state: State) -> None:
    hub: live.Hub | None = getattr(state, "live_hub", None)
    if hub is not None:
        await hub.close()


async def _stream(hub: live.Hub, principal: Principal) -> AsyncIterator[bytes]:
    client = hub.join(principal.role, principal.unit, principal.user_id, principal.token_id)
    try:
        # Once subscribed, so what is committed after `ready` reaches this feed; with Redis down the feed opens
        # anyway and is told to reconnect (and reload) when the subscription is back.
        await hub.wait_ready(READY_WAIT_SECONDS)
        ready = msgspec.json.encode({"role": principal.role, "unit": principal.unit}).decode()
        yield f"event: ready\r\ndata: {ready}\r\nretry: 3000\r\n\r\n".encode()
        while True:
            chunk = await client.next(KEEPALIVE_SECONDS)
            if chunk is None:
                yield _KEEPALIVE
            elif chunk == live.END:
                return
            else:
                yield chunk
    finally:
        hub.leave(client)


@get(
    "/api/live",
    **operation(
        "streamLiveFeed",
        "ops",
        roles=STAFF_ROLES,
        summary="The live feed: committed changes as server-sent events",
        description="Filtered by what the signed-in role and unit may see. The stream ends when its session is "
        "signed out or its account deactivated or changed.",
    ),
    operation_class=EVENTS,
)
async def live_feed(
    rt: NamedDependency[Runtime], principal: NamedDependency[Principal], request: Request[Any, Any, Any]
) -> Stream:
    headers: dict[str, Any] = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return Stream(_stream(hub_of(request.app.state, rt), principal), media_type=EVENT_STREAM, headers=headers)


ROUTES = [live_feed]
