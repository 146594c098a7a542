"""Dependencies shared by controllers: the runtime and the signed-in principal."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from hotline.auth.tokens import Principal
from hotline.infra.runtime import Runtime
from hotline.web import ratelimit
from hotline.web.contract import principal_of, signed_in
from hotline.web.signed_in import principal_from_request

__all__ = ["DEPENDENCIES", "provide_principal", "provide_runtime", "signed_in"]


async def provide_runtime(state: State) -> Runtime:
    return state.runtime


async def provide_principal(request: Request[Any, Any, Any], rt: NamedDependency[Runtime]) -> Principal:
    # `rt` is unused but orders the two: Litestar resolves dependencies of one level in an anyio task group, which
    # cost more per request than resolving both (measured on POST /api/tickets).
    principal = principal_of(request)  # the route's guard found it already (hotline.web.contract)
    if principal is None:
        principal = await principal_from_request(request)
        ratelimit.limiter_of(rt).hit(principal.user_id)
    return principal


DEPENDENCIES = {"rt": Provide(provide_runtime), "principal": Provide(provide_principal)}
