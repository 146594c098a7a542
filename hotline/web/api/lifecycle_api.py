"""POST /api/tickets/{number}/{action}: every lifecycle action through one endpoint and one state machine."""

from __future__ import annotations

from typing import Any

from litestar import Request, post

from hotline.auth.tokens import Principal
from hotline.infra.runtime import Runtime
from hotline.tickets import lifecycle


@post(
    "/api/tickets/{number:str}/{action_name:str}",
    status_code=200,
    description="Actions: " + ", ".join(lifecycle.ACTIONS),
)
async def perform_action(
    number: str, action_name: str, request: Request[Any, Any, Any], rt: Runtime, principal: Principal
) -> dict[str, Any]:
    return await lifecycle.perform(rt, principal, number, action_name, await request.body())


ROUTES = [perform_action]
