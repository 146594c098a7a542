"""Admin: GET/PUT /api/admin/sla-policies, the SLA policy set in force (same shape as sla_policies.toml); staff
accounts: GET/POST /api/admin/accounts, PATCH /api/admin/accounts/{username} (active, role, unit, channel,
display_name), POST .../reset-password and .../unlock; routing: GET /api/admin/routing-rules and
GET /api/admin/routing-test; the working calendar: GET /api/admin/calendar, POST .../exception-preview, the saved
local exceptions GET/POST /api/admin/calendar/exceptions and DELETE .../exceptions/{id} (withdraw); the record of
admin changes: GET /api/admin/events.

Every route admits administrators only: the guard answers 403 to any other role before the body is read (the
services check again, as a defence)."""

from __future__ import annotations

from typing import Annotated

from litestar import delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import Body, FromPath, FromQuery

from hotline.admin import calendar_exceptions as calendar_admin
from hotline.admin import calendar_store, events
from hotline.admin import routing_rules as routing_admin
from hotline.auth import accounts
from hotline.auth.tokens import Principal
from hotline.infra.runtime import Runtime
from hotline.policies import documents
from hotline.policies import store as policies
from hotline.vocab import ADMIN
from hotline.web.contract import operation

ADMINS = {ADMIN}


@get(
    "/api/admin/sla-policies",
    **operation(
        "getSlaPolicies",
        "admin",
        roles=ADMINS,
        summary="The SLA policy set in force",
        description="The latest stored version, or the set loaded from config/data/sla_policies.toml "
        "(`source` config, no `reason`).",
    ),
)
async def get_sla_policies(
    rt: NamedDependency[Runtime], principal: NamedDependency[Principal]
) -> documents.SlaPolicySet:
    return await policies.current(rt)


@put(
    "/api/admin/sla-policies",
    status_code=200,
    **operation(
        "replaceSlaPolicies",
        "admin",
        roles=ADMINS,
        summary="Put a new version of the SLA policy set in force",
        description="Validated as the config file is; an optional `reason` is kept with the version and in the "
        "admin events. `expected_version` refuses the change (409) if another version was saved meanwhile; "
        "`recompute_open` queues the recomputation of running clocks' deadlines.",
    ),
)
async def put_sla_policies(
    data: Annotated[documents.SlaPolicyDocument, Body()],
    rt: NamedDependency[Runtime],
    principal: NamedDependency[Principal],
    recompute_open: FromQuery[bool] = False,
    expected_version: FromQuery[int | None] = None,
) -> documents.SavedSlaPolicySet:
    reason = data.reason if isinstance(data.reason, str) else None
    return await policies.replace(
        rt, principal, data, expected_version=expected_version, recompute_open=recompute_open, reason=reason
    )


@post(
    "/api/admin/sla-policies/preview",
    status_code=200,
    **operation(
        "previewSlaPolicies",
        "admin",
        roles=ADMINS,
        summary="What saving a policy set would do, without saving it",
        description="The diff against the set in force and how many running clocks a recomputation would move "
        "(`would_move`) out of `open_clocks` (`would_skip`: paused clocks it leaves alone).",
    ),
)
async def preview_sla_policies(
    data: Annotated[documents.SlaPolicyDocument, Body()],
    rt: NamedDependency[Runtime],
    principal: NamedDependency[Principal],
) -> documents.SlaPolicyPreview:
    return await policies.preview(rt, principal, data)


@get(
    "/api/admin/sla-policies/versions",
    **operation(
        "listSlaPolicyVersions",
        "admin",
        roles=ADMINS,
        summary="Every stored SLA policy version, newest first",
        description="Who made it, when, why, and whether its recomputation finished.",
    ),
)
async def sla_policy_versions(
    rt: NamedDependency[Runtime], principal: NamedDependency[Principal]
) -> documents.SlaPolicyVersionList:
    return await policies.versions(rt, principal)


@get(
    "/api/admin/sla-policies/versions/{number:int}",
    **operation("getSlaPolicyVersion", "admin", roles=ADMINS, summary="One stored SLA policy version"),
)
async def sla_policy_version(
    number: FromPath[int], rt: NamedDependency[Runtime], principal: NamedDependency[Principal]
) -> documents.SlaPolicySet:
    return await policies.version(rt, principal, number)


