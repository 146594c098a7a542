"""One SLA policy row: its fields, the fixed limits a row must respect, and the validation of one row.

A row says which limit applies to a clock for tickets matching (channel, kind, urgent), "*" matching anything.
`sla.policy` checks a whole set of rows (duplicates, overlaps, gaps) and selects from it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from sla.errors import PolicyError

__all__ = [
    "CLOCKS",
    "REQUIRED_CLOCKS",
    "MAX_EXTENSION_WORKING_DAYS",
    "UNITS",
    "UPSTREAM_BREACH_MINIMUM_WORKING_DAYS",
    "WILDCARD",
    "PolicyError",
    "PolicyRow",
    "parse_row",
    "resolved_defaults",
]

CLOCKS = ("sign", "reply", "callback", "dispatch")
# The clocks every set must cover. The dispatch clock (派单) is optional: a set either covers it for every ticket or
# has no dispatch row at all (then no ticket waiting for a dispatcher is timed); sets saved before it existed stay
# valid.
REQUIRED_CLOCKS = ("sign", "reply", "callback")
UNITS = ("working_days", "working_hours", "hours", "minutes")
WILDCARD = "*"
DEFAULT_WARNING_RATIO = 0.75
DEFAULT_SUPERVISION_AFTER_WORKING_DAYS = 2
# The longest limit per unit, about a year: a policy may not put a deadline past what the working-time arithmetic
# covers (sla.bounds), and no hotline limit comes near it.
MAX_LIMIT = {"working_days": 250, "working_hours": 2000, "hours": 8784, "minutes": 527040}
MAX_SUPERVISION_AFTER_WORKING_DAYS = 60
# An extension moves a deadline by at most this many working days, given as a count or as a date.
MAX_EXTENSION_WORKING_DAYS = 60
# What a clock gets when its upstream deadline had already passed as it started (a late transfer, a re-dispatch
# after the upstream deadline): the close of the Nth working day after it starts, or the policy's own limit if
# that is shorter. The upstream breach is the earlier holder's (or upstream's), not this unit's.
UPSTREAM_BREACH_MINIMUM_WORKING_DAYS = 1

_REQUIRED = ("id", "clock", "channel", "kind", "urgent", "limit", "unit")
_OPTIONAL = ("warning_ratio", "supervision_after_working_days")
_DEFAULT_KEYS = frozenset(_OPTIONAL)


@dataclass(frozen=True, slots=True)
class PolicyRow:
    """One limit: for `clock`, tickets matching channel/kind/urgent ("*" matches anything) get `limit` `unit`."""

    id: str
    clock: Literal["sign", "reply", "callback", "dispatch"]
    channel: str
    kind: str
    urgent: bool | Literal["*"]
    limit: float
    unit: Literal["working_days", "working_hours", "hours", "minutes"]
    warning_ratio: float = DEFAULT_WARNING_RATIO
    supervision_after_working_days: int = DEFAULT_SUPERVISION_AFTER_WORKING_DAYS

    @property
    def specificity(self) -> int:
        """How many of channel/kind/urgent are not wildcards; the most specific matching row wins."""
        return (self.channel != WILDCARD) + (self.kind != WILDCARD) + (self.urgent != WILDCARD)

    @property
    def basis(self) -> Literal["working", "natural"]:
        return "working" if self.unit in ("working_days", "working_hours") else "natural"

    def matches(self, channel: str, kind: str, urgent: bool) -> bool:
        return (
            (self.channel == WILDCARD or self.channel == channel)
            and (self.kind == WILDCARD or self.kind == kind)
            and (self.urgent == WILDCARD or self.urgent is urgent)
        )

    def label(self) -> str:
        urgent = self.urgent if self.urgent == WILDCARD else str(self.urgent).lower()
        return f"{self.id!r} (clock={self.clock} channel={self.channel} kind={self.kind} urgent={urgent})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "clock": self.clock,
            "channel": self.channel,
            "kind": self.kind,
            "urgent": self.urgent,
            "limit": self.limit,
            "unit": self.unit,
            "warning_ratio": self.warning_ratio,
            "supervision_after_working_days": self.supervision_after_working_days,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> PolicyRow:
        """Rebuild a row that was validated before (e.g. stored in a deadline); validates again all the same."""
        row, problems = parse_row(raw, 1, resolved_defaults(None, []), None, None)
        if row is None:
            raise PolicyError(problems)
        return row


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check_ratio(value: Any) -> bool:
    return _is_number(value) and 0 < value < 1


def _check_days(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_SUPERVISION_AFTER_WORKING_DAYS


def resolved_defaults(defaults: Mapping[str, Any] | None, problems: list[str]) -> dict[str, Any]:
    """The `[defaults]` table with the built-in defaults filled in; its problems are appended to `problems`."""
    resolved: dict[str, Any] = {
        "warning_ratio": DEFAULT_WARNING_RATIO,
        "supervision_after_working_days": DEFAULT_SUPERVISION_AFTER_WORKING_DAYS,
    }
    if defaults is None:
        return resolved
    if not isinstance(defaults, Mapping):
        problems.append("defaults must be a table")
        return resolved
    unknown = set(defaults) - _DEFAULT_KEYS
    if unknown:
        problems.append(f"defaults: unknown keys {sorted(unknown)} (allowed: {sorted(_DEFAULT_KEYS)})")
    if "warning_ratio" in defaults:
        if _check_ratio(defaults["warning_ratio"]):
            resolved["warning_ratio"] = float(defaults["warning_ratio"])
        else:
            problems.append(f"defaults: warning_ratio {defaults['warning_ratio']!r} must be a number in (0, 1)")
    if "supervision_after_working_days" in defaults:
        if _check_days(defaults["supervision_after_working_days"]):
            resolved["supervision_after_working_days"] = defaults["supervision_after_working_days"]
        else:
            problems.append(
                f"defaults: supervision_after_working_days {defaults['supervision_after_working_days']!r} "
                f"must be an integer from 1 to {MAX_SUPERVISION_AFTER_WORKING_DAYS}"
            )
    return resolved


def parse_row(
    raw: Any,
    position: int,
    defaults: Mapping[str, Any],
    channels: frozenset[str] | None,
    kinds: frozenset[str] | None,
) -> tuple[PolicyRow | None, list[str]]:
    """Validate one row; on failure return every problem found in it, prefixed with the row's id and position."""
    if not isinstance(raw, Mapping):
        return None, [f"row #{position}: must be a table, got {type(raw).__name__}"]
    name = f"row {raw.get('id')!r} (#{position})" if raw.get("id") is not None else f"row #{position}"
    problems = _key_problems(raw, name)
    if any(k not in raw for k in _REQUIRED):
        return None, problems
    problems += _match_problems(raw, name, channels, kinds)
    problems += _limit_problems(raw, name)
    ratio = raw.get("warning_ratio", defaults["warning_ratio"])
    if not _check_ratio(ratio):
        problems.append(f"{name}: warning_ratio {ratio!r} must be a number in (0, 1)")
    days = raw.get("supervision_after_working_days", defaults["supervision_after_working_days"])
    if not _check_days(days):
        problems.append(
            f"{name}: supervision_after_working_days {days!r} must be an integer from 1 to "
            f"{MAX_SUPERVISION_AFTER_WORKING_DAYS}"
        )
    if problems:
        return None, problems
    return PolicyRow(
        id=raw["id"],
        clock=raw["clock"],
        channel=raw["channel"],
        kind=raw["kind"],
        urgent=raw["urgent"],
        limit=raw["limit"],
        unit=raw["unit"],
        warning_ratio=float(ratio),
        supervision_after_working_days=days,
    ), []


