"""Admin: GET/PUT /api/admin/sla-policies, the SLA policy set in force (same shape as sla_policies.toml); staff
accounts: GET/POST /api/admin/accounts, PATCH /api/admin/accounts/{username} (active, role, unit, channel,
display_name), POST .../reset-password and .../unlock; routing: GET /api/admin/routing-rules and
GET /api/admin/routing-test; the record of admin changes: GET /api/admin/events."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import get, patch, post, put
from litestar.params import Body

from hotline.admin import audit as admin_events
from hotline.admin import calendar_exceptions as calendar_admin
from hotline.admin import routing_rules as routing_admin
from hotline.auth import accounts
from hotline.auth.tokens import Principal
from hotline.errors import InvalidInput
from hotline.infra.runtime import Runtime
from hotline.policies import store as policies
from hotline.vocab import ADMIN


@get("/api/admin/sla-policies")
async def get_sla_policies(rt: Runtime, principal: Principal) -> dict[str, Any]:
    principal.require(ADMIN)
    return await policies.current(rt)


@put("/api/admin/sla-policies", status_code=200)
async def put_sla_policies(
    data: Annotated[dict[str, Any], Body()],
    rt: Runtime,
    principal: Principal,
    recompute_open: bool = False,
    expected_version: int | None = None,
) -> dict[str, Any]:
    """A new version of the set; an optional `reason` in the body is kept with it and in the admin events."""
    reason = data.get("reason") if isinstance(data, dict) else None
    if reason is not None and not isinstance(reason, str):
        raise InvalidInput("reason: text", fields={"reason": "text"})
    return await policies.replace(
        rt, principal, data, expected_version=expected_version, recompute_open=recompute_open, reason=reason
    )


@post("/api/admin/sla-policies/preview", status_code=200)
async def preview_sla_policies(
    data: Annotated[dict[str, Any], Body()], rt: Runtime, principal: Principal
) -> dict[str, Any]:
    """Without saving: the diff against the set in force and how many running clocks a recomputation would move
    (`would_move`) out of `open_clocks` (`would_skip`: paused clocks it leaves alone)."""
    return await policies.preview(rt, principal, data)


@get("/api/admin/sla-policies/versions")
async def sla_policy_versions(rt: Runtime, principal: Principal) -> dict[str, Any]:
    """Every version, newest first: who made it, when, why, and whether its recomputation finished."""
    return await policies.versions(rt, principal)


@get("/api/admin/sla-policies/versions/{number:int}")
async def sla_policy_version(number: int, rt: Runtime, principal: Principal) -> dict[str, Any]:
    return await policies.version(rt, principal, number)


@get("/api/admin/accounts")
async def list_accounts(
    rt: Runtime,
    principal: Principal,
    q: str | None = None,
    role: str | None = None,
    active: bool | None = None,
    limit: int = 200,
) -> dict[str, Any]:
    """Accounts by username; `q` matches any part of the username or display name. `locked_seconds`: how long
    the account must still wait after failed sign-ins (0: not locked)."""
    return await accounts.listing(rt, principal, q=q, role=role, active=active, limit=limit)


@post("/api/admin/accounts", status_code=201)
async def create_account(
    data: Annotated[accounts.AccountNew, Body()], rt: Runtime, principal: Principal
) -> dict[str, Any]:
    """A new account (`username`, `role`, `display_name`, `unit` for a handler, `channel` for an integration).
    Without `password` the answer carries a one-time `password`, shown only here, changed at first sign-in."""
    return await accounts.create(rt, principal, data)


@post("/api/admin/accounts/{username:str}/reset-password", status_code=200)
async def reset_password(username: str, rt: Runtime, principal: Principal) -> dict[str, Any]:
    """A one-time password, shown only in this answer; the account must change it at its next sign-in."""
    return await accounts.reset_password(rt, principal, username)


@post("/api/admin/accounts/{username:str}/unlock", status_code=200)
async def unlock_account(username: str, rt: Runtime, principal: Principal) -> dict[str, Any]:
    """Forget the account's failed sign-ins (the throttle's wait ends now)."""
    return await accounts.unlock(rt, principal, username)


@get("/api/admin/events")
async def list_admin_events(
    rt: Runtime,
    principal: Principal,
    what: str | None = None,
    subject: str | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> dict[str, Any]:
    """Administrators' changes, newest first: actor, time, what (`account.create`...), subject, before, after."""
    return await admin_events.recent(rt, principal, what_prefix=what, subject=subject, before_id=before_id, limit=limit)


@get("/api/admin/routing-rules")
async def list_routing_rules(rt: Runtime, principal: Principal) -> dict[str, Any]:
    """The routing rules in the order the router tries them (the first that matches decides)."""
    return routing_admin.rules(rt, principal)


@get("/api/admin/routing-test")
async def test_routing(
    rt: Runtime, principal: Principal, category: str | None = None, territory: str | None = None
) -> dict[str, Any]:
    """Where the live router sends a category and territory, and the rule that fired."""
    return routing_admin.test(rt, principal, category, territory)


@get("/api/admin/calendar")
async def calendar_overview(rt: Runtime, principal: Principal) -> dict[str, Any]:
    """The working calendar in force: years with official data, whole-year overrides, local exceptions, office
    hours (loaded from config/data/calendar.toml)."""
    return calendar_admin.overview(rt, principal)


@post("/api/admin/calendar/exception-preview", status_code=200)
async def preview_calendar_exception(
    data: Annotated[calendar_admin.ExceptionPreview, Body()], rt: Runtime, principal: Principal
) -> dict[str, Any]:
    """Without saving: how many running clocks' deadlines a local exception (`date`, `working`, `reason`) would
    move, and the first of them (ticket, clock, due now, due with the exception)."""
    return await calendar_admin.preview_exception(rt, principal, data)


@patch("/api/admin/accounts/{username:str}")
async def change_account(
    username: str, data: Annotated[accounts.AccountChange, Body()], rt: Runtime, principal: Principal
) -> dict[str, Any]:
    return await accounts.change(rt, principal, username, data)


ROUTES = [
    get_sla_policies,
    put_sla_policies,
    preview_sla_policies,
    sla_policy_versions,
    sla_policy_version,
    list_accounts,
    create_account,
    change_account,
    reset_password,
    unlock_account,
    list_admin_events,
    list_routing_rules,
    test_routing,
    calendar_overview,
    preview_calendar_exception,
]
