"""Console routes: sign-in and sign-out, one page per role, the ticket page, live fragments, charts and static files.

Pages read the signed-in user from the `hotline_session` cookie (the same token the API accepts) and send anyone
without a valid one to /login. The HTML fragments behind live updates use the API's principal dependency, so an
expired session gets 401 and the page's script sends the user to sign in again.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import msgspec
from litestar import MediaType, Request, Response, get, post
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect
from litestar.static_files import create_static_files_router

from hotline import reports
from hotline.auth.tokens import SESSION_COOKIE, Principal, issue_token, sign_in
from hotline.errors import (
    DomainError,
    InvalidInput,
    NotAuthenticated,
    PasswordChangeRequired,
    RateLimited,
    TicketNotFound,
)
from hotline.infra.runtime import Runtime
from hotline.tickets import routing
from hotline.vocab import CALLBACK_ROLES
from hotline.web.console import charts, demo_logins, labels, queries, views
from hotline.web.console.password_pages import change_form
from hotline.web.signed_in import principal_from_request

HTML = MediaType.HTML
NO_STORE = {"Cache-Control": "no-store"}


def _html(body: str, status: int = 200) -> Response[str]:
    return Response(body, media_type=HTML, status_code=status, headers=NO_STORE)


async def _session(request: Request[Any, Any, Any]) -> Principal | None:
    try:
        return await principal_from_request(request)
    except DomainError:
        return None


def _safe_next(value: str | None) -> str | None:
    if value and value.startswith("/") and not value.startswith("//") and not value.startswith("/login"):
        return value
    return None


def _allowed(principal: Principal, path: str) -> bool:
    page = path.strip("/").split("/")[0]
    page = "ticket" if page == "tickets" else page
    return principal.role in labels.PAGE_ROLES.get(page, set())


async def _page(request: Request[Any, Any, Any], rt: Runtime, page: str) -> dict[str, Any] | Response[Any]:
    """The page's base context (the signed-in user is ctx["user"]), or the response that stands instead of the
    page: the sign-in redirect, or the Chinese 403 page for a role the page is not for."""
    principal = await _session(request)
    if principal is None:
        expired = "&expired=1" if request.cookies.get(SESSION_COOKIE) else ""
        return Redirect(f"/login?next={quote(request.url.path)}{expired}", status_code=303)
    ctx = views.base_context(rt, principal, page)
    if principal.role not in labels.PAGE_ROLES[page]:
        return _html(views.render("denied.html", **ctx, home=labels.HOME.get(principal.role, "/login")), 403)
    return ctx


async def _dashboard_context(rt: Runtime, now: datetime) -> dict[str, Any]:
    """What the manager page and its live fragment both render the dashboard from."""
    return {"d": await queries.dashboard(rt, now), "updated_at": labels.local(now, rt.calendar.tz, "%H:%M:%S")}


# --- sign-in and sign-out -----------------------------------------------------------------------------------------


@get("/", include_in_schema=False)
async def root(request: Request[Any, Any, Any]) -> Redirect:
    principal = await _session(request)
    if principal is None or principal.role not in labels.HOME:
        return Redirect("/login", status_code=303)
    return Redirect(labels.HOME[principal.role], status_code=303)


@get("/login", include_in_schema=False)
async def login_page(
    request: Request[Any, Any, Any],
    rt: NamedDependency[Runtime],
    next: FromQuery[str | None] = None,
    expired: FromQuery[str | None] = None,
) -> Response[Any]:
    principal = await _session(request)
    if principal is not None and principal.role in labels.HOME:
        target = _safe_next(next)
        return Redirect(
            target if target and _allowed(principal, target) else labels.HOME[principal.role], status_code=303
        )
    notice = "登录已过期或已退出，请重新登录。" if expired else None
    response = _html(
        views.render(
            "login.html",
            next=_safe_next(next) or "",
            notice=notice,
            errors={},
            username="",
            demo=await demo_logins.listing(rt),
        )
    )
    if request.cookies.get(SESSION_COOKIE):
        response.delete_cookie(SESSION_COOKIE)  # stale or revoked: do not keep sending it
    return response


@post("/console/login", include_in_schema=False, status_code=303)
async def login_submit(request: Request[Any, Any, Any], rt: NamedDependency[Runtime]) -> Response[Any]:
    form = await request.form()
    username = str(form.get("username") or "").strip()
    password = str(form.get("password") or "")
    target = _safe_next(str(form.get("next") or ""))
    errors: dict[str, str] = {}
    if not username:
        errors["username"] = "请输入用户名"
    if not password:
        errors["password"] = "请输入密码"
    principal = None
    retry_after = None
    if not errors:
        try:
            principal = await sign_in(rt, username, password, request.client.host if request.client else "unknown")
        except RateLimited as exc:
            retry_after = exc.extra.get("retry_after")
            errors["form"] = f"登录失败次数过多，请 {retry_after} 秒后再试。"
        except PasswordChangeRequired:
            return change_form(username, target or "", {})
        except NotAuthenticated:
            errors["password"] = "用户名或密码错误"
        if principal is not None and principal.role not in labels.HOME:
            errors["username"] = "接口账号不能登录控制台"
            principal = None
    if principal is None:
        body = views.render(
            "login.html",
            next=target or "",
            notice=None,
            errors=errors,
            username=username,
            demo=await demo_logins.listing(rt),
        )
        if retry_after is not None:
            return Response(
                body, media_type=HTML, status_code=429, headers={**NO_STORE, "Retry-After": str(retry_after)}
            )
        return _html(body, 401 if "password" in errors or "form" in errors else 422)
    return signed_in_redirect(request, rt, principal, target)


def signed_in_redirect(
    request: Request[Any, Any, Any], rt: Runtime, principal: Principal, target: str | None
) -> Response[Any]:
    """A new session: its cookie (HttpOnly, SameSite=Lax, Secure over HTTPS) and the way to the page asked for, if
    the role may open it, else the role's home."""
    token, _exp = issue_token(principal, rt.settings.secret_key, rt.settings.token_ttl_seconds)
    destination = target if target and _allowed(principal, target) else labels.HOME[principal.role]
    response = Redirect(destination, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=rt.settings.token_ttl_seconds,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


# --- role pages ---------------------------------------------------------------------------------------------------


@get("/agent", include_in_schema=False)
async def agent_page(request: Request[Any, Any, Any], rt: NamedDependency[Runtime]) -> Response[Any]:
    ctx = await _page(request, rt, "agent")
    if not isinstance(ctx, dict):
        return ctx
    now = datetime.now(UTC)
    ctx["callbacks"] = await queries.callback_queue(rt, now)
    ctx["phone_channels"] = [(c, n) for c, n in rt.names.channels.items() if rt.names.channel_kinds.get(c) == "phone"]
    return _html(views.render("agent.html", **ctx))


@get("/handler", include_in_schema=False)
async def handler_page(request: Request[Any, Any, Any], rt: NamedDependency[Runtime]) -> Response[Any]:
    ctx = await _page(request, rt, "handler")
    if not isinstance(ctx, dict):
        return ctx
    ctx["items"] = await queries.handler_queue(rt, ctx["user"].unit or "", datetime.now(UTC))
    return _html(views.render("handler.html", **ctx))


@get("/dispatcher", include_in_schema=False)
async def dispatcher_page(request: Request[Any, Any, Any], rt: NamedDependency[Runtime]) -> Response[Any]:
    ctx = await _page(request, rt, "dispatcher")
    if not isinstance(ctx, dict):
        return ctx
    ctx.update(await _dispatcher_lists(rt))
    return _html(views.render("dispatcher.html", **ctx))


@get("/manager", include_in_schema=False)
async def manager_page(request: Request[Any, Any, Any], rt: NamedDependency[Runtime]) -> Response[Any]:
    ctx = await _page(request, rt, "manager")
    if not isinstance(ctx, dict):
        return ctx
    now = datetime.now(UTC)
    today = now.astimezone(rt.calendar.tz).date()
    ctx["report_from"] = today.replace(day=1).isoformat()
    ctx["report_to"] = (today + timedelta(days=1)).isoformat()
    first = reports.parse_query(
        rt.settings.timezone, from_=ctx["report_from"], to=ctx["report_to"], as_of=None, group_by=None, format=None
    )
    # Side by side on their own connections: the page costs the slowest read, not their sum, and the month's report
    # arrives with the page instead of in a second request once its script runs.
    dash, trend, heatmap, report = await asyncio.gather(
        _dashboard_context(rt, now),
        queries.weekly_trend(rt, now),
        queries.overdue_heatmap(rt, now),
        reports.closure_report(rt, ctx["user"], first),
    )
    ctx.update(dash, trend_svg=charts.trend_svg(trend), heatmap_svg=charts.heatmap_svg(heatmap))
    # A JSON data block, never executed; "<" escaped so no text in it can close the element.
    ctx["report_json"] = msgspec.json.encode(report).decode().replace("<", "\\u003c")
    return _html(views.render("manager.html", **ctx))


@get("/tickets/{number:str}", include_in_schema=False)
async def ticket_page(
    request: Request[Any, Any, Any], rt: NamedDependency[Runtime], number: FromPath[str]
) -> Response[Any]:
    ctx = await _page(request, rt, "ticket")
    if not isinstance(ctx, dict):
        return ctx
    try:
        ctx.update(await views.ticket_context(rt, ctx["user"], number))
    except TicketNotFound:
        return _html(views.render("not_found.html", **ctx, number=number), 404)
    ctx["full"] = True
    return _html(views.render("ticket.html", **ctx))


# --- fragments for live updates -----------------------------------------------------------------------------------


async def _dispatcher_lists(rt: Runtime) -> dict[str, Any]:
    now = datetime.now(UTC)
    pending = await queries.pending_dispatch(rt, now)
    returns = await queries.return_requests(rt)
    for item in (*pending, *returns):
        rule = queries.routing_rule(rt, (item["routing"] or {}).get("rule_id"))
        item["routing_text"] = labels.routing_text(item["routing"], rule, rt.names, item["category"], item["territory"])
    return {
        "pending": pending,
        "returns": returns,
        "extensions": await queries.extension_requests(rt),
        "risk": await queries.at_risk(rt, now),
    }


@get("/console/fragments/handler-queue", include_in_schema=False)
async def handler_queue_fragment(rt: NamedDependency[Runtime], principal: NamedDependency[Principal]) -> Response[str]:
    principal.require(*labels.PAGE_ROLES["handler"])
    ctx = views.base_context(rt, principal, "handler")
    ctx["items"] = await queries.handler_queue(rt, principal.unit or "", datetime.now(UTC))
    return _html(views.render("_handler_queue.html", **ctx))


@get("/console/fragments/callback-queue", include_in_schema=False)
async def callback_queue_fragment(rt: NamedDependency[Runtime], principal: NamedDependency[Principal]) -> Response[str]:
    principal.require(*sorted(CALLBACK_ROLES))
    ctx = views.base_context(rt, principal, "agent")
    ctx["callbacks"] = await queries.callback_queue(rt, datetime.now(UTC))
    return _html(views.render("_callback_queue.html", **ctx))


@get("/console/fragments/dispatcher-lists", include_in_schema=False)
async def dispatcher_fragment(rt: NamedDependency[Runtime], principal: NamedDependency[Principal]) -> Response[str]:
    principal.require(*sorted(labels.PAGE_ROLES["dispatcher"]))
    ctx = views.base_context(rt, principal, "dispatcher")
    ctx.update(await _dispatcher_lists(rt))
    return _html(views.render("_dispatcher_lists.html", **ctx))


@get("/console/fragments/dashboard", include_in_schema=False)
async def dashboard_fragment(rt: NamedDependency[Runtime], principal: NamedDependency[Principal]) -> Response[str]:
    principal.require(*sorted(labels.PAGE_ROLES["manager"]))
    ctx = views.base_context(rt, principal, "manager")
    ctx.update(await _dashboard_context(rt, datetime.now(UTC)))
    return _html(views.render("_dashboard.html", **ctx))


@get("/console/fragments/ticket/{number:str}", include_in_schema=False)
async def ticket_fragment(
    rt: NamedDependency[Runtime],
    principal: NamedDependency[Principal],
    number: FromPath[str],
    full: FromQuery[bool] = False,
) -> Response[str]:
    ctx = views.base_context(rt, principal, "ticket")
    ctx.update(await views.ticket_context(rt, principal, number))
    ctx["full"] = full
    return _html(views.render("_ticket_panel.html", **ctx))


@get("/console/route-preview", include_in_schema=False)
async def route_preview(
    rt: NamedDependency[Runtime],
    principal: NamedDependency[Principal],
    category: FromQuery[str | None] = None,
    territory: FromQuery[str | None] = None,
) -> dict[str, Any]:
    """Where a call being typed would go, explained, before it is submitted."""
    principal.require(*sorted(CALLBACK_ROLES))
    decision = routing.router(rt).resolve(category or None, territory or None)
    rule = queries.routing_rule(rt, decision.rule_id)
    return {
        "unit": decision.unit,
        "unit_name": rt.names.units.get(decision.unit or ""),
        "text": labels.routing_text(decision.to_dict(), rule, rt.names, category or None, territory or None),
    }


# --- charts -------------------------------------------------------------------------------------------------------


def _svg(body: str) -> Response[str]:
    return Response(body, media_type="image/svg+xml", headers=NO_STORE)


@get("/console/charts/trend.svg", include_in_schema=False)
async def trend_chart(
    rt: NamedDependency[Runtime], principal: NamedDependency[Principal], weeks: FromQuery[int] = 12
) -> Response[str]:
    principal.require(*sorted(labels.PAGE_ROLES["manager"]))
    if not 2 <= weeks <= 104:
        raise InvalidInput("weeks must be between 2 and 104", fields={"weeks": "2 到 104 之间"})
    return _svg(charts.trend_svg(await queries.weekly_trend(rt, datetime.now(UTC), weeks)))


@get("/console/charts/heatmap.svg", include_in_schema=False)
async def heatmap_chart(rt: NamedDependency[Runtime], principal: NamedDependency[Principal]) -> Response[str]:
    principal.require(*sorted(labels.PAGE_ROLES["manager"]))
    return _svg(charts.heatmap_svg(await queries.overdue_heatmap(rt, datetime.now(UTC))))


static_files = create_static_files_router(
    path="/static",
    directories=[views.STATIC],
    name="console-static",
    cache_control=CacheControlHeader(max_age=3600, public=True),
)

ROUTES: list[Any] = [
    root,
    login_page,
    login_submit,
    agent_page,
    handler_page,
    dispatcher_page,
    manager_page,
    ticket_page,
    handler_queue_fragment,
    callback_queue_fragment,
    dispatcher_fragment,
    dashboard_fragment,
    ticket_fragment,
    route_preview,
    trend_chart,
    heatmap_chart,
    static_files,
]
