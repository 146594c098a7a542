"""A one-time password (set by an administrator) opens no session: the sign-in form gives way to this one, which
takes the one-time password and a new one, and signs in with the new one."""

from __future__ import annotations

from typing import Any

from litestar import MediaType, Request, Response, post
from litestar.di import NamedDependency

from hotline.auth.tokens import MIN_PASSWORD, change_password
from hotline.errors import InvalidInput, NotAuthenticated, RateLimited
from hotline.infra.runtime import Runtime
from hotline.web.console import labels, views


def change_form(username: str, next_: str, errors: dict[str, str], status: int = 403) -> Response[str]:
    return Response(
        views.render("password.html", username=username, next=next_, errors=errors),
        media_type=MediaType.HTML,
        status_code=status,
        headers={"Cache-Control": "no-store"},
    )


@post("/console/password", include_in_schema=False, status_code=303)
async def password_submit(request: Request[Any, Any, Any], rt: NamedDependency[Runtime]) -> Response[Any]:
    from hotline.web.console.pages import _safe_next, signed_in_redirect  # pages imports this module

    form = await request.form()
    username = str(form.get("username") or "").strip()
    password = str(form.get("password") or "")
    new = str(form.get("new_password") or "")
    target = _safe_next(str(form.get("next") or ""))
    errors: dict[str, str] = {}
    if not password:
        errors["password"] = "请输入一次性密码"
    if len(new) < MIN_PASSWORD:
        errors["new_password"] = f"新密码至少{MIN_PASSWORD}位"
    elif new == password:
        errors["new_password"] = "新密码不能与一次性密码相同"
    elif new != str(form.get("new_password2") or ""):
        errors["new_password2"] = "两次输入的新密码不一致"
    principal = None
    if not errors:
        try:
            principal = await change_password(
                rt, username, password, new, request.client.host if request.client else "unknown"
            )
        except RateLimited as exc:
            errors["form"] = f"失败次数过多，请 {exc.extra.get('retry_after')} 秒后再试。"
        except NotAuthenticated:
            errors["password"] = "一次性密码错误"
        except InvalidInput:
            errors["new_password"] = "新密码不符合要求"
    if principal is None or principal.role not in labels.HOME:
        return change_form(username, target or "", errors or {"form": "接口账号不能登录控制台"}, 422)
    return signed_in_redirect(request, rt, principal, target)


ROUTES: list[Any] = [password_submit]
