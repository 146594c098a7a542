"""The JSON shapes of tickets as the API sends them (../shared/DESIGN.md "API shape"): a ticket, a ticket with its
timeline, a page of tickets, the agent's hints, the routing explanation and the SLA preview.

Instants are ISO 8601 strings with their offset (or null), built by hotline.tickets.queries; a key that some
accounts never see (an integration account reads no actor, role or unit of the staff) is UNSET for them and left
out of the JSON, and is optional in the schema.
"""

from __future__ import annotations

from typing import Any

import msgspec
import structlog
from msgspec import UNSET, UnsetType

from hotline.tickets.deadline_explanation import DeadlineExplanation

log = structlog.get_logger(__name__)


class CallerView(msgspec.Struct):
    name: str | None
    phone: str | None  # masked (138****5678) for the roles that may not see numbers


class LocationView(msgspec.Struct):
    lat: float
    lng: float


class ReplyView(msgspec.Struct):
    """The unit's answer (答复): its text, outcome and when it was given."""

    content: str
    outcome: str | None
    at: str | None


class Deadlines(msgspec.Struct):
    """The running clocks' due instants: sign (签收), reply (答复), callback (回访); null when not running."""

    sign: str | None
    reply: str | None
    callback: str | None


class RoutingDecision(msgspec.Struct):
    """How intake routed the ticket: the unit chosen (or null), the rule that chose it and why."""

    unit: str | None
    rule_id: int | None
    reason: str


class Ticket(msgspec.Struct, kw_only=True):
    """A ticket (工单) as every list, action and intake answers it."""

    number: str
    status: str
    closure: str | None
    channel: str
    kind: str
    category: str | None
    territory: str | None
    title: str
    content: str
    caller: CallerView
    urgent: bool
    address: str | None
    location: LocationView | None
    external_ref: str | None
    external_due_at: str | None
    upstream_received_at: str | None
    unit: str | None
    unit_name: str | None
    routing: RoutingDecision | None
    merged_into: str | None
    reply: ReplyView | None
    answer: str | None
    reopen_count: int
    suspended: bool
    version: int
    received_at: str | None
    created_at: str | None
    updated_at: str | None
    closed_at: str | None
    deadlines: Deadlines


class DuplicateTicket(Ticket, kw_only=True):
    """A likely duplicate of the call being logged: how similar, and why it was suggested."""

    similarity: float
    reasons: list[str]


class UpstreamBreach(msgspec.Struct):
    """A (re-)dispatch after a transfer's upstream deadline: that deadline, and who is charged with the breach (a
    unit's code, `upstream` or `pending_dispatch`)."""

    upstream_due_at: str
    charged_to: str


class Classification(msgspec.Struct):
    """A ticket's territory and category, before and after a dispatcher's correction (更正属地与类别)."""

    territory: str | None
    category: str | None


_TYPED_PAYLOAD: dict[str, type[msgspec.Struct]] = {
    "routing": RoutingDecision,
    "upstream_breach": UpstreamBreach,
    "before": Classification,
    "after": Classification,
}


class Event(msgspec.Struct, kw_only=True):
    """One line of the timeline. The action's own fields follow the event's (a dispatch's target unit is
    `to_unit`); an integration account reads no actor, role or unit, and only the fields its citizens may be told."""

    action: str
    at: str
    actor: str | None | UnsetType = UNSET
    role: str | None | UnsetType = UNSET
    unit: str | None | UnsetType = UNSET
    status_before: str | None
    status_after: str | None
    version: int
    # The payloads' fields, each present only on the actions that record it.
    to_unit: str | None | UnsetType = UNSET
    from_unit: str | None | UnsetType = UNSET
    note: str | None | UnsetType = UNSET
    text: str | None | UnsetType = UNSET
    reason: str | None | UnsetType = UNSET
    content: str | None | UnsetType = UNSET
    outcome: str | None | UnsetType = UNSET
    answer: str | None | UnsetType = UNSET
    into: str | None | UnsetType = UNSET
    merged_from: str | None | UnsetType = msgspec.field(default=UNSET, name="from")
    on_time: bool | None | UnsetType = UNSET
    signed: bool | None | UnsetType = UNSET
    accept: bool | None | UnsetType = UNSET
    proper: bool | None | UnsetType = UNSET
    returned_by: str | None | UnsetType = UNSET
    approve: bool | None | UnsetType = UNSET
    working_days: int | None | UnsetType = UNSET
    until: str | None | UnsetType = UNSET
    new_due_at: str | None | UnsetType = UNSET
    old_due_at: str | None | UnsetType = UNSET
    remaining_seconds: float | None | UnsetType = UNSET
    contacted: bool | None | UnsetType = UNSET
    resolved: str | None | UnsetType = UNSET
    satisfaction: str | None | UnsetType = UNSET
    attempt: int | None | UnsetType = UNSET
    reopened: bool | None | UnsetType = UNSET
    clock: str | None | UnsetType = UNSET
    policy_version: int | None | UnsetType = UNSET
    channel: str | None | UnsetType = UNSET
    external_ref: str | None | UnsetType = UNSET
    urgent: bool | None | UnsetType = UNSET
    upstream_received_at: str | None | UnsetType = UNSET
    upstream_breached: bool | None | UnsetType = UNSET
    upstream_breach: UpstreamBreach | None | UnsetType = UNSET
    routing: RoutingDecision | None | UnsetType = UNSET
    before: Classification | None | UnsetType = UNSET
    after: Classification | None | UnsetType = UNSET


