"""Sign-in help for a demo installation: the demo logins by role, and a list of units for handlers.

Shown only when `hotline seed --demo` loaded the demo accounts (the `demo_data` service flag) and the service is
not in production mode; the one place that decides is `shown`.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

from config.reference import Account, load_reference
from hotline.infra.runtime import Runtime
from hotline.vocab import ADMIN, AGENT, DISPATCHER, MANAGER
from hotline.web.console import labels

_ROLE_ORDER = (AGENT, DISPATCHER, MANAGER, ADMIN)


def production_mode(env: dict[str, str] | None = None) -> bool:
    """Production unless HOTLINE_ENV=development (`make run`/`hotline dev` and the test suites set it), the same
    rule by which config/settings.py allows the development secret key."""
    return (os.environ if env is None else env).get("HOTLINE_ENV", "").strip().lower() != "development"


@lru_cache(maxsize=1)
def _accounts() -> tuple[Account, ...]:
    return load_reference().accounts


async def shown(rt: Runtime) -> bool:
    if production_mode():
        return False
    return bool(await rt.pool.fetchval("SELECT EXISTS (SELECT 1 FROM service_flags WHERE name = 'demo_data')"))


async def listing(rt: Runtime) -> dict[str, Any] | None:
    """What the sign-in page lists, or None when it lists nothing. Only accounts that exist and are active."""
    if not await shown(rt):
        return None
    demo = {a.username: a for a in _accounts() if a.role != "integration"}
    active = {
        r["username"]
        for r in await rt.pool.fetch(
            "SELECT username FROM users WHERE username = any($1::text[]) AND active", list(demo)
        )
    }
    roles = [
        (labels.ROLE[role], [a for a in demo.values() if a.role == role and a.username in active])
        for role in _ROLE_ORDER
    ]
    handlers = sorted(
        (
            (a.username, rt.names.units.get(a.unit or "", a.unit or ""))
            for a in demo.values()
            if a.role == "handler" and a.username in active
        ),
        key=lambda h: h[0],
    )
    return {
        "password": rt.settings.demo_password,
        "roles": [(r, accounts) for r, accounts in roles if accounts],
        "handlers": handlers,
    }