@get(
    "/api/admin/accounts",
    **operation(
        "listAccounts",
        "admin",
        roles=ADMINS,
        summary="Staff and integration accounts, by username",
        description="`q` matches any part of the username or display name. `locked_seconds`: how long the account "
        "must still wait after failed sign-ins (0: not locked).",
    ),
)
async def list_accounts(
    rt: NamedDependency[Runtime],
    principal: NamedDependency[Principal],
    q: FromQuery[str | None] = None,
    role: FromQuery[str | None] = None,
    active: FromQuery[bool | None] = None,
    limit: FromQuery[int] = 200,
) -> accounts.AccountList:
    return await accounts.listing(rt, principal, q=q, role=role, active=active, limit=limit)


@post(
    "/api/admin/accounts",
    status_code=201,
    **operation(
        "createAccount",
        "admin",
        roles=ADMINS,
        summary="Create an account",
        description="`username`, `role`, `display_name`, `unit` for a handler, `channel` for an integration. "
        "Without `password` the answer carries a one-time `password`, shown only here, changed at first sign-in.",
    ),
)
async def create_account(
    data: Annotated[accounts.AccountNew, Body()], rt: NamedDependency[Runtime], principal: NamedDependency[Principal]
) -> accounts.Account:
    return await accounts.create(rt, principal, data)


@patch(
    "/api/admin/accounts/{username:str}",
    **operation(
        "updateAccount",
        "admin",
        roles=ADMINS,
        summary="Change an account: active, role, unit, channel, display name",
        description="Takes effect on the account's open sessions at once: they must sign in again.",
    ),
)
async def change_account(
    username: FromPath[str],
    data: Annotated[accounts.AccountChange, Body()],
    rt: NamedDependency[Runtime],
    principal: NamedDependency[Principal],
) -> accounts.AccountView:
    return await accounts.change(rt, principal, username, data)


@post(
    "/api/admin/accounts/{username:str}/reset-password",
    status_code=200,
    **operation(
        "resetAccountPassword",
        "admin",
        roles=ADMINS,
        summary="Give an account a one-time password",
        description="Shown only in this answer; the account must change it at its next sign-in.",
    ),
)
async def reset_password(
    username: FromPath[str], rt: NamedDependency[Runtime], principal: NamedDependency[Principal]
) -> accounts.PasswordReset:
    return await accounts.reset_password(rt, principal, username)


@post(
    "/api/admin/accounts/{username:str}/unlock",
    status_code=200,
    **operation(
        "unlockAccount",
        "admin",
        roles=ADMINS,
        summary="Forget an account's failed sign-ins",
        description="The sign-in throttle's wait ends now.",
    ),
)
async def unlock_account(
    username: FromPath[str], rt: NamedDependency[Runtime], principal: NamedDependency[Principal]
) -> accounts.Unlocked:
    return await accounts.unlock(rt, principal, username)


@get(
    "/api/admin/events",
    **operation(
        "listAdminEvents",
        "admin",
        roles=ADMINS,
        summary="Administrators' changes, newest first",
        description="Actor, time, what (`account.create`...; `what` filters by prefix), subject, before, after. "
        "Page with `before_id` (the last `id` seen).",
    ),
)
async def list_admin_events(
    rt: NamedDependency[Runtime],
    principal: NamedDependency[Principal],
    what: FromQuery[str | None] = None,
    subject: FromQuery[str | None] = None,
    before_id: FromQuery[int | None] = None,
    limit: FromQuery[int] = 50,
) -> events.AdminEventPage:
    return await events.recent(rt, principal, what_prefix=what, subject=subject, before_id=before_id, limit=limit)


@get(
    "/api/admin/routing-rules",
    **operation(
        "listRoutingRules",
        "admin",
        roles=ADMINS,
        summary="The routing rules, in the order the router tries them",
        description="The first rule that matches decides.",
    ),
)
async def list_routing_rules(
    rt: NamedDependency[Runtime], principal: NamedDependency[Principal]
) -> routing_admin.RoutingRuleList:
    return routing_admin.rules(rt, principal)


