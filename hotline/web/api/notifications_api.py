"""GET /api/notifications (the signed-in user's own) and marking them read."""

from __future__ import annotations

from typing import Annotated

from litestar import get, post
from litestar.di import NamedDependency
from litestar.params import Body, FromPath, FromQuery, QueryParameter

from hotline.auth.tokens import Principal
from hotline.escalation import notifications
from hotline.infra.runtime import Runtime
from hotline.web.contract import operation


@get(
    "/api/notifications",
    **operation(
        "listNotifications",
        "escalations",
        summary="The signed-in user's notifications (站内通知), newest first",
        description="By pages (`next_cursor`); `unread` counts every unread one.",
    ),
)
async def list_notifications(
    rt: NamedDependency[Runtime],
    principal: NamedDependency[Principal],
    unread: Annotated[bool, QueryParameter(description="Only the unread ones")] = False,
    limit: FromQuery[int] = 50,
    cursor: FromQuery[str | None] = None,
) -> notifications.NotificationPage:
    return await notifications.list_for(rt, principal, unread=unread, limit=limit, cursor=cursor)


@post(
    "/api/notifications/read",
    status_code=200,
    **operation(
        "markNotificationsRead",
        "escalations",
        summary="Mark notifications read: the given ids, or all",
        description="Ids of other users' notifications are ignored.",
    ),
)
async def mark_read(
    data: Annotated[notifications.MarkRead, Body()], rt: NamedDependency[Runtime], principal: NamedDependency[Principal]
) -> notifications.MarkedRead:
    return await notifications.mark_read(rt, principal, data)


@post(
    "/api/notifications/{notification_id:int}/read",
    status_code=200,
    **operation(
        "markNotificationRead",
        "escalations",
        summary="Mark one notification read",
        description="The notification, now read; another user's is not found (404).",
    ),
)
async def mark_one_read(
    notification_id: FromPath[int], rt: NamedDependency[Runtime], principal: NamedDependency[Principal]
) -> notifications.Notification:
    return await notifications.mark_one(rt, principal, notification_id)


ROUTES = [list_notifications, mark_read, mark_one_read]
