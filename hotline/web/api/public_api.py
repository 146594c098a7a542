"""Citizen side (外网受理、外网反馈、进程网上查): a web form and a progress check, rate-limited, nothing personal."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.params import Body

from hotline.auth.tokens import Principal
from hotline.errors import InvalidInput, NotFound
from hotline.infra.runtime import Runtime
from hotline.tickets import announcer, citizen, intake
from hotline.web import ratelimit

STATUS_ZH = {
    "pending_dispatch": "待派单",
    "dispatched": "已派单",
    "in_progress": "办理中",
    "return_requested": "办理中",
    "replied": "已答复",
    "closed": "已办结",
}


class PublicTicketIn(msgspec.Struct):
    kind: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    content: Annotated[str, msgspec.Meta(min_length=1, max_length=5000)]
    caller: intake.Caller
    category: Annotated[str, msgspec.Meta(max_length=40)] | None = None
    territory: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{6}$")] | None = None
    address: Annotated[str, msgspec.Meta(max_length=300)] | None = None
    location: intake.Location | None = None
    website: str | None = None  # the honeypot (citizen.HONEYPOT): empty when a person fills the form in


def _client(request: Request[Any, Any, Any]) -> str:
    # The peer's address, or the forwarded one when the peer is a trusted proxy (HOTLINE_TRUSTED_PROXIES, applied
    # by the app's middleware): a header a client writes itself is never the key of its own limit.
    return request.client.host if request.client else "unknown"


async def _web_principal(rt: Runtime) -> Principal:
    row = await rt.pool.fetchrow("SELECT id FROM users WHERE username = 'public-web'")
    if row is None:
        row = await rt.pool.fetchrow(
            """INSERT INTO users (username, password_hash, role, channel, display_name, active)
               VALUES ('public-web', '!', 'integration', 'web', '网上受理', false)
               ON CONFLICT (username) DO UPDATE SET username = EXCLUDED.username RETURNING id"""
        )
    assert row is not None  # the upsert returns its row
    return Principal(row["id"], "public-web", "integration", "网上受理", channel="web")


@post("/public/tickets", status_code=201)
async def submit(
    data: Annotated[PublicTicketIn, Body()], request: Request[Any, Any, Any], rt: Runtime
) -> dict[str, Any]:
    await ratelimit.hit(
        rt.redis, "public-submit", _client(request), max(1, rt.settings.public_rate_limit_per_minute // 6)
    )
    if not data.caller.phone:
        raise InvalidInput(
            "a phone number is needed to check progress and to call you back", fields={"caller.phone": "required"}
        )
    citizen.check_submission(data.caller.phone, data.website)
    principal = await _web_principal(rt)
    ticket_in = intake.TicketIn(
        channel="web",
        kind=data.kind,
        title=data.title,
        content=data.content,
        category=data.category,
        territory=data.territory,
        caller=data.caller,
        address=data.address,
        location=data.location,
    )
    announcer.ensure_room(rt)
    result = await intake.create_ticket(rt, principal, ticket_in, idempotency_key=None)
    number = await rt.pool.fetchval("SELECT number FROM tickets WHERE id = $1", result.ticket_id)
    announcer.announce(rt, result, number)  # as every channel's new ticket: near steps armed, the feed told
    return {
        "number": number,
        "message": "已受理，请凭受理编号和手机号后四位查询办理进度",
        **await citizen.submitted(rt, number),
    }


@get("/public/tickets/{number:str}")
async def progress(number: str, request: Request[Any, Any, Any], rt: Runtime, phone_tail: str = "") -> dict[str, Any]:
    await ratelimit.hit(rt.redis, "public-check", _client(request), rt.settings.public_rate_limit_per_minute)
    if len(phone_tail) != 4 or not phone_tail.isdigit():
        raise InvalidInput("phone_tail is the last 4 digits of the caller's phone", fields={"phone_tail": "4 digits"})
    row = await rt.pool.fetchrow(
        """SELECT number, status, closure, unit, kind, category, received_at, replied_at, closed_at, reply_content,
                  reply_outcome, answer
           FROM tickets WHERE number = $1 AND caller_phone_tail = $2""",
        number,
        phone_tail,
    )
    if row is None:
        # The same answer for an unknown number and a wrong tail: the page reveals nothing to a guesser.
        raise NotFound("no ticket with that number and phone tail")
    iso = lambda v: v.isoformat() if v else None  # noqa: E731
    return {
        "number": row["number"],
        "status": row["status"],
        "status_text": STATUS_ZH[row["status"]],
        "closure": row["closure"],
        "kind": row["kind"],
        "category": row["category"],
        "unit_name": rt.names.units.get(row["unit"]) if row["unit"] else None,
        "received_at": iso(row["received_at"]),
        "replied_at": iso(row["replied_at"]),
        "closed_at": iso(row["closed_at"]),
        "reply": row["reply_content"] if row["reply_content"] is not None else row["answer"],
        "reply_outcome": row["reply_outcome"],
        "checked_at": (checked := datetime.now(UTC)).isoformat(),
        # In the calendar's zone and the timeline's format: the phone's own clock and locale may be anything.
        "checked_at_text": checked.astimezone(rt.calendar.tz).strftime("%Y-%m-%d %H:%M:%S"),
        **await citizen.progress(rt, row["number"]),
    }


ROUTES = [submit, progress]
