"""Dependencies shared by controllers: the runtime and the signed-in principal."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.di import Provide
from litestar.handlers.base import BaseRouteHandler

from hotline.auth.tokens import Principal
from hotline.infra.runtime import Runtime
from hotline.web import ratelimit
from hotline.web.signed_in import principal_from_request


async def provide_runtime(state: State) -> Runtime:
    return state.runtime


async def provide_principal(request: Request[Any, Any, Any], rt: Runtime) -> Principal:
    # `rt` is unused but orders the two: Litestar resolves dependencies of one level in an anyio task group, which
    # cost more per request than resolving both (measured on POST /api/tickets).
    principal = await principal_from_request(request)
    ratelimit.limiter_of(rt).hit(principal.user_id)
    return principal


async def signed_in(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """A guard doing provide_principal's work for the busiest route, before its body is parsed (so a request
    without a valid token is told 401 first, as with the dependency): the handler reads `request.state.principal`.
    Resolving dependencies cost POST /api/tickets about 5% of its CPU (py-spy under the intake benchmark)."""
    principal = await principal_from_request(connection)  # type: ignore[arg-type]
    ratelimit.limiter_of(connection.app.state.runtime).hit(principal.user_id)
    connection.state.principal = principal


DEPENDENCIES = {"rt": Provide(provide_runtime), "principal": Provide(provide_principal)}
