"""Admin: units (GET /api/admin/units, PATCH /api/admin/units/{code}: display name, contact, active flag) and
routing rules (POST /api/admin/routing-rules, PATCH /api/admin/routing-rules/{rule_id}). Administrators only: the
guard answers 403 to any other role before the body is read. Each change is an admin event and reaches every
process at once (hotline.infra.reference_follower)."""

from __future__ import annotations

from typing import Annotated

from litestar import get, patch, post
from litestar.di import NamedDependency
from litestar.params import Body, FromPath

from hotline.admin import rules, units
from hotline.auth.tokens import Principal
from hotline.infra.runtime import Runtime
from hotline.vocab import ADMIN
from hotline.web.contract import operation

ADMINS = {ADMIN}


@get(
    "/api/admin/units",
    **operation(
        "listUnits",
        "admin",
        roles=ADMINS,
        summary="Every unit, active or not, by code",
        description="Display name, territory (null: city-wide), active flag and contact (person and phone).",
    ),
)
async def list_units(rt: NamedDependency[Runtime], principal: NamedDependency[Principal]) -> units.UnitList:
    return await units.listing(rt, principal)


@patch(
    "/api/admin/units/{code:str}",
    **operation(
        "updateUnit",
        "admin",
        roles=ADMINS,
        summary="Change a unit: display name, contact person and phone, active flag",
        description="Keys left out stay as they are. An inactive unit gets no new routing (its rules send cases to "
        "manual dispatch) and cannot be dispatched to; a new name shows at once in every ticket view.",
    ),
)
async def change_unit(
    code: FromPath[str],
    data: Annotated[units.UnitChange, Body()],
    rt: NamedDependency[Runtime],
    principal: NamedDependency[Principal],
) -> units.Unit:
    return await units.change(rt, principal, code, data)


@post(
    "/api/admin/routing-rules",
    status_code=201,
    **operation(
        "createRoutingRule",
        "admin",
        roles=ADMINS,
        summary='Add a routing rule: category + territory (or "*") → unit (or the local bureau)',
        description="Refused (422 naming `territory`) when a rule in force already covers the same category and "
        "territory: the most specific rule wins, and two equally specific ones would not say which. The router of "
        "every process uses it at once.",
    ),
)
async def create_rule(
    data: Annotated[rules.RuleNew, Body()], rt: NamedDependency[Runtime], principal: NamedDependency[Principal]
) -> rules.SavedRule:
    return await rules.create(rt, principal, data)


@patch(
    "/api/admin/routing-rules/{rule_id:int}",
    **operation(
        "updateRoutingRule",
        "admin",
        roles=ADMINS,
        summary="Change, deactivate or reactivate a routing rule",
        description="`active` false takes the rule out of the router (its category and territory then fall to the "
        "next rule, or to manual dispatch). A change of category, territory or unit deactivates the rule and adds "
        "its successor with a new id (`replaces`: the old one), so tickets' routing keeps naming the rule as it was. "
        "Overlaps are refused as when adding.",
    ),
)
async def change_rule(
    rule_id: FromPath[int],
    data: Annotated[rules.RuleChange, Body()],
    rt: NamedDependency[Runtime],
    principal: NamedDependency[Principal],
) -> rules.SavedRule:
    return await rules.change(rt, principal, rule_id, data)


ROUTES = [list_units, change_unit, create_rule, change_rule]
