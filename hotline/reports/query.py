"""A report request: the period, as_of, grouping and format read from the query string (every bad field named in one
422), and whose figures a principal may read."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from typing import cast
from zoneinfo import ZoneInfo

from hotline import inputs
from hotline.auth.tokens import Principal
from hotline.errors import Forbidden, InvalidInput
from hotline.reports.metrics import COLUMNS, FORMATS, GROUPS
from hotline.reports.shapes import Group
from hotline.vocab import DISPATCHING_ROLES, HANDLER


@dataclass(frozen=True, slots=True)
class ReportQuery:
    start: datetime
    end: datetime
    as_of: datetime
    group_by: Group = "unit"
    format: str = "json"
    columns: str = "labels"  # a file's headers and values: the screen's (labels) or the contract's (codes)


_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def midnight(d: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(d, dtime(0), tzinfo=tz)


def _instant(
    raw: str, name: str, tz: ZoneInfo, fields: dict[str, str], *, date_is_end: bool = False
) -> datetime | None:
    text = raw.strip()
    if _DATE_RE.match(text):
        try:
            d = date.fromisoformat(text)
        except ValueError:
            fields[name] = f"{text!r} is not a calendar date"
            return None
        if not inputs.instant_in_range(d):
            fields[name] = inputs.INSTANT_RANGE
            return None
        return midnight(d + timedelta(days=1) if date_is_end else d, tz)
    # An unencoded '+' in a query string arrives as a space: "2031-03-01T00:00:00 08:00".
    text = re.sub(r"(T[\d:.]+) (\d{2}:?\d{2})$", r"\1+\2", text)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        fields[name] = "an ISO 8601 date (YYYY-MM-DD) or datetime with offset, e.g. 2031-03-01T00:00:00+08:00"
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        fields[name] = "a datetime must carry a UTC offset, e.g. +08:00"
        return None
    if not inputs.instant_in_range(value):
        fields[name] = inputs.INSTANT_RANGE
        return None
    return value.astimezone(UTC)


def parse_query(
    tz_name: str,
    *,
    from_: str | None,
    to: str | None,
    as_of: str | None,
    group_by: str | None,
    format: str | None,
    columns: str | None = None,
    now: datetime | None = None,
) -> ReportQuery:
    """Read the query string; every bad field is named in one 422."""
    tz = ZoneInfo(tz_name)
    fields: dict[str, str] = {}
    start = _instant(from_, "from", tz, fields) if from_ else None
    end = _instant(to, "to", tz, fields) if to else None
    if not from_:
        fields["from"] = "required: an ISO 8601 date or datetime with offset"
    if not to:
        fields["to"] = "required: an ISO 8601 date or datetime with offset (exclusive)"
    at = _instant(as_of, "as_of", tz, fields, date_is_end=True) if as_of else (now or datetime.now(UTC))
    group = (group_by or "unit").strip()
    fmt = (format or "json").strip().lower()
    if group not in GROUPS:
        fields["group_by"] = f"one of {', '.join(GROUPS)}"
    if fmt not in FORMATS:
        fields["format"] = f"one of {', '.join(FORMATS)}"
    cols = (columns or "labels").strip().lower()
    if cols not in COLUMNS:
        fields["columns"] = f"one of {', '.join(COLUMNS)}"
    if start is not None and end is not None and start >= end:
        fields["to"] = "must be after from"
    if fields:
        raise InvalidInput("; ".join(f"{k}: {v}" for k, v in fields.items()), fields=fields)
    assert start is not None and end is not None and at is not None
    return ReportQuery(start, end, at, cast(Group, group), fmt, cols)  # group is one of GROUPS


# Who may read reports (unit_scope says how much): every unit for DISPATCHING_ROLES, a handler its own unit's.
REPORT_ROLES = DISPATCHING_ROLES | {HANDLER}


def unit_scope(principal: Principal) -> str | None:
    """Managers, dispatchers and admins see every unit; a handler its own unit's figures only."""
    if principal.role in DISPATCHING_ROLES:
        return None
    if principal.role == HANDLER and principal.unit:
        return principal.unit
    raise Forbidden(f"role {principal.role} may not read reports (allowed: manager, dispatcher, admin, handler)")
