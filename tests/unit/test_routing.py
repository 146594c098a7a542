"""Routing for every category × territory of the demo data, checked against DESIGN.md's rules written out here."""

import pytest

from config.reference import BUREAU_TEMPLATE, load_reference
from hotline.tickets.routing import Router, RuleRow

REF = load_reference()
ROUTER = Router(
    [
        RuleRow(
            r.id, r.category, None if r.territory == "*" else r.territory, None if r.unit == BUREAU_TEMPLATE else r.unit
        )
        for r in REF.rules
    ],
    REF.units,
    REF.territories,
)

CITY_ANYWHERE = {
    "highway": "city-highway",
    "toll": "city-highway",
    "waterway": "city-port",
    "construction": "city-quality",
    "driving_school": "city-transport",
}
CITY_IN_CENTRE = {"taxi": "city-taxi", "ride_hailing": "city-taxi", "bus": "city-bus"}
LOCAL_EXCEPT_CITY = {
    "road": "city-road",
    "road_admin": "city-roadadmin",
    "coach": "city-transport",
    "freight": "city-transport",
    "vehicle_repair": "city-transport",
}


def expected(category: str, territory: str) -> str:
    if category in CITY_ANYWHERE:
        return CITY_ANYWHERE[category]
    if category in CITY_IN_CENTRE:
        return CITY_IN_CENTRE[category] if territory in ("320613", "320600") else f"{territory}-bureau"
    if category in LOCAL_EXCEPT_CITY:
        return LOCAL_EXCEPT_CITY[category] if territory == "320600" else f"{territory}-bureau"
    assert category == "other"
    return "city-office"


@pytest.mark.parametrize("category", sorted(REF.categories))
@pytest.mark.parametrize("territory", sorted(REF.territories))
def test_every_category_and_territory_routes_to_the_designed_unit(category, territory):
    decision = ROUTER.resolve(category, territory)
    assert decision.unit == expected(category, territory)
    assert decision.rule_id is not None and f"rule #{decision.rule_id}" in decision.reason


def test_specific_rule_beats_wildcard():
    d = ROUTER.resolve("taxi", "320613")
    assert d.unit == "city-taxi"
    rule = next(r for r in REF.rules if r.id == d.rule_id)
    assert rule.territory == "320613"


def test_unresolvable_tickets_wait_for_dispatch():
    assert ROUTER.resolve(None, "320612").unit is None
    assert ROUTER.resolve("taxi", None).unit is None  # the local bureau needs a territory
    assert ROUTER.resolve("taxi", "110101").unit is None  # a territory this city does not serve
    assert "not served" in ROUTER.resolve("highway", "110101").reason
    assert ROUTER.resolve("highway", None).unit == "city-highway"  # anywhere means anywhere
