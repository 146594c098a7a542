"""Security headers on every response: what a browser may load, frame or send on, and what nobody may cache.

The console and (later) the citizen pages load every asset from the service itself, with no inline script or style,
so the content security policy can be strict: a script injected into a ticket's text could neither run nor phone
home. API answers carry personal data (callers' numbers, complaints): no cache keeps them.
"""

from __future__ import annotations

from litestar.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
_COMMON = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(self)"),
]
_CSP = (b"content-security-policy", CONTENT_SECURITY_POLICY.encode())
_NO_STORE = (b"cache-control", b"no-store")
# The OpenAPI viewer is Litestar's own page, which loads its scripts from elsewhere: no policy of ours there.
_NO_CSP_PREFIXES = ("/schema",)
_PRIVATE_PREFIXES = ("/api/", "/public/tickets")


def security_headers_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        path: str = scope.get("path", "")

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                extra = [h for h in _COMMON if h[0] not in present]
                if not path.startswith(_NO_CSP_PREFIXES) and _CSP[0] not in present:
                    extra.append(_CSP)
                if path.startswith(_PRIVATE_PREFIXES) and _NO_STORE[0] not in present:
                    extra.append(_NO_STORE)
                if scope.get("scheme") == "https":
                    extra.append((b"strict-transport-security", b"max-age=31536000"))
                message["headers"] = headers + extra
            await send(message)

        await app(scope, receive, send_wrapper)

    return middleware
