"""What a request body may be at the edge: JSON, sent as JSON, nested sanely.

The values inside (instants, integers, a page's limit and cursor) are judged by hotline.inputs, which every layer
shares.
"""

from __future__ import annotations

from typing import Any

from litestar import Request

from hotline.errors import InvalidInput, UnsupportedMediaType

# JSON bodies here are a few levels deep (a ticket's caller, an SLA policy document's rows); deeper is an attack
# or a mistake, and msgspec would raise RecursionError near a thousand levels.
MAX_JSON_DEPTH = 32
JSON_PREFIXES = ("/api/", "/public/")


def json_depth_exceeds(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON text nests arrays/objects deeper than `limit`. Brackets inside strings are skipped."""
    # Fewer brackets than the limit cannot nest deeper: the usual body costs two C-level counts, no scan.
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    depth = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return False


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


class ApiRequest(Request[Any, Any, Any]):
    """The API reads JSON only: a body on /api or /public must say it is JSON and nest sanely. Checked when the
    body is read, so a request whose handler takes no body pays nothing."""

    async def body(self) -> bytes:
        body = await super().body()
        if body and self.scope["path"].startswith(JSON_PREFIXES):
            content_type = self.headers.get("content-type", "")
            if not _is_json(content_type):
                raise UnsupportedMediaType(
                    f"the body must be JSON sent as application/json, not {content_type or 'without a content type'}",
                    fields={"Content-Type": "application/json"},
                )
            if json_depth_exceeds(body):
                raise InvalidInput(
                    f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels",
                    fields={"body": f"at most {MAX_JSON_DEPTH} levels of nesting"},
                )
        return body
