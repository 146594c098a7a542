"""Admin: units (GET /api/admin/units, PATCH /api/admin/units/{code}: display name, contact, active flag),
territories (GET /api/admin/territories, PATCH /api/admin/territories/{code}: display name) and routing rules
(POST /api/admin/routing-rules, PATCH /api/admin/routing-rules/{rule_id}, GET /api/admin/routing-rules/deactivated).
Administrators only: the guard answers 403 to any other role before the body is read. Each change is an admin event
and reaches every process at once (hotline.infra.reference_follower)."""

from __future__ import annotations

from typing import Annotated

from litestar import get, patch, post
from litestar.di import NamedDependency
from litestar.params import Body, FromPath

from hotline.admin import routing_rules, rules, territories, units
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


@get(
    "/api/admin/territories",
    **operation(
        "listTerritories",
        "admin",
        roles=ADMINS,
        summary="Every territory (GB/T 2260 code), the city first",
        description="Display name, the territory it belongs to (null: the city itself) and how many units are "
        "based in it.",
    ),
)
async def list_territories(
    rt: NamedDependency[Runtime], principal: NamedDependency[Principal]
) -> territories.TerritoryList:
    return await territories.listing(rt, principal)


@patch(
    "/api/admin/territories/{code:str}",
    **operation(
        "updateTerritory",
        "admin",
        roles=ADMINS,
        summary="Rename a territory",
        description="Only the display name changes: the code is GB/T 2260's, the one tickets, rules and reports "
        "name. The new name shows at once in every process (intake's choices, ticket views, rules, reports).",
    ),
)
async def change_territory(
    code: FromPath[str],
    data: Annotated[territories.TerritoryChange, Body()],
    rt: NamedDependency[Runtime],
    principal: NamedDependency[Principal],
) -> territories.Territory:
    return await territories.change(rt, principal, code, data)


@get(
    "/api/admin/routing-rules/deactivated",
    **operation(
        "listDeactivatedRoutingRules",
        "admin",
        roles=ADMINS,
        summary="The routing rules out of force, newest first, to reactivate",
        description="Deactivated rules and rules replaced by a successor. `in_force` names the rule now in force "
        "for the same category and territory: reactivating this one is refused (422) while that one is.",
    ),
)
async def list_deactivated_rules(
    rt: NamedDependency[Runtime], principal: NamedDependency[Principal]
) -> routing_rules.DeactivatedRuleList:
    return await routing_rules.deactivated(rt, principal)


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


ROUTES = [
    list_units,
    change_unit,
    list_territories,
    change_territory,
    list_deactivated_rules,
    create_rule,
    change_rule,
]
