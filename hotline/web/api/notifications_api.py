"""GET /api/notifications (the signed-in user's own) and marking them read."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import get, post
from litestar.params import Body

from hotline.auth.tokens import Principal
from hotline.escalation import notifications
from hotline.infra.runtime import Runtime


@get("/api/notifications")
async def list_notifications(
    rt: Runtime, principal: Principal, unread: bool = False, limit: int = 50, cursor: str | None = None
) -> dict[str, Any]:
    return await notifications.list_for(rt, principal, unread=unread, limit=limit, cursor=cursor)


@post("/api/notifications/read", status_code=200)
async def mark_read(
    data: Annotated[notifications.MarkRead, Body()], rt: Runtime, principal: Principal
) -> dict[str, Any]:
    return await notifications.mark_read(rt, principal, data)


@post("/api/notifications/{notification_id:int}/read", status_code=200)
async def mark_one_read(notification_id: int, rt: Runtime, principal: Principal) -> dict[str, Any]:
    return await notifications.mark_one(rt, principal, notification_id)


ROUTES = [list_notifications, mark_read, mark_one_read]
