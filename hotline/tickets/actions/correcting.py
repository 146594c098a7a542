"""更正属地与类别: a dispatcher corrects the territory or category of a ticket waiting for dispatch (a missing
territory is often all that kept the router from routing it). The event records both before and after, and the
router's suggestion is computed again from the corrected codes; the dispatcher still dispatches."""

from __future__ import annotations

from hotline.errors import InvalidInput
from hotline.escalation import clock_store, clocks
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
    if after["territory"] != before["territory"]:
        await _recount_wait(c, after["territory"])


async def _recount_wait(c: Ctx, territory: str | None) -> None:
    """The dispatch clock is counted on the ticket's territory's calendar (its local exceptions): counted again,
    from the same start, on the corrected territory's."""
    clock = await c.conn.fetchrow(
        "SELECT id, deadline FROM clocks WHERE ticket_id = $1 AND clock = 'dispatch' AND stopped_at IS NULL "
        "AND suspended_at IS NULL FOR UPDATE",
        c.ticket["id"],
    )
    policies = await c.rt.current_policies()
    if clock is None or not policies.times("dispatch"):
        return
    t, old = c.ticket, clock_store.deadline_of(clock)
    row = clocks.compute(
        policies,
        c.rt.calendar_for(territory),
        clock="dispatch",
        start=old.start,
        channel=t["channel"],
        kind=t["kind"],
        urgent=t["urgent"],
    )
    if (row.deadline.due_at, row.deadline.warning_at, row.deadline.supervision_at) != (
        old.due_at,
        old.warning_at,
        old.supervision_at,
    ):
        step = await clock_store.move(c.conn, clock["id"], row.deadline)
        if step:
            c.armed.append(step)
