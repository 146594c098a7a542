"""The range of instants the SLA arithmetic supports, in one place.

Every entry point that takes an instant from outside (a preview's `received_at`, a transfer's `external_due_at`
and upstream `received_at`, an extension's `until`, a stored clock being recomputed) checks it against
SUPPORTED_YEARS before any working time is counted, and the service answers 422 naming the field. Inside the
range a deadline is at most a few hundred working days away, so the working-day table never has to grow past
HORIZON_YEARS; past it the arithmetic raises OutOfRange instead of searching on (a request for 9999-12-31 once
looped for ever, since no table can reach past year 9999).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sla.errors import OutOfRange

__all__ = ["HORIZON_YEARS", "SUPPORTED_YEARS", "OutOfRange", "check_date", "check_instant", "out_of_range"]

UTC = UTC
# Instants and dates from outside must fall in these years (inclusive), in UTC for instants.
SUPPORTED_YEARS = (2000, 2100)
# The years the working-day table may cover: the supported range plus room for limits, extensions and
# supervision counted from its edges (a year of working days and more either side).
HORIZON_YEARS = (1990, 2110)

_FROM = datetime(SUPPORTED_YEARS[0], 1, 1, tzinfo=UTC)
_UNTIL = datetime(SUPPORTED_YEARS[1] + 1, 1, 1, tzinfo=UTC)


def out_of_range(value: datetime | date) -> str | None:
    """Why `value` (an aware instant or a date) is outside the supported range, or None when it is inside.
    Compared as aware instants, so an extreme offset on year 1 or 9999 cannot overflow a conversion."""
    first, last = SUPPORTED_YEARS
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            return "must carry a UTC offset"
        inside = _FROM <= value < _UNTIL
    else:
        inside = first <= value.year <= last
    return None if inside else f"must fall between {first}-01-01 and {last}-12-31 (UTC)"


def check_instant(value: datetime, what: str) -> None:
    """Raise OutOfRange naming `what` when `value` is outside the supported range."""
    reason = out_of_range(value)
    if reason is not None:
        raise OutOfRange(f"{what} {value.isoformat()} {reason}")


def check_date(value: date, what: str) -> None:
    reason = out_of_range(value)
    if reason is not None:
        raise OutOfRange(f"{what} {value.isoformat()} {reason}")