# The JSON names of an event's optional fields, for building one from a stored payload.
EVENT_PAYLOAD_KEYS = frozenset(
    set(Event.__struct_encode_fields__)
    - {"action", "at", "actor", "role", "unit", "status_before", "status_after", "version"}
)
_ATTRIBUTE_OF = dict(zip(Event.__struct_encode_fields__, Event.__struct_fields__, strict=True))


def event(fixed: dict[str, Any], payload: dict[str, Any]) -> Event:
    """An event from its columns and its payload's fields (JSON names). A payload key the shape does not declare
    is a programming error in whichever action recorded it: logged (the timeline still reads) and left out."""
    unknown = set(payload) - EVENT_PAYLOAD_KEYS
    if unknown:
        log.error("event_payload_undeclared", action=fixed.get("action"), keys=sorted(unknown))
    fields: dict[str, Any] = {
        _ATTRIBUTE_OF[k]: msgspec.convert(v, _TYPED_PAYLOAD[k]) if k in _TYPED_PAYLOAD and v is not None else v
        for k, v in payload.items()
        if k not in unknown
    }
    return Event(**fixed, **fields)


class ClockView(msgspec.Struct, kw_only=True):
    """One clock of an assignment (or the ticket's dispatch clock, 派单): its deadline, time left in working time,
    step reached and explanation."""

    clock: str
    started_at: str
    due_at: str
    warning_at: str
    supervision_at: str
    running: bool
    stopped_at: str | None
    remaining_seconds: int
    basis: str
    step: str | None
    steps_recorded: list[str]
    provisional: bool
    version: int
    explanation: DeadlineExplanation
    # Paused since (挂起, or a return under review, 退单待审): running but not counting down; null when counting.
    suspended_at: str | None = None


class AssignmentView(msgspec.Struct, kw_only=True):
    """One unit's turn with the ticket (派单 to 办结 or 退单), with its clocks."""

    seq: int
    unit: str
    unit_name: str | None
    origin: str
    started_at: str | None
    signed_at: str | None
    replied_at: str | None
    returned_at: str | None
    return_reason: str | None
    return_proper: bool | None
    ended_at: str | None
    end_reason: str | None
    charged: bool | None
    current: bool
    clocks: list[ClockView]


class TicketDetail(Ticket, kw_only=True):
    """A ticket with its timeline (GET /api/tickets/{number}): events, assignments and the current clocks (the
    current assignment's, and the running `dispatch` clock while the ticket waits for a dispatcher)."""

    events: list[Event]
    assignments: list[AssignmentView]
    clocks: dict[str, ClockView]
    dispatch_clocks: list[ClockView] = msgspec.field(default_factory=list)  # every wait for a dispatcher, in order


class TicketPage(msgspec.Struct):
    """A page of tickets; `next_cursor` fetches the next one (null on the last page)."""

    items: list[Ticket]
    next_cursor: str | None


class Hints(msgspec.Struct):
    """While logging a call: the caller's earlier tickets, likely duplicates, and the vehicle plates in the text."""

    earlier: list[Ticket]
    duplicates: list[DuplicateTicket]
    plates: list[str]


class TicketRuleView(msgspec.Struct):
    """A routing rule: "*" for any territory, "{territory}-bureau" for the territory's local bureau."""

    id: int
    category: str
    territory: str
    unit: str


class RoutingExplanation(msgspec.Struct):
    """Why the ticket went where it went (属地管理、归口办理) and where it is now."""

    number: str
    category: str | None
    territory: str | None
    unit: str | None
    unit_name: str | None
    reason: str | None
    rule: TicketRuleView | None
    current_unit: str | None


class DeadlineExplanations(msgspec.Struct):
    """How the sign (签收) and reply (答复) deadlines were counted."""

    sign: DeadlineExplanation
    reply: DeadlineExplanation


class SlaPreview(msgspec.Struct):
    """The deadlines a ticket received at `received_at` would be given, and how each was counted."""

    received_at: str
    sign: str
    reply: str
    provisional: bool
    explanation: DeadlineExplanations
