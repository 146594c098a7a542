"""Admin: GET/PUT /api/admin/sla-policies, the SLA policy set in force (same shape as sla_policies.toml), and
PATCH /api/admin/accounts/{username} (active, role, unit, channel, display_name)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import get, patch, put
from litestar.params import Body

from hotline import accounts, policies
from hotline.auth import Principal
from hotline.runtime import Runtime


@get("/api/admin/sla-policies")
async def get_sla_policies(rt: Runtime, principal: Principal) -> dict[str, Any]:
    principal.require("admin")
    return await policies.current(rt)


@put("/api/admin/sla-policies", status_code=200)
async def put_sla_policies(data: Annotated[dict[str, Any], Body()], rt: Runtime, principal: Principal,
                           recompute_open: bool = False, expected_version: int | None = None) -> dict[str, Any]:
    return await policies.replace(rt, principal, data, expected_version=expected_version,
                                  recompute_open=recompute_open)


@patch("/api/admin/accounts/{username:str}")
async def change_account(username: str, data: Annotated[accounts.AccountChange, Body()], rt: Runtime,
                         principal: Principal) -> dict[str, Any]:
    return await accounts.change(rt, principal, username, data)


ROUTES = [get_sla_policies, put_sla_policies, change_account]
