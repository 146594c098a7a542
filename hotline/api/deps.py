"""Dependencies shared by controllers: the runtime and the signed-in principal."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import Provide

from hotline.auth import Principal, principal_from_request
from hotline.runtime import Runtime


async def provide_runtime(state: State) -> Runtime:
    return state.runtime


async def provide_principal(request: Request[Any, Any, Any], rt: Runtime) -> Principal:
    # `rt` is unused but orders the two: Litestar resolves dependencies of one level in an anyio task group, which
    # cost more per request than resolving both (measured on POST /api/tickets).
    return await principal_from_request(request)


DEPENDENCIES = {"rt": Provide(provide_runtime), "principal": Provide(provide_principal)}
