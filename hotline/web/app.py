"""The app factory: all wiring in one place."""

from __future__ import annotations

import gc
import importlib.metadata
import itertools
import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import structlog
from litestar import Litestar
from litestar.middleware import DefineMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from config.logging import configure_logging
from config.settings import Settings, get_settings, require_secret_key
from hotline.infra.runtime import Runtime
from hotline.web.api import admin_api as admin
from hotline.web.api import admin_units_api, auth_api, lifecycle_api, outbox_api, sla_api, tickets_api, transfers_api
from hotline.web.api import escalations_api as escalations
from hotline.web.api import exports_api as exports
from hotline.web.api import health_api as health
from hotline.web.api import live_api as live
from hotline.web.api import notifications_api as notifications
from hotline.web.api import open311_api as open311
from hotline.web.api import public_api as public
from hotline.web.api import reference_api as reference
from hotline.web.api import reports_api as reports
from hotline.web.api.deps import DEPENDENCIES
from hotline.web.console import admin_pages, pages, password_pages, public_pages
from hotline.web.console.error_pages import EXCEPTION_HANDLERS  # hotline.web.problems' handlers; browsers get pages
from hotline.web.contract import openapi_config
from hotline.web.headers import security_headers_middleware
from hotline.web.limits import ApiRequest

# uvicorn's ASGI middleware, typed with uvicorn's own ASGI types, which Litestar's DefineMiddleware does not name.
_PROXY_HEADERS: Any = ProxyHeadersMiddleware
_VERSION = importlib.metadata.version("hotline-dispatch")

log = structlog.get_logger("hotline.request")
_request_log = logging.getLogger("hotline.request")


# Request ids: a random prefix per process and a counter, unique across processes without a system call per request
# (uuid4 reads the OS's random source every time).
_REQUEST_ID_PREFIX = uuid.uuid4().hex[:12]
_request_counter = itertools.count(1)


def _next_request_id() -> str:
    return f"{_REQUEST_ID_PREFIX}{next(_request_counter):08x}"


def request_context_middleware(app: ASGIApp) -> ASGIApp:
    """Bind a request id to every log line of the request and write one canonical line when it ends."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        request_id = headers.get(b"x-request-id", b"").decode("latin-1")[:64] or _next_request_id()
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await app(scope, receive, send_wrapper)
        finally:
            path = scope.get("path", "")
            # Checked first: structlog runs its whole processor chain before stdlib logging drops a filtered line.
            if _request_log.isEnabledFor(logging.INFO) and not path.startswith(("/healthz", "/static", "/metrics")):
                log.info(
                    "request",
                    method=scope.get("method"),
                    path=path,
                    status=status,
                    duration_ms=round((time.perf_counter() - started) * 1000, 2),
                )

    return middleware


def _tune_gc() -> None:
    """Start-up's objects (modules, routes, reference data) are moved out of the collector's sight, and young
    collections run every 20,000 allocations instead of 700: a request allocates a few thousand objects, almost
    none in cycles, and the default pace spent CPU and added pauses to the slowest requests for nothing. Measured
    with the intake benchmark (2 workers): p99 80.6 -> 67.2 ms."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 50, 100)


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or get_settings()
    require_secret_key(settings)
    configure_logging(settings.log_level, settings.log_json)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        runtime = await Runtime.start(settings)
        app.state.runtime = runtime
        app.state.settings = settings
        app.state.redis = runtime.redis
        _tune_gc()
        try:
            yield
        finally:
            await live.close_hub(app.state)  # open feeds are told to reconnect (to another process)
            await runtime.close()  # its parts first: queued announcements sent, tickets being written finished

    route_handlers: list[Any] = [
        *health.ROUTES,
        *auth_api.ROUTES,
        *tickets_api.ROUTES,
        *lifecycle_api.ROUTES,
        *sla_api.ROUTES,
        *public.ROUTES,
        *open311.ROUTES,
        *reference.ROUTES,
        *live.ROUTES,
        *escalations.ROUTES,
        *outbox_api.ROUTES,
        *transfers_api.ROUTES,
        *notifications.ROUTES,
        *reports.ROUTES,
        *exports.ROUTES,
        *admin.ROUTES,
        *admin_units_api.ROUTES,
        *pages.ROUTES,
        *public_pages.ROUTES,
        *admin_pages.ROUTES,
        *password_pages.ROUTES,
    ]
    return Litestar(
        route_handlers=route_handlers,
        dependencies=DEPENDENCIES,
        exception_handlers=EXCEPTION_HANDLERS,
        # JSON bodies only on /api and /public, nested sanely (hotline.web.limits); the largest body the service takes
        # is an SLA policy document of a few kB, so 1 MiB is ample and a bigger one is refused (413) unread.
        request_class=ApiRequest,
        request_max_body_size=1024 * 1024,
        # The client's address from X-Forwarded-For (right-most untrusted entry) only when the peer is a configured
        # proxy; `hotline serve` leaves uvicorn's own handling off so this is the one place that decides.
        middleware=[
            *(
                [DefineMiddleware(_PROXY_HEADERS, trusted_hosts=list(settings.trusted_proxies))]
                if settings.trusted_proxies
                else []
            ),
            request_context_middleware,
            security_headers_middleware,
        ],
        lifespan=[lifespan],
        openapi_config=openapi_config(_VERSION),
        # Litestar's default logging config would replace config/logging.py's on the root logger (plain-text lines
        # at INFO through a queue thread, whatever HOTLINE_LOG_LEVEL says); errors are logged by hotline.errors.
        logging_config=None,
        debug=False,
    )
