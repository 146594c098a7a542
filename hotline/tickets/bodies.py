"""The bodies of the lifecycle's actions: one Struct per action, which Litestar decodes and validates (a 422
naming the offending field) and OpenAPI documents as the action's request body."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

import msgspec

import sla
from hotline.errors import InvalidInput, nul_fields

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=5000)]
UnitCode = Annotated[str, msgspec.Meta(min_length=1, max_length=40, description="a unit's code, e.g. 320612-bureau")]


class Body(msgspec.Struct, kw_only=True):
    """Every action's body may carry the version the caller last read: a stale one is a 409 (the ticket changed)."""

    expected_version: int | None = None


class DispatchBody(Body, kw_only=True):
    """派单 / 改派: send the ticket to a unit (a waiting ticket, or one a unit holds)."""

    unit: UnitCode
    note: Text | None = None


class ReclassifyBody(Body, kw_only=True):
    """更正属地与类别: correct the territory and/or the category of a ticket waiting for dispatch (an absent field
    is left as it is); the routing suggestion is recomputed."""

    territory: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{6}$", description="a GB/T 2260 code")] | None = None
    category: Annotated[str, msgspec.Meta(min_length=1, max_length=40, description="a category code")] | None = None


class EmptyBody(Body, kw_only=True):
    """No fields of its own: `{}`, only `expected_version`, or no body at all."""


class ReasonBody(Body, kw_only=True):
    reason: Text


class ReturnBody(ReasonBody, kw_only=True):
    """退单: the unit gives the ticket back, saying why it is not theirs."""


class SuspendBody(ReasonBody, kw_only=True):
    """挂起: the reply clock stops (e.g. waiting on another authority's investigation)."""


class DecideReturnBody(Body, kw_only=True):
    """退单审核: accept (re-dispatch to `unit`; `proper` says the return was justified) or refuse (back to the unit
    that returned it)."""

    accept: bool
    proper: bool = False
    unit: UnitCode | None = None
    note: Text | None = None


class NoteBody(Body, kw_only=True):
    """备注: an internal note on the timeline."""

    text: Text


class ResumeBody(NoteBody, kw_only=True):
    """恢复: the suspended reply clock runs again."""


class ExtensionBody(Body, kw_only=True):
    """延期申请: more time for the reply, by `working_days` or `until` a date."""

    reason: Text
    working_days: Annotated[int, msgspec.Meta(ge=1, le=sla.MAX_EXTENSION_WORKING_DAYS)] | None = None
    until: date | None = None


class DecideExtensionBody(Body, kw_only=True):
    """延期审批: approve or refuse the pending extension request."""

    approve: bool
    note: Text | None = None


class ReplyBody(Body, kw_only=True):
    """答复: the unit's answer to the citizen and its outcome."""

    content: Text
    outcome: Literal["resolved", "partly_resolved", "unresolved", "explained"]


class CallbackBody(Body, kw_only=True):
    """回访: the call back to the citizen; dissatisfied reopens the ticket, three unanswered calls close it."""

    contacted: bool
    satisfaction: Literal["satisfied", "basically_satisfied", "dissatisfied", "no_answer"]
    resolved: Literal["resolved", "partly", "unresolved"] | None = None
    note: Text | None = None


class UrgeBody(Body, kw_only=True):
    """催办: press the unit holding the ticket."""

    note: Text


class CloseBody(Body, kw_only=True):
    """直接办结: answered at once by the agent (a consultation), before any unit signed."""

    answer: Text


class RejectBody(ReasonBody, kw_only=True):
    """不予受理: refused as outside the transport authorities' remit."""


class MergeBody(Body, kw_only=True):
    """合并 (重复件): closed into another open ticket, which carries on."""

    into: Annotated[str, msgspec.Meta(min_length=1, max_length=40, description="the open ticket's number")]


def refuse_nul(body: Body) -> None:
    """PostgreSQL text cannot hold NUL: a body whose text does is refused as bad input, naming each field."""
    nul = nul_fields({f: getattr(body, f) for f in body.__struct_fields__})
    if nul:
        raise InvalidInput("; ".join(f"{k}: {v}" for k, v in nul.items()), fields=nul)


def decode(body_type: type[Body], raw: bytes) -> Body:
    """A body from JSON bytes, for callers outside HTTP (scripts, the demo data, tests), decoded strictly by msgspec;
    bad input is an InvalidInput with msgspec's message (the API's bodies are decoded and refused by Litestar)."""
    try:
        body = msgspec.json.decode(raw or b"{}", type=body_type)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise InvalidInput(f"invalid {body_type.__name__}: {exc}", fields={"body": str(exc)}) from exc
    refuse_nul(body)
    return body
