"""SLA policies: which time limit applies to a clock for a (channel, kind, urgent) ticket.

This module owns the policy rows (data from config/data/sla_policies.toml or the database), their validation at
load time, and selection. A set that is malformed, has exact duplicates, overlapping rows of equal specificity or
combinations no row covers is refused as a whole with a PolicyError naming the rows, so an ambiguous or missing
limit is found when the file is loaded, never while a ticket is being taken.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import product
from typing import Any, Literal

__all__ = [
    "CLOCKS",
    "MAX_EXTENSION_WORKING_DAYS",
    "UNITS",
    "UPSTREAM_BREACH_MINIMUM_WORKING_DAYS",
    "WILDCARD",
    "PolicyError",
    "PolicyRow",
    "PolicySet",
]

CLOCKS = ("sign", "reply", "callback")
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
_CONFIG_KEYS = frozenset({"version", "defaults", "policy"})
# Listing every uncovered combination of a big set would bury the message; name this many and count the rest.
_MAX_LISTED_GAPS = 12


class PolicyError(ValueError):
    """A policy set is invalid (the message names the rows), or no row applies to a selection."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        super().__init__("; ".join(self.problems))


@dataclass(frozen=True, slots=True)
class PolicyRow:
    """One limit: for `clock`, tickets matching channel/kind/urgent ("*" matches anything) get `limit` `unit`."""

    id: str
    clock: Literal["sign", "reply", "callback"]
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
        row, problems = _parse_row(raw, 1, _resolved_defaults(None, []), None, None)
        if row is None:
            raise PolicyError(problems)
        return row


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check_ratio(value: Any) -> bool:
    return _is_number(value) and 0 < value < 1


def _check_days(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_SUPERVISION_AFTER_WORKING_DAYS


def _resolved_defaults(defaults: Mapping[str, Any] | None, problems: list[str]) -> dict[str, Any]:
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
                "must be an integer from 1 to {MAX_SUPERVISION_AFTER_WORKING_DAYS}"
            )
    return resolved


