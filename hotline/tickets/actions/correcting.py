"""更正属地与类别: a dispatcher corrects the territory or category of a ticket waiting for dispatch (a missing
territory is often all that kept the router from routing it). The event records both before and after, and the
router's suggestion is computed again from the corrected codes; the dispatcher still dispatches."""

from __future__ import annotations

from hotline.errors import InvalidInput
from hotline.tickets import routing
from hotline.tickets.actions.table import Ctx, action
from hotline.tickets.bodies import ReclassifyBody
from hotline.vocab import DISPATCHING_ROLES


@action("reclassify", DISPATCHING_ROLES, {"pending_dispatch"}, ReclassifyBody)
async def reclassify(c: Ctx) -> None:
    b: ReclassifyBody = c.body
    names = c.rt.names
    fields: dict[str, str] = {}
    if b.territory is not None and b.territory not in names.territories:
        fields["territory"] = f"unknown territory {b.territory!r}"
    if b.category is not None and b.category not in names.categories:
        fields["category"] = f"unknown category {b.category!r}"
    before = {"territory": c.ticket["territory"], "category": c.ticket["category"]}
    after = {
        "territory": b.territory if b.territory is not None else before["territory"],
        "category": b.category if b.category is not None else before["category"],
    }
    if not fields and after == before:
        fields["territory" if b.category is None else "category"] = (
            "give a territory or category that differs from the ticket's"
        )
    if fields:
        raise InvalidInput("; ".join(f"{k}: {v}" for k, v in fields.items()), fields=fields)
    decision = routing.router(c.rt).resolve(after["category"], after["territory"])
    c.updates.update(territory=after["territory"], category=after["category"], routing=decision.to_dict())
    c.status_after = c.ticket["status"]
    c.payload = {"before": before, "after": after, "routing": decision.to_dict()}
