"""SLA policy documents as the admin API reads and writes them: the set (the format of config/data/sla_policies.toml,
`defaults` and `policy` rows), a stored version, the preview of a change and the list of versions.

The request shape types what a row is made of (text, a number, true/false/"*"), so Litestar names a field of the
wrong type itself (`policy[2].limit`); what only the whole set can tell (a limit out of range, an unknown channel,
two rows overlapping, a gap) is sla.PolicySet's to judge (hotline.policies.store.validate).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

import msgspec

UNSET: Any = msgspec.UNSET

# A limit stays as written: 5 is sent back as 5, 0.5 as 0.5. Documented as one JSON number (oneOf integer/number
# would be ambiguous: 5 is both).
Number = Annotated[int | float, msgspec.Meta(extra_json_schema={"extra": {"one_of": None, "type": "number"}})]
# true, false or "*" (any). Documented with an enum rather than Litestar's const for "*": openapi-python-client
# checks a const branch of a union without falling back to the boolean one (a client then fails on `false`).
Urgent = Annotated[
    bool | Literal["*"],
    msgspec.Meta(extra_json_schema={"extra": {"one_of": [{"type": "boolean"}, {"type": "string", "enum": ["*"]}]}}),
]


class SlaPolicyDefaults(msgspec.Struct, forbid_unknown_fields=True):
    """The `[defaults]` table: what rows without their own value use."""

    warning_ratio: float | msgspec.UnsetType = UNSET
    supervision_after_working_days: int | msgspec.UnsetType = UNSET


class SlaPolicyRow(msgspec.Struct, forbid_unknown_fields=True):
    """One row: for `clock`, tickets matching channel/kind/urgent ("*" matches anything) get `limit` `unit`."""

    id: str
    clock: Literal["sign", "reply", "callback", "dispatch"]
    channel: str
    kind: str
    urgent: Urgent
    limit: Number
    unit: Literal["working_days", "working_hours", "hours", "minutes"]
    warning_ratio: float | msgspec.UnsetType = UNSET
    supervision_after_working_days: int | msgspec.UnsetType = UNSET


class SlaPolicyDocument(msgspec.Struct, forbid_unknown_fields=True):
    """A policy set sent to PUT or preview. What GET shows beside the set (version, source, created_at, created_by)
    may be sent back and is ignored; `reason` is kept with the new version."""

    policy: list[SlaPolicyRow]
    defaults: SlaPolicyDefaults | None | msgspec.UnsetType = UNSET
    reason: Annotated[str, msgspec.Meta(max_length=500)] | None | msgspec.UnsetType = UNSET
    version: int | None | msgspec.UnsetType = UNSET
    source: str | None | msgspec.UnsetType = UNSET
    created_at: str | None | msgspec.UnsetType = UNSET
    created_by: str | None | msgspec.UnsetType = UNSET


class SlaPolicySet(msgspec.Struct):
    """The set in force or a stored version. `reason` is absent for the set loaded from the config file."""

    version: int
    defaults: SlaPolicyDefaults | None
    policy: list[SlaPolicyRow]
    source: str
    created_at: str | None
    created_by: str | None
    reason: str | None | msgspec.UnsetType = UNSET


class SavedSlaPolicySet(msgspec.Struct):
    """The new version in force, and whether its recomputation of running clocks was asked for and queued."""

    version: int
    defaults: SlaPolicyDefaults | None
    policy: list[SlaPolicyRow]
    source: str
    created_at: str | None
    created_by: str | None
    reason: str | None
    recompute_open: bool
    recompute_queued: bool


class SlaPolicyChange(msgspec.Struct):
    """A row added, removed or changed (by row id): the row before (null when added) and after (null when
    removed)."""

    id: str | None
    change: Literal["added", "removed", "changed"]
    before: SlaPolicyRow | None
    after: SlaPolicyRow | None


class SlaPolicyDefaultsChange(msgspec.Struct):
    """The `[defaults]` table changed (id `defaults`): the table before and after ({} when it had no values)."""

    id: Literal["defaults"]
    change: Literal["changed"]
    before: SlaPolicyDefaults
    after: SlaPolicyDefaults


# One entry of a policy diff: the defaults entry, or a row's. msgspec decodes no union of untagged Structs (and
# tagging would add a key to the JSON), so what holds such a union is a dataclass: it is only ever encoded, and
# Litestar documents it field by field (a Struct holding it could not be described at all).
SlaPolicyDiffEntry = SlaPolicyDefaultsChange | SlaPolicyChange


@dataclass
class SlaPolicyPreview:
    """What saving would do: the diff, the running clocks examined, how many a recomputation would move and how many
    it would leave (paused)."""

    diff: list[SlaPolicyDiffEntry]
    open_clocks: int
    would_move: int
    would_skip: int


class SlaPolicyVersion(msgspec.Struct):
    """One stored version: who made it, when, why, its row count and whether its recomputation finished."""

    version: int
    source: str
    created_at: str
    created_by: str | None
    reason: str | None
    rows: int
    recompute_requested: bool
    recompute_done_at: str | None


class SlaPolicyVersionList(msgspec.Struct):
    items: list[SlaPolicyVersion]
