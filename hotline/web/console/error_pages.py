"""Error pages in Chinese for browsers: an unknown page, a refusal (403) or a failure (5xx) answered to a request
that asks for HTML gets a page with a way back; API clients keep their problem+json, whatever they accept.

The app takes its exception handlers from here: hotline.web.problems' own, each wrapped once (`for_browsers`), so
hotline.web.problems keeps the one mapping of errors to statuses and this module only chooses how the answer looks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog
from litestar import MediaType, Request, Response

from hotline.web import problems
from hotline.web.console import views

log = structlog.get_logger(__name__)

# Paths whose answers are data for scripts and clients, never pages, even when a browser opens them directly.
_DATA_PREFIXES = (
    "/api/",
    "/public/tickets",
    "/console/fragments/",
    "/console/charts/",
    "/console/route-preview",
    "/healthz",
    "/readyz",
    "/metrics",
    "/schema",
)

PAGES = {
    403: ("无权访问", "您没有权限查看这个页面。如果您是工作人员，请用有权限的账号登录。"),
    404: ("页面不存在", "您要找的页面不存在或已经移走，请检查网址。"),
    500: ("服务出现问题", "服务暂时出现问题，我们已经记录下来，请稍后再试。"),
    503: ("服务暂时不可用", "服务繁忙或正在维护，请稍后再试。"),
}


def wants_page(request: Request[Any, Any, Any]) -> bool:
    """A browser navigating: it asks for HTML by name (fetch and API clients send */* or JSON)."""
    accept = request.headers.get("accept", "")
    return "text/html" in accept and not request.url.path.startswith(_DATA_PREFIXES)


def page_for(request: Request[Any, Any, Any], status: int, headers: dict[str, str] | None = None) -> Response[str]:
    title, text = PAGES.get(status) or PAGES[500 if status >= 500 else 404]
    citizen = request.url.path.startswith("/public")
    body = views.render("public/error.html", status=status, title=title, text=text, citizen=citizen)
    keep = {k: v for k, v in (headers or {}).items() if k.lower() in ("retry-after", "www-authenticate")}
    return Response(body, status_code=status, media_type=MediaType.HTML, headers={**keep, "Cache-Control": "no-store"})


def _html_for_browsers(handler: Callable[..., Response[Any]]) -> Callable[..., Response[Any]]:
    def handle(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        response = handler(request, exc)
        status = response.status_code or 500
        if (status in (403, 404) or status >= 500) and wants_page(request):
            try:
                return page_for(request, status, dict(response.headers))
            except Exception:  # noqa: BLE001 - an error page that fails must not hide the error's own answer
                log.exception("error_page_failed", status=status)
        return response

    return handle


def for_browsers(handlers: dict[Any, Any]) -> dict[Any, Any]:
    """The same handlers, each answering a browser with a Chinese page instead of problem+json."""
    return {exc: _html_for_browsers(handler) for exc, handler in handlers.items()}


EXCEPTION_HANDLERS = for_browsers(problems.EXCEPTION_HANDLERS)
