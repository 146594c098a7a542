"""Liveness, readiness and metrics."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Response, get
from litestar.datastructures import State
from prometheus_client import CONTENT_TYPE_LATEST

from hotline.infra import metrics as hotline_metrics


@get("/healthz", sync_to_thread=False, include_in_schema=False)
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@get("/readyz", include_in_schema=False)
async def readyz(state: State) -> Response[dict[str, Any]]:
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
    return Response({"status": "ok" if ok else "unavailable", "checks": checks}, status_code=200 if ok else 503)


@get("/metrics", include_in_schema=False)
async def metrics(state: State) -> Response[bytes]:
    return Response(await hotline_metrics.exposition(state.runtime), media_type=CONTENT_TYPE_LATEST)


ROUTES = [healthz, readyz, metrics]
