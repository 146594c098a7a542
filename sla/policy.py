"""SLA policies: which time limit applies to a clock for a (channel, kind, urgent) ticket.

This module owns the set of policy rows (data from config/data/sla_policies.toml or the database; one row and
its checks are in `sla.policy_row`), its validation at load time, and selection. A set that is malformed, has
exact duplicates, overlapping rows of equal specificity or combinations no row covers is refused as a whole with
a PolicyError naming the rows, so an ambiguous or missing limit is found when the file is loaded, never while a
ticket is being taken.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from itertools import product
from typing import Any

from sla.errors import PolicyError
from sla.policy_row import CLOCKS, REQUIRED_CLOCKS, WILDCARD, PolicyRow, parse_row, resolved_defaults

__all__ = ["PolicySet"]

_CONFIG_KEYS = frozenset({"version", "defaults", "policy"})
# Listing every uncovered combination of a big set would bury the message; name this many and count the rest.
_MAX_LISTED_GAPS = 12


def _overlap(a: PolicyRow, b: PolicyRow) -> bool:
    """Both rows can match one (channel, kind, urgent): on every field they agree or one is a wildcard."""
    return (
        (a.channel == b.channel or WILDCARD in (a.channel, b.channel))
        and (a.kind == b.kind or WILDCARD in (a.kind, b.kind))
        and (a.urgent == b.urgent or WILDCARD in (a.urgent, b.urgent))
    )


def _structure_problems(rows: list[tuple[int, PolicyRow]]) -> list[tuple[str, tuple[int, ...]]]:
    """Ids used twice, duplicate and overlapping rows: each problem with the positions of the rows it names."""
    problems: list[tuple[str, tuple[int, ...]]] = []
    seen_ids: dict[str, int] = {}
    for position, row in rows:
        if row.id in seen_ids:
            first = seen_ids[row.id]
            problems.append((f"row id {row.id!r} is used by rows #{first} and #{position}", (first, position)))
        else:
            seen_ids[row.id] = position
    for i, (pa, a) in enumerate(rows):
        for pb, b in rows[i + 1 :]:
            if a.clock != b.clock or a.specificity != b.specificity or not _overlap(a, b):
                continue
            if (a.channel, a.kind, a.urgent) == (b.channel, b.kind, b.urgent):
                problems.append((f"rows {a.label()} and {b.id!r} are exact duplicates", (pa, pb)))
            else:
                both = (
                    a.channel if a.channel != WILDCARD else b.channel,
                    a.kind if a.kind != WILDCARD else b.kind,
                    a.urgent if a.urgent != WILDCARD else b.urgent,
                )
                problems.append(
                    (
                        f"rows {a.label()} and {b.label()} overlap: both match clock={a.clock} channel={both[0]} "
                        f"kind={both[1]} urgent={str(both[2]).lower()} with the same specificity {a.specificity}",
                        (pa, pb),
                    )
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
    clocks = [c for c in CLOCKS if c in REQUIRED_CLOCKS or c in rows_by_clock]  # an optional clock: all or nothing
    gaps = [
        (clock, channel, kind, urgent)
        for clock, channel, kind, urgent in product(clocks, channel_space, kind_space, (False, True))
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
        resolved = resolved_defaults(defaults, problems)
        if not isinstance(rows, list):
            raise PolicyError([*problems, f"rows must be a list of tables, got {type(rows).__name__}"])
        named: list[tuple[int, ...]] = [()] * len(problems)  # the rows each problem is about (set-wide: none)
        parsed: list[tuple[int, PolicyRow]] = []
        for position, raw in enumerate(rows, start=1):
            row, row_problems = parse_row(raw, position, resolved, channel_set, kind_set)
            problems.extend(row_problems)
            named.extend([(position,)] * len(row_problems))
            if row is not None:
                parsed.append((position, row))
        for text, positions in _structure_problems(parsed):
            problems.append(text)
            named.append(positions)
        if problems:
            # Completeness is judged only on a set whose rows are all valid; otherwise gaps would be noise.
            raise PolicyError(problems, named)
        policy_set = cls([row for _, row in parsed], version=version, channels=channel_set, kinds=kind_set)
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

    def times(self, clock: str) -> bool:
        """Whether this set times `clock` at all (the optional dispatch clock may have no rows)."""
        return clock in self._by_clock

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
