"""The administrator's view of routing: the rules in force, in the order the router tries them, the deactivated ones
(to reactivate), and a trial of the live router (category + territory → unit, and the rule that fired), exactly as
intake would route."""

from __future__ import annotations

import msgspec

from hotline.auth.tokens import Principal
from hotline.errors import InvalidInput
from hotline.infra.runtime import Runtime
from hotline.tickets import routing
from hotline.tickets.routing import RuleRow, rule_view
from hotline.vocab import ADMIN


class RuleView(msgspec.Struct):
    """A rule: `territory` "*" for any territory, `unit` the bureau template ("{territory}-bureau") for the local
    bureau of the ticket's territory."""

    id: int
    category: str
    territory: str
    unit: str


class RoutingRule(msgspec.Struct):
    """A rule in the order the router tries it (the first that matches decides), with the names of its codes."""

    id: int
    category: str
    territory: str
    unit: str
    order: int
    category_name: str
    territory_name: str
    unit_name: str


class RoutingRuleList(msgspec.Struct):
    items: list[RoutingRule]


class DeactivatedRule(msgspec.Struct):
    """A rule out of force (deactivated, or replaced by a successor), newest first. `in_force` the id of the rule now
    in force for the same category and territory (reactivating this one is refused while it is), or null."""

    id: int
    category: str
    territory: str
    unit: str
    category_name: str
    territory_name: str
    unit_name: str
    in_force: int | None


class DeactivatedRuleList(msgspec.Struct):
    items: list[DeactivatedRule]


class RoutingTrial(msgspec.Struct):
    """Where the live router sends a category and territory (`unit` null: manual dispatch), why, and the rule."""

    unit: str | None
    rule_id: int | None
    reason: str
    unit_name: str | None
    rule: RuleView | None


def _rule(rule: RuleRow) -> RuleView:
    return RuleView(**rule_view(rule))  # as the console and a ticket's routing show it


def rules(rt: Runtime, principal: Principal) -> RoutingRuleList:
    principal.require(ADMIN)
    names = rt.names
    items = []
    for order, rule in enumerate(routing.router(rt).rules(), start=1):
        view = _rule(rule)
        items.append(
            RoutingRule(
                id=view.id,
                category=view.category,
                territory=view.territory,
                unit=view.unit,
                order=order,
                category_name=names.categories.get(rule.category, rule.category),
                territory_name=names.territories.get(rule.territory or "", "") if rule.territory else "",
                unit_name=names.units.get(rule.unit or "", "") if rule.unit else "",
            )
        )
    return RoutingRuleList(items=items)


async def deactivated(rt: Runtime, principal: Principal) -> DeactivatedRuleList:
    principal.require(ADMIN)
    names = rt.names
    # The rule in force is read with the rest, not from this process's router: another process may have just
    # changed it, and this one's router follows a moment later.
    rows = await rt.pool.fetch(
        """SELECT r.id, r.category, r.territory, r.unit,
                  (SELECT f.id FROM routing_rules f WHERE f.active AND f.category = r.category
                     AND f.territory IS NOT DISTINCT FROM r.territory) AS in_force
           FROM routing_rules r WHERE NOT r.active ORDER BY r.id DESC"""
    )
    items = []
    for r in rows:
        rule = RuleRow(r["id"], r["category"], r["territory"], r["unit"], False)
        view = _rule(rule)
        items.append(
            DeactivatedRule(
                id=view.id,
                category=view.category,
                territory=view.territory,
                unit=view.unit,
                category_name=names.categories.get(rule.category, rule.category),
                territory_name=names.territories.get(rule.territory, "") if rule.territory else "",
                unit_name=names.units.get(rule.unit, "") if rule.unit else "",
                in_force=r["in_force"],
            )
        )
    return DeactivatedRuleList(items=items)


def test(rt: Runtime, principal: Principal, category: str | None, territory: str | None) -> RoutingTrial:
    principal.require(ADMIN)
    fields = {}
    if category and category not in rt.names.categories:
        fields["category"] = f"unknown category {category!r}"
    if territory and territory not in rt.names.territories:
        fields["territory"] = f"unknown territory {territory!r}"
    if fields:
        raise InvalidInput("; ".join(f"{k}: {v}" for k, v in fields.items()), fields=fields)
    decision = routing.router(rt).resolve(category or None, territory or None)
    rule = routing.router(rt).rule(decision.rule_id)
    return RoutingTrial(
        unit=decision.unit,
        rule_id=decision.rule_id,
        reason=decision.reason,
        unit_name=rt.names.units.get(decision.unit or ""),
        rule=_rule(rule) if rule else None,
    )
