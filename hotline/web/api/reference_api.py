"""Reference data for pickers: channels, territories, categories, kinds, units."""

from __future__ import annotations

from typing import Any

from litestar import get

from hotline.auth.tokens import Principal
from hotline.infra.runtime import Runtime


@get("/api/reference")
async def reference(rt: Runtime, principal: Principal) -> dict[str, Any]:
    n = rt.names
    units = await rt.pool.fetch("SELECT code, name, territory FROM units WHERE active ORDER BY code")
    return {
        "channels": [{"code": c, "name": name, "kind": n.channel_kinds.get(c)} for c, name in n.channels.items()],
        "territories": [{"code": c, "name": name} for c, name in sorted(n.territories.items())],
        "categories": [{"code": c, "name": name} for c, name in n.categories.items()],
        "kinds": [{"code": c, "name": name} for c, name in n.kinds.items()],
        "units": [{"code": u["code"], "name": u["name"], "territory": u["territory"]} for u in units],
    }


ROUTES = [reference]
