"""Liveness, readiness and metrics."""

from __future__ import annotations

import asyncio
from typing import Literal

import msgspec
from litestar import Response, get
from litestar.datastructures import State
from prometheus_client import CONTENT_TYPE_LATEST

from hotline.infra import metrics as hotline_metrics


class Health(msgspec.Struct):
    status: Literal["ok"]


class Readiness(msgspec.Struct):
    """ok when PostgreSQL and Redis answer (200), else unavailable (503); `checks` names each ("ok" or why not)."""

    status: Literal["ok", "unavailable"]
    checks: dict[str, str]


_ALIVE = Health("ok")


# Probes for load balancers and orchestrators, outside the API's document (they take no token and no version).
@get("/healthz", sync_to_thread=False, include_in_schema=False)
def healthz() -> Health:
    return _ALIVE


@get("/readyz", include_in_schema=False)
async def readyz(state: State) -> Response[Readiness]:
    rt = state.runtime
    checks: dict[str, str] = {}

    async def pg() -> None:
        await asyncio.wait_for(rt.pool.fetchval("SELECT 1"), 2)

    async def redis() -> None:
        await asyncio.wait_for(rt.redis.ping(), 2)

    for name, check in (("postgresql", pg), ("redis", redis)):
        try:
            await check()
            checks[name] = "ok"
        except Exception as exc:
            checks[name] = f"unreachable: {type(exc).__name__}"
    ok = all(v == "ok" for v in checks.values())
    return Response(Readiness("ok" if ok else "unavailable", checks), status_code=200 if ok else 503)


@get("/metrics", include_in_schema=False)
async def metrics(state: State) -> Response[bytes]:
    return Response(await hotline_metrics.exposition(state.runtime), media_type=CONTENT_TYPE_LATEST)


ROUTES = [healthz, readyz, metrics]
