"""Territorial dispatch (属地管理、归口办理): pick the one unit for a category and territory.

Rules are data (loaded from config/data/reference.toml, kept in table routing_rules, changed by administrators:
hotline.admin.rules); the router holds the rules in force and the active units. The most specific rule wins: a
rule naming the territory beats a "*" rule. A rule sending cases to an inactive unit routes nothing (manual
dispatch). The decision records the rule that made it, for display and audit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from hotline.infra.runtime import Runtime
from hotline.tickets.shapes import TicketRuleView

BUREAU_TEMPLATE = "{territory}-bureau"


@dataclass(frozen=True)
class RuleRow:
    id: int
    category: str
    territory: str | None  # None = any territory
    unit: str | None  # None = the local bureau of the ticket's territory
    active: bool = True  # an inactive rule routes nothing; a ticket's routing still names it


@dataclass(frozen=True)
class Decision:
    unit: str | None
    rule_id: int | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"unit": self.unit, "rule_id": self.rule_id, "reason": self.reason}


def rule_view(rule: RuleRow) -> dict[str, Any]:
    """A rule as the API and console show it: "*" for any territory, the bureau template for the local bureau."""
    view = rule_shape(rule)
    return {"id": view.id, "category": view.category, "territory": view.territory, "unit": view.unit}


def rule_shape(rule: RuleRow) -> TicketRuleView:
    """The same, typed (the routing explanation's `rule`)."""
    return TicketRuleView(rule.id, rule.category, rule.territory or "*", rule.unit or BUREAU_TEMPLATE)


class Router:
    def __init__(self, rules: Iterable[RuleRow], units: Iterable[str], territories: Iterable[str]) -> None:
        self._units = set(units)
        self._territories = set(territories)
        self._exact: dict[tuple[str, str], RuleRow] = {}
        self._any: dict[str, RuleRow] = {}
        self._by_id: dict[int, RuleRow] = {}
        for rule in rules:
            self._by_id[rule.id] = rule
            if not rule.active:
                continue
            if rule.territory is None:
                self._any[rule.category] = rule
            else:
                self._exact[(rule.category, rule.territory)] = rule

    def rule(self, rule_id: int | None) -> RuleRow | None:
        """The rule with this id, in force or since deactivated (a decision names the rule that made it)."""
        return self._by_id.get(rule_id) if rule_id is not None else None

    def rules(self) -> list[RuleRow]:
        """The rules in force in the order they are tried: by category, a territory's own rule before the "*" one."""
        in_force = (r for r in self._by_id.values() if r.active)
        return sorted(in_force, key=lambda r: (r.category, r.territory is None, r.territory or "", r.id))

    def resolve(self, category: str | None, territory: str | None) -> Decision:
        if category is None:
            return Decision(None, None, "no category given: waiting for manual dispatch")
        if territory is not None and territory not in self._territories:
            return Decision(None, None, f"territory {territory} is not served here: waiting for manual dispatch")
        rule = self._exact.get((category, territory)) if territory else None
        if rule is None:
            rule = self._any.get(category)
        if rule is None:
            where = f"territory {territory}" if territory else "an unknown territory"
            return Decision(None, None, f"no routing rule for category {category} in {where}")
        if rule.unit is not None and rule.unit not in self._units:
            return Decision(
                None, rule.id, f"rule #{rule.id}: unit {rule.unit} is inactive: waiting for manual dispatch"
            )
        if rule.unit is not None:
            scope = f"territory {rule.territory}" if rule.territory else "any territory"
            return Decision(rule.unit, rule.id, f"rule #{rule.id}: category {category} in {scope} → {rule.unit}")
        if territory is None:
            return Decision(
                None, rule.id, f"rule #{rule.id} routes {category} to the local bureau, but no territory was given"
            )
        unit = BUREAU_TEMPLATE.format(territory=territory)
        if unit not in self._units:
            return Decision(None, rule.id, f"rule #{rule.id}: no local bureau {unit} for territory {territory}")
        return Decision(
            unit, rule.id, f"rule #{rule.id}: category {category} handled by the local bureau of {territory} → {unit}"
        )


class _Built:
    """The router built from a runtime's reference data, and which load of that data it was built from."""

    def __init__(self, runtime: Runtime) -> None:
        self.revision = -1
        self.router = Router([], [], [])


def router(rt: Runtime) -> Router:
    """The routing table of the reference data `rt` holds: built once per load of that data (start-up, and every
    reload an administrator's change of units or rules triggers in every process)."""
    built = rt.part(_Built)
    if built.revision != rt.reference_revision:
        rules = [RuleRow(r["id"], r["category"], r["territory"], r["unit"], r["active"]) for r in rt.routing_rules]
        built.router = Router(rules, rt.names.active_units, rt.names.territories)
        built.revision = rt.reference_revision
    return built.router