@get(
    "/api/admin/routing-test",
    **operation(
        "testRouting",
        "admin",
        roles=ADMINS,
        summary="Where the live router sends a category and territory",
        description="The unit, the reason and the rule that fired, exactly as intake would route.",
    ),
)
async def test_routing(
    rt: NamedDependency[Runtime],
    principal: NamedDependency[Principal],
    category: FromQuery[str | None] = None,
    territory: FromQuery[str | None] = None,
) -> routing_admin.RoutingTrial:
    return routing_admin.test(rt, principal, category, territory)


@get(
    "/api/admin/calendar",
    **operation(
        "getCalendar",
        "admin",
        roles=ADMINS,
        summary="The working calendar in force",
        description="Years with official data, whole-year overrides, local exceptions in force, office hours "
        "(config/data/calendar.toml, with the exceptions saved by an administrator on top).",
    ),
)
async def calendar_overview(
    rt: NamedDependency[Runtime], principal: NamedDependency[Principal]
) -> calendar_admin.CalendarOverview:
    # Read through, not within current_policies()'s second: the administrator who just saved or withdrew an
    # exception on another process must see it here at once (one small versions query).
    await rt.reload_policies()
    return calendar_admin.overview(rt, principal)


@post(
    "/api/admin/calendar/exception-preview",
    status_code=200,
    **operation(
        "previewCalendarException",
        "admin",
        roles=ADMINS,
        summary="What a local calendar exception would do, without saving it",
        description="How many running clocks' deadlines a local exception (`date`, `working`, `reason`) would "
        "move, and the first of them (ticket, clock, due now, due with the exception).",
    ),
)
async def preview_calendar_exception(
    data: Annotated[calendar_admin.ExceptionPreview, Body()],
    rt: NamedDependency[Runtime],
    principal: NamedDependency[Principal],
) -> calendar_admin.CalendarExceptionEffect:
    return await calendar_admin.preview_exception(rt, principal, data)


@get(
    "/api/admin/calendar/exceptions",
    **operation(
        "listCalendarExceptions",
        "admin",
        roles=ADMINS,
        summary="The local calendar exceptions administrators saved",
        description="In force first (`withdrawn_at` null), then withdrawn ones; by day, latest first. The "
        "exceptions of config/data/calendar.toml are in GET /api/admin/calendar.",
    ),
)
async def list_calendar_exceptions(
    rt: NamedDependency[Runtime], principal: NamedDependency[Principal]
) -> calendar_store.SavedCalendarExceptionList:
    return await calendar_store.listing(rt, principal)


@post(
    "/api/admin/calendar/exceptions",
    status_code=201,
    **operation(
        "saveCalendarException",
        "admin",
        roles=ADMINS,
        summary="Save a local calendar exception and move the running deadlines it changes",
        description="A day off (a typhoon day, `working` false) or a declared working day (`working` true), for the "
        "whole city, validated as the preview is (422 naming `date` or `reason`). Every process puts it in force; "
        "the running clocks are recomputed as after an SLA policy edit (`moved`; `recompute_more`: the worker "
        "finishes a large backlog).",
    ),
)
async def save_calendar_exception(
    data: Annotated[calendar_admin.ExceptionPreview, Body()],
    rt: NamedDependency[Runtime],
    principal: NamedDependency[Principal],
) -> calendar_store.CalendarChange:
    return await calendar_store.save(rt, principal, data)


@delete(
    "/api/admin/calendar/exceptions/{exception_id:int}",
    status_code=200,
    **operation(
        "withdrawCalendarException",
        "admin",
        roles=ADMINS,
        summary="Withdraw a saved local calendar exception",
        description="The day is as the calendar files say again; running clocks it moved are recomputed back. "
        "404 when no exception with this id is in force.",
    ),
)
async def withdraw_calendar_exception(
    exception_id: FromPath[int], rt: NamedDependency[Runtime], principal: NamedDependency[Principal]
) -> calendar_store.CalendarChange:
    return await calendar_store.withdraw(rt, principal, exception_id)


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
    list_calendar_exceptions,
    save_calendar_exception,
    withdraw_calendar_exception,
]
