"""What a value from outside may be, decided once for every layer: instants within the service's range, 64-bit
integers, and a page of a list (its `limit` and its cursor).

Anything outside is the client's mistake, refused with a 422 naming the field before it reaches PostgreSQL (whose
int8 and timestamptz ranges, or Python's datetime arithmetic near year 1 and 9999, would otherwise fail as a 500).
The checks are pure: the web layer's own edge rules (JSON only, nested sanely) are in hotline/web/limits.py.

Every list the API serves pages the same way: `limit` between 1 and the list's maximum, and `next_cursor`, an
opaque token (URL-safe base64 of a JSON array of the last item's sort key and id) that only this service issues.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any, Literal

import msgspec

from hotline.errors import InvalidInput
from sla.bounds import SUPPORTED_YEARS

# The SLA arithmetic's range (sla.bounds) is the whole service's: no hotline record is older than the service or due
# after the century, a wide margin around every real instant, far from where datetime arithmetic overflows.
EARLIEST = datetime(SUPPORTED_YEARS[0], 1, 1, tzinfo=UTC)
LATEST = datetime(SUPPORTED_YEARS[1] + 1, 1, 1, tzinfo=UTC)  # exclusive
INSTANT_RANGE = f"between {SUPPORTED_YEARS[0]}-01-01 and {SUPPORTED_YEARS[1]}-12-31 (UTC)"
INT64_MAX = 2**63 - 1
PAGE_MAXIMUM = 200  # a list's largest page unless it says otherwise
NOT_ISSUED = "not one this service issued"

# What a cursor holds, position by position: an aware instant, an instant or null (a sort key that may be NULL), or
# a row id (a positive int8).
Part = Literal["instant", "instant?", "id"]


def raise_fields(fields: Mapping[str, str]) -> None:
    """One 422 naming every bad field, if there is any."""
    if fields:
        raise InvalidInput("; ".join(f"{k}: {v}" for k, v in fields.items()), fields=dict(fields))


# --- instants and integers -----------------------------------------------------------------------------------------


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
    raise_fields(out_of_range(values))


def is_int64(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and -INT64_MAX - 1 <= value <= INT64_MAX


# --- pages ---------------------------------------------------------------------------------------------------------


def limit_fields(limit: int, maximum: int = PAGE_MAXIMUM) -> dict[str, str]:
    """The `limit` problem, by name, for a caller that gathers every bad field into one 422."""
    return {} if 1 <= limit <= maximum else {"limit": f"between 1 and {maximum}"}


def require_limit(limit: int, maximum: int = PAGE_MAXIMUM) -> None:
    raise_fields(limit_fields(limit, maximum))


def encode_cursor(*values: datetime | int | None) -> str:
    """The cursor after an item whose sort key and id are `values`."""
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    return base64.urlsafe_b64encode(msgspec.json.encode(plain)).decode().rstrip("=")


def _part(kind: Part, value: Any) -> datetime | int | None:
    if kind == "id":
        if not is_int64(value) or value <= 0:
            raise ValueError("not a row id")
        return int(value)
    if value is None and kind == "instant?":
        return None
    if not isinstance(value, str):
        raise ValueError("not an instant")
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None or not instant_in_range(moment):
        raise ValueError("naive or out-of-range instant")
    return moment


def decode_cursor(cursor: str, *shape: Part) -> tuple[Any, ...]:
    """The values of a cursor this service issued for a list of this `shape`; anything else raises ValueError."""
    if not cursor or len(cursor) > 200:
        raise ValueError("empty or too long")
    try:
        values = msgspec.json.decode(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, msgspec.DecodeError) as exc:
        raise ValueError("not a cursor") from exc
    if not isinstance(values, list) or len(values) != len(shape):
        raise ValueError("not this list's cursor")
    return tuple(_part(kind, value) for kind, value in zip(shape, values, strict=True))


def read_cursor(cursor: str | None, *shape: Part, fields: dict[str, str] | None = None) -> tuple[Any, ...] | None:
    """A page request's cursor: None for the first page. A bad one is named in `fields` when the caller gathers
    its problems into one 422, or else refused at once."""
    if not cursor:
        return None
    try:
        return decode_cursor(cursor, *shape)
    except ValueError:
        if fields is None:
            raise_fields({"cursor": NOT_ISSUED})
        else:
            fields["cursor"] = NOT_ISSUED
        return None
