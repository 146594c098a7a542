"""GET /api/escalations: open escalation steps (预警 / 超期 / 督办), filtered by unit, level, territory, clock."""

from __future__ import annotations

from typing import Any

from litestar import get

from hotline.auth.tokens import Principal
from hotline.escalation import open_steps
from hotline.infra.runtime import Runtime
from hotline.vocab import STAFF_ROLES
from hotline.web.contract import operation


@get("/api/escalations", **operation("listEscalations", "escalations", roles=STAFF_ROLES))
async def list_escalations(
    rt: Runtime,
    principal: Principal,
    unit: str | None = None,
    level: str | None = None,
    territory: str | None = None,
    clock: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> dict[str, Any]:
    return await open_steps.list_open(
        rt, principal, unit=unit, level=level, territory=territory, clock=clock, limit=limit, cursor=cursor
    )


ROUTES = [list_escalations]
