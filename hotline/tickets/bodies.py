"""The bodies of the lifecycle's actions, and their decoding into clear 400s."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

import msgspec

import sla
from hotline.errors import InvalidInput, nul_fields

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=5000)]


class Body(msgspec.Struct, kw_only=True):
    expected_version: int | None = None


class DispatchBody(Body, kw_only=True):
    unit: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    note: Text | None = None


class EmptyBody(Body, kw_only=True):
    pass


class ReasonBody(Body, kw_only=True):
    reason: Text


class DecideReturnBody(Body, kw_only=True):
    accept: bool
    proper: bool = False
    unit: Annotated[str, msgspec.Meta(min_length=1, max_length=40)] | None = None
    note: Text | None = None


class NoteBody(Body, kw_only=True):
    text: Text


class ExtensionBody(Body, kw_only=True):
    reason: Text
    working_days: Annotated[int, msgspec.Meta(ge=1, le=sla.MAX_EXTENSION_WORKING_DAYS)] | None = None
    until: date | None = None


class DecideExtensionBody(Body, kw_only=True):
    approve: bool
    note: Text | None = None


class ReplyBody(Body, kw_only=True):
    content: Text
    outcome: Literal["resolved", "partly_resolved", "unresolved", "explained"]


class CallbackBody(Body, kw_only=True):
    contacted: bool
    satisfaction: Literal["satisfied", "basically_satisfied", "dissatisfied", "no_answer"]
    resolved: Literal["resolved", "partly", "unresolved"] | None = None
    note: Text | None = None


class UrgeBody(Body, kw_only=True):
    note: Text


class CloseBody(Body, kw_only=True):
    answer: Text


class MergeBody(Body, kw_only=True):
    into: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]


def decode_body(body_type: type[Body], raw: bytes) -> Any:
    try:
        body = msgspec.json.decode(raw or b"{}", type=body_type)
    except msgspec.ValidationError as exc:
        message = str(exc)
        field_name = message.rsplit("`$.", 1)[-1].rstrip("`") if "`$." in message else "body"
        missing = re.search(r"missing required field `([^`]+)`", message)
        if missing:
            field_name = missing.group(1)
        raise InvalidInput(message, fields={field_name: message}) from exc
    except msgspec.DecodeError as exc:
        raise InvalidInput(f"the body is not valid JSON: {exc}", fields={"body": "invalid JSON"}) from exc
    nul = nul_fields({f: getattr(body, f) for f in body_type.__struct_fields__})
    if nul:
        raise InvalidInput("; ".join(f"{k}: {v}" for k, v in nul.items()), fields=nul)
    return body
