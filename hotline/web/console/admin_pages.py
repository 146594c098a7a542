"""The administrator's console at /admin: accounts and roles, units (names, contacts, active flag), routing rules with
a trial of the live router, SLA policies, the calendar. The page is drawn once; what changes is read and written
through the typed admin API (hotline.web.api.admin_api, admin_units_api), so the console and the API are the same
acts."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.di import NamedDependency

from hotline.admin import routing_rules as routing_admin
from hotline.infra.runtime import Runtime
from hotline.tickets.routing import BUREAU_TEMPLATE
from hotline.vocab import ROLES
from hotline.web.console import labels, views
from hotline.web.console.pages import _html, _page


@get("/admin", include_in_schema=False)
async def admin_page(request: Request[Any, Any, Any], rt: NamedDependency[Runtime]) -> Response[Any]:
    ctx = await _page(request, rt, "admin")
    if not isinstance(ctx, dict):
        return ctx
    names = rt.names
    ctx.update(
        roles=[r for r in ROLES if r in labels.ROLE],
        units=sorted((c, n) for c, n in names.units.items() if c in names.active_units),  # the forms' choices
        unit_names=dict(names.units),  # every unit's, for the accounts of a unit since deactivated
        channels=sorted(names.channels.items()),
        categories=sorted(names.categories.items()),
        territories=sorted(names.territories.items()),
        rules=routing_admin.rules(rt, ctx["user"]).items,
        bureau_template=BUREAU_TEMPLATE,
        sla_names={
            "channel": dict(names.channels),
            "kind": dict(names.kinds),
            "clock": labels.CLOCK,
            "unit": {**labels.UNIT_TEXT, "minutes": "分钟（自然时间）"},
        },
    )
    return _html(views.render("admin/index.html", **ctx))


ROUTES: list[Any] = [admin_page]
