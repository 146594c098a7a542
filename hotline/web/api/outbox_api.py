"""GET /api/outbox and POST /api/outbox/{id}/retry: the upstream feedback outbox (外网反馈) for admins and managers."""

from __future__ import annotations

from litestar import get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery

from hotline.infra.runtime import Runtime
from hotline.upstream import listing
from hotline.vocab import READER_ROLES
from hotline.web.contract import operation


@get(
    "/api/outbox",
    **operation(
        "listOutbox",
        "admin",
        roles=READER_ROLES,
        summary="Feedback deliveries to the upstream platforms (外网反馈)",
        description="Events told back to the 12345 / 12328 / 12319 platform a case came from, newest first, by pages "
        "(`next_cursor`), with attempts, last error and next attempt. `status`: pending (not tried yet), failed "
        "(tried, retrying with backoff), dead (given up: re-drive it), delivered; without it, every one not "
        "delivered. `channel`: one platform's.",
    ),
)
async def list_outbox(
    rt: NamedDependency[Runtime],
    status: FromQuery[str | None] = None,
    channel: FromQuery[str | None] = None,
    limit: FromQuery[int] = 50,
    cursor: FromQuery[str | None] = None,
) -> listing.OutboxPage:
    return await listing.list_outbox(rt, status=status, channel=channel, limit=limit, cursor=cursor)


@post(
    "/api/outbox/{outbox_id:int}/retry",
    status_code=200,
    **operation(
        "retryOutboxDelivery",
        "admin",
        roles=READER_ROLES,
        summary="Re-drive a dead feedback delivery (重试)",
        description="A dead letter gets a fresh set of attempts from now (its ticket's later events follow it, in "
        "order). 409 when it is not dead.",
    ),
)
async def retry_outbox_delivery(rt: NamedDependency[Runtime], outbox_id: FromPath[int]) -> listing.OutboxDelivery:
    return await listing.retry(rt, outbox_id)


ROUTES = [list_outbox, retry_outbox_delivery]