def _key_problems(raw: Mapping[str, Any], name: str) -> list[str]:
    """Required keys missing and keys no row has."""
    problems: list[str] = []
    missing = [k for k in _REQUIRED if k not in raw]
    if missing:
        problems.append(f"{name}: missing {missing}")
    unknown = sorted(set(raw) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        problems.append(f"{name}: unknown keys {unknown}")
    return problems


def _match_problems(
    raw: Mapping[str, Any], name: str, channels: frozenset[str] | None, kinds: frozenset[str] | None
) -> list[str]:
    """What the row is for: its id, clock, channel, kind and urgency."""
    problems: list[str] = []
    if not isinstance(raw["id"], str) or not raw["id"].strip():
        problems.append(f"{name}: id must be a non-empty string")
    if raw["clock"] not in CLOCKS:
        problems.append(f"{name}: clock {raw['clock']!r} is not one of {', '.join(CLOCKS)}")
    for field, known in (("channel", channels), ("kind", kinds)):
        value = raw[field]
        if not isinstance(value, str) or not value:
            problems.append(f"{name}: {field} must be a non-empty string or '*'")
        elif known is not None and value != WILDCARD and value not in known:
            problems.append(f"{name}: unknown {field} {value!r} (known: {', '.join(sorted(known))})")
    if raw["urgent"] is not True and raw["urgent"] is not False and raw["urgent"] != WILDCARD:
        problems.append(f"{name}: urgent {raw['urgent']!r} must be true, false or '*'")
    return problems


def _limit_problems(raw: Mapping[str, Any], name: str) -> list[str]:
    """The limit and its unit: a positive number, no more than MAX_LIMIT of a known unit."""
    problems: list[str] = []
    if not _is_number(raw["limit"]) or raw["limit"] <= 0:
        problems.append(f"{name}: limit {raw['limit']!r} must be a positive number")
    if raw["unit"] not in UNITS:
        problems.append(f"{name}: unit {raw['unit']!r} is not one of {', '.join(UNITS)}")
    elif _is_number(raw["limit"]) and raw["limit"] > MAX_LIMIT[raw["unit"]]:
        problems.append(f"{name}: limit {raw['limit']!r} is more than {MAX_LIMIT[raw['unit']]} {raw['unit']}")
    return problems
