"""GET /api/escalations: open escalation steps (预警 / 超期 / 督办), filtered by unit, level, territory, clock."""

from __future__ import annotations

from litestar import get
from litestar.di import NamedDependency
from litestar.params import FromQuery

from hotline.auth.tokens import Principal
from hotline.escalation import open_steps
from hotline.infra.runtime import Runtime
from hotline.vocab import STAFF_ROLES
from hotline.web.contract import operation


@get(
    "/api/escalations",
    **operation(
        "listEscalations",
        "escalations",
        roles=STAFF_ROLES,
        summary="Open escalation steps (预警 warning, 超期 overdue, 督办 supervision)",
        description="Steps whose clock still runs, newest first, by pages (`next_cursor`); a handler sees its own "
        "unit's only.",
    ),
)
async def list_escalations(
    rt: NamedDependency[Runtime],
    principal: NamedDependency[Principal],
    unit: FromQuery[str | None] = None,
    level: FromQuery[str | None] = None,
    territory: FromQuery[str | None] = None,
    clock: FromQuery[str | None] = None,
    limit: FromQuery[int] = 50,
    cursor: FromQuery[str | None] = None,
) -> open_steps.OpenStepPage:
    return await open_steps.list_open(
        rt, principal, unit=unit, level=level, territory=territory, clock=clock, limit=limit, cursor=cursor
    )


ROUTES = [list_escalations]
