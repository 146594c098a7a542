"""Citizen side (外网受理、外网反馈、进程网上查): a web form and a progress check, rate-limited, nothing personal."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import Body, FromPath, FromQuery

from hotline.errors import InvalidInput, NotFound
from hotline.infra.runtime import Runtime
from hotline.tickets import announcer, citizen, intake
from hotline.web import ratelimit
from hotline.web.contract import operation


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


@post(
    "/public/tickets",
    status_code=201,
    **operation(
        "submitPublicTicket",
        "public",
        public=True,
        summary="A citizen's case from the web form",
        description="Checked as the form is (a Chinese mobile or a landline with its area code; the honeypot field "
        "`website` left empty) and rate-limited per client address. The answer gives the number to follow the "
        "case by, with the last four digits of the phone.",
    ),
)
async def submit(
    data: Annotated[PublicTicketIn, Body()], request: Request[Any, Any, Any], rt: NamedDependency[Runtime]
) -> citizen.PublicSubmission:
    await ratelimit.hit(
        rt.redis, "public-submit", _client(request), max(1, rt.settings.public_rate_limit_per_minute // 6)
    )
    if not data.caller.phone:
        raise InvalidInput(
            "a phone number is needed to check progress and to call you back", fields={"caller.phone": "required"}
        )
    citizen.check_submission(data.caller.phone, data.website)
    principal = await citizen.web_principal(rt)
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
    assert result.ticket is not None  # no idempotency key: always a new ticket, with its row
    number = result.ticket["number"]
    announcer.announce(rt, result, number)  # as every channel's new ticket: near steps armed, the feed told
    return await citizen.submitted(rt, number)


@get(
    "/public/tickets/{number:str}",
    **operation(
        "getPublicProgress",
        "public",
        public=True,
        summary="A case's progress, for the citizen who gave its phone number",
        description="`phone_tail`: the last 4 digits of the caller's phone. Status, unit name, dates, the reply and "
        "the timeline; nothing personal. An unknown number and a wrong tail get the same 404. Rate-limited per "
        "client address.",
    ),
)
async def progress(
    number: FromPath[str],
    request: Request[Any, Any, Any],
    rt: NamedDependency[Runtime],
    phone_tail: FromQuery[str] = "",
) -> citizen.PublicProgress:
    await ratelimit.hit(rt.redis, "public-check", _client(request), rt.settings.public_rate_limit_per_minute)
    if len(phone_tail) != 4 or not phone_tail.isdigit():
        raise InvalidInput("phone_tail is the last 4 digits of the caller's phone", fields={"phone_tail": "4 digits"})
    found = await citizen.progress(rt, number, phone_tail)
    if found is None:
        # The same answer for an unknown number and a wrong tail: the page reveals nothing to a guesser.
        raise NotFound("no ticket with that number and phone tail")
    return found


ROUTES = [submit, progress]
