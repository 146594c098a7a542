"""GET /api/sla/deadlines: what a ticket received at an instant would be given (for agents and callers)."""

from __future__ import annotations

from datetime import UTC, datetime

from litestar import get
from litestar.di import NamedDependency
from litestar.params import FromQuery

import sla
from hotline.auth.tokens import Principal
from hotline.errors import InvalidInput
from hotline.escalation import clocks
from hotline.infra.runtime import Runtime
from hotline.tickets.deadline_explanation import typed
from hotline.tickets.shapes import DeadlineExplanations, SlaPreview
from hotline.web.contract import operation


@get(
    "/api/sla/deadlines",
    **operation(
        "getSlaDeadlines",
        "reference",
        summary="Preview the sign (签收) and reply (答复) deadlines a ticket received at an instant would get",
        description=(
            "In working time by the calendar (holidays, make-up workdays, office hours); `provisional` when the "
            "calendar of that year is not yet published. `received_at` defaults to now. `territory` (a GB/T 2260 "
            "code) adds that territory's own local exceptions (a typhoon day off) to the city's calendar."
        ),
    ),
)
async def deadlines(
    rt: NamedDependency[Runtime],
    principal: NamedDependency[Principal],
    channel: FromQuery[str] = "96196",
    kind: FromQuery[str] = "complaint",
    urgent: FromQuery[bool] = False,
    received_at: FromQuery[datetime | None] = None,
    territory: FromQuery[str | None] = None,
) -> SlaPreview:
    fields: dict[str, str] = {}
    if channel not in rt.names.channels:
        fields["channel"] = f"unknown channel {channel!r}"
    if kind not in rt.names.kinds:
        fields["kind"] = f"unknown kind {kind!r}"
    if territory is not None and territory not in rt.names.territories:
        fields["territory"] = f"unknown territory {territory!r}"
    if received_at is not None and received_at.tzinfo is None:
        fields["received_at"] = "must carry a UTC offset"
    elif received_at is not None and sla.out_of_range(received_at):
        # Refused before any working time is counted: 9999-12-31 once looped for ever, year 1 overflowed.
        fields["received_at"] = sla.out_of_range(received_at)  # type: ignore[assignment]
    if fields:
        raise InvalidInput("; ".join(f"{k}: {v}" for k, v in fields.items()), fields=fields)
    at = received_at or datetime.now(UTC)
    policies = await rt.current_policies()
    calendar = rt.calendar_for(territory)
    sign = clocks.compute(
        policies, calendar, clock="sign", start=at, channel=channel, kind=kind, urgent=urgent
    ).deadline
    reply = clocks.compute(
        policies, calendar, clock="reply", start=at, channel=channel, kind=kind, urgent=urgent
    ).deadline
    return SlaPreview(
        received_at=at.isoformat(),
        sign=sign.due_at.isoformat(),
        reply=reply.due_at.isoformat(),
        provisional=sign.provisional or reply.provisional,
        explanation=DeadlineExplanations(sign=typed(sign.explain(calendar)), reply=typed(reply.explain(calendar))),
    )


ROUTES = [deadlines]