def _parse_row(
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


def _overlap(a: PolicyRow, b: PolicyRow) -> bool:
    """Both rows can match one (channel, kind, urgent): on every field they agree or one is a wildcard."""
    return (
        (a.channel == b.channel or WILDCARD in (a.channel, b.channel))
        and (a.kind == b.kind or WILDCARD in (a.kind, b.kind))
        and (a.urgent == b.urgent or WILDCARD in (a.urgent, b.urgent))
    )


def _structure_problems(rows: list[PolicyRow]) -> list[str]:
    problems: list[str] = []
    seen_ids: dict[str, int] = {}
    for i, row in enumerate(rows, start=1):
        if row.id in seen_ids:
            problems.append(f"row id {row.id!r} is used by rows #{seen_ids[row.id]} and #{i}")
        else:
            seen_ids[row.id] = i
    for i, a in enumerate(rows):
        for b in rows[i + 1 :]:
            if a.clock != b.clock or a.specificity != b.specificity or not _overlap(a, b):
                continue
            if (a.channel, a.kind, a.urgent) == (b.channel, b.kind, b.urgent):
                problems.append(f"rows {a.label()} and {b.id!r} are exact duplicates")
            else:
                both = (
                    a.channel if a.channel != WILDCARD else b.channel,
                    a.kind if a.kind != WILDCARD else b.kind,
                    a.urgent if a.urgent != WILDCARD else b.urgent,
                )
                problems.append(
                    f"rows {a.label()} and {b.label()} overlap: both match clock={a.clock} channel={both[0]} "
                    f"kind={both[1]} urgent={str(both[2]).lower()} with the same specificity {a.specificity}"
                )
    return problems


def _select(
    rows_by_clock: Mapping[str, tuple[PolicyRow, ...]], clock: str, channel: str, kind: str, urgent: bool
) -> PolicyRow | None:
    for row in rows_by_clock.get(clock, ()):
        if row.matches(channel, kind, urgent):
            return row
    return None


# Stands for "a channel/kind not in the lists": only a wildcard matches it, so with no lists the completeness
# check demands all-wildcard fallbacks.
_ANY_OTHER = "\x00any other"


def _gaps(
    rows_by_clock: Mapping[str, tuple[PolicyRow, ...]], channels: frozenset[str] | None, kinds: frozenset[str] | None
) -> list[str]:
    channel_space = sorted(channels) if channels is not None else [_ANY_OTHER]
    kind_space = sorted(kinds) if kinds is not None else [_ANY_OTHER]
    gaps = [
        (clock, channel, kind, urgent)
        for clock, channel, kind, urgent in product(CLOCKS, channel_space, kind_space, (False, True))
        if _select(rows_by_clock, clock, channel, kind, urgent) is None
    ]
    if not gaps:
        return []

    def show(value: str) -> str:
        return "(any other)" if value == _ANY_OTHER else value

    listed = [f"clock={c} channel={show(ch)} kind={show(k)} urgent={str(u).lower()}" for c, ch, k, u in gaps][
        :_MAX_LISTED_GAPS
    ]
    more = f" and {len(gaps) - len(listed)} more" if len(gaps) > len(listed) else ""
    hint = "" if channels is not None and kinds is not None else " (add an all-wildcard fallback row per clock)"
    return [f"incomplete: no row matches {'; '.join(listed)}{more}{hint}"]


class PolicySet:
    """A validated, immutable set of policy rows with a version; `select` picks the row for a ticket."""

    __slots__ = ("version", "rows", "channels", "kinds", "_by_clock", "_cache")

    version: int
    rows: tuple[PolicyRow, ...]
    channels: frozenset[str] | None
    kinds: frozenset[str] | None

    def __init__(
        self, rows: Iterable[PolicyRow], *, version: int, channels: frozenset[str] | None, kinds: frozenset[str] | None
    ) -> None:
        self.version = version
        self.rows = tuple(rows)
        self.channels = channels
        self.kinds = kinds
        by_clock: dict[str, list[PolicyRow]] = {}
        for row in self.rows:
            by_clock.setdefault(row.clock, []).append(row)
        # Most specific first; overlaps of equal specificity are refused, so the first match is the only one.
        self._by_clock = {c: tuple(sorted(rs, key=lambda r: -r.specificity)) for c, rs in by_clock.items()}
        self._cache: dict[tuple[str, str, str, bool], PolicyRow] = {}

    @classmethod
    def from_rows(
        cls,
        rows: list[dict[str, Any]],
        *,
        version: int = 1,
        channels: Iterable[str] | None = None,
        kinds: Iterable[str] | None = None,
        defaults: dict[str, Any] | None = None,
    ) -> PolicySet:
        """Validate and load rows. `channels`/`kinds` (codes; a dict's keys do) enable the unknown-code and full
        completeness checks; without them every clock needs an all-wildcard fallback."""
        channel_set = frozenset(channels) if channels is not None else None
        kind_set = frozenset(kinds) if kinds is not None else None
        problems: list[str] = []
        if isinstance(version, bool) or not isinstance(version, int):
            problems.append(f"version {version!r} must be an integer")
        resolved = _resolved_defaults(defaults, problems)
        if not isinstance(rows, list):
            raise PolicyError([*problems, f"rows must be a list of tables, got {type(rows).__name__}"])
        parsed: list[PolicyRow] = []
        for position, raw in enumerate(rows, start=1):
            row, row_problems = _parse_row(raw, position, resolved, channel_set, kind_set)
            problems.extend(row_problems)
            if row is not None:
                parsed.append(row)
        problems.extend(_structure_problems(parsed))
        if problems:
            # Completeness is judged only on a set whose rows are all valid; otherwise gaps would be noise.
            raise PolicyError(problems)
        policy_set = cls(parsed, version=version, channels=channel_set, kinds=kind_set)
        gaps = _gaps(policy_set._by_clock, channel_set, kind_set)
        if gaps:
            raise PolicyError(gaps)
        return policy_set

    @classmethod
    def from_config(
        cls,
        parsed_toml: dict[str, Any],
        *,
        version: int | None = None,
        channels: Iterable[str] | None = None,
        kinds: Iterable[str] | None = None,
    ) -> PolicySet:
        """Load the format of config/data/sla_policies.toml: `version`, `[defaults]`, `[[policy]]` rows.

        An explicit `version` wins (the database numbers policy versions); otherwise the file's, else 1.
        """
        if not isinstance(parsed_toml, Mapping):
            raise PolicyError([f"policy config must be a table, got {type(parsed_toml).__name__}"])
        unknown = set(parsed_toml) - _CONFIG_KEYS
        if unknown:
            raise PolicyError([f"policy config: unknown keys {sorted(unknown)} (allowed: {sorted(_CONFIG_KEYS)})"])
        chosen = version if version is not None else parsed_toml.get("version", 1)
        return cls.from_rows(
            parsed_toml.get("policy", []),
            version=chosen,
            channels=channels,
            kinds=kinds,
            defaults=parsed_toml.get("defaults"),
        )

    def select(self, clock: str, channel: str, kind: str, urgent: bool) -> PolicyRow:
        """The most specific row for this ticket; PolicyError when none matches (an incomplete set)."""
        key = (clock, channel, kind, urgent)
        row = self._cache.get(key)
        if row is None:
            if clock not in CLOCKS:
                raise PolicyError([f"unknown clock {clock!r} (expected one of {', '.join(CLOCKS)})"])
            row = _select(self._by_clock, clock, channel, kind, bool(urgent))
            if row is None:
                raise PolicyError(
                    [
                        f"no policy row matches clock={clock} channel={channel} kind={kind} "
                        f"urgent={str(bool(urgent)).lower()} (policy version {self.version})"
                    ]
                )
            if len(self._cache) < 10_000:  # bounded against callers passing arbitrary codes
                self._cache[key] = row
        return row

    def to_rows(self) -> list[dict[str, Any]]:
        """Rows as plain dicts with defaults resolved; `from_rows(s.to_rows(), version=s.version)` rebuilds s."""
        return [row.to_dict() for row in self.rows]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PolicySet):
            return NotImplemented
        return self.version == other.version and self.rows == other.rows

    def __hash__(self) -> int:
        return hash((self.version, self.rows))

    def __repr__(self) -> str:
        return f"PolicySet(version={self.version}, rows={len(self.rows)})"
