"""The administrator's view of routing: the rules in force, in the order the router tries them, and a trial of the
live router (category + territory → unit, and the rule that fired), exactly as intake would route."""

from __future__ import annotations

from typing import Any

from hotline.auth.tokens import Principal
from hotline.errors import InvalidInput
from hotline.infra.runtime import Runtime
from hotline.tickets.routing import rule_view
from hotline.vocab import ADMIN


def rules(rt: Runtime, principal: Principal) -> dict[str, Any]:
    principal.require(ADMIN)
    names = rt.names
    items = []
    for order, rule in enumerate(rt.router.rules(), start=1):
        view = rule_view(rule)
        items.append(
            {
                **view,
                "order": order,
                "category_name": names.categories.get(rule.category, rule.category),
                "territory_name": names.territories.get(rule.territory or "", "") if rule.territory else "",
                "unit_name": names.units.get(rule.unit or "", "") if rule.unit else "",
            }
        )
    return {"items": items}


def test(rt: Runtime, principal: Principal, category: str | None, territory: str | None) -> dict[str, Any]:
    principal.require(ADMIN)
    fields = {}
    if category and category not in rt.names.categories:
        fields["category"] = f"unknown category {category!r}"
    if territory and territory not in rt.names.territories:
        fields["territory"] = f"unknown territory {territory!r}"
    if fields:
        raise InvalidInput("; ".join(f"{k}: {v}" for k, v in fields.items()), fields=fields)
    decision = rt.router.resolve(category or None, territory or None)
    rule = rt.router.rule(decision.rule_id)
    return {
        **decision.to_dict(),
        "unit_name": rt.names.units.get(decision.unit or ""),
        "rule": rule_view(rule) if rule else None,
    }
