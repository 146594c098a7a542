"""Input limits at the edge: the instants and integers a request may carry, and what a request body may be.

Anything outside is the client's mistake, refused with a 422 naming the field before it reaches PostgreSQL (whose
int8 and timestamptz ranges, or Python's datetime arithmetic near year 1 and 9999, would otherwise fail as a 500).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from litestar import Request

from hotline.errors import InvalidInput, UnsupportedMediaType
from sla.bounds import SUPPORTED_YEARS

# The SLA arithmetic's range (sla.bounds) is the whole service's: no hotline record is older than the service or due
# after the century, a wide margin around every real instant, far from where datetime arithmetic overflows.
EARLIEST = datetime(SUPPORTED_YEARS[0], 1, 1, tzinfo=UTC)
LATEST = datetime(SUPPORTED_YEARS[1] + 1, 1, 1, tzinfo=UTC)  # exclusive
INSTANT_RANGE = f"between {SUPPORTED_YEARS[0]}-01-01 and {SUPPORTED_YEARS[1]}-12-31 (UTC)"
INT64_MAX = 2**63 - 1
# JSON bodies here are a few levels deep (a ticket's caller, an SLA policy document's rows); deeper is an attack
# or a mistake, and msgspec would raise RecursionError near a thousand levels.
MAX_JSON_DEPTH = 32
JSON_PREFIXES = ("/api/", "/public/")


def instant_in_range(value: datetime | date) -> bool:
    if not isinstance(value, datetime):
        return EARLIEST.date() <= value < LATEST.date()
    if value.tzinfo is None:  # judged as UTC; callers refuse naive values on their own terms
        value = value.replace(tzinfo=UTC)
    return EARLIEST <= value < LATEST


def out_of_range(values: Mapping[str, datetime | date | None]) -> dict[str, str]:
    """The fields whose instant falls outside the service's range, by name."""
    return {name: INSTANT_RANGE for name, value in values.items() if value is not None and not instant_in_range(value)}


def require_instants(values: Mapping[str, datetime | date | None]) -> None:
    fields = out_of_range(values)
    if fields:
        raise InvalidInput("; ".join(f"{k}: {v}" for k, v in fields.items()), fields=fields)


def is_int64(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and -INT64_MAX - 1 <= value <= INT64_MAX


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
