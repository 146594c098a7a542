"""Request bodies decoded as the document describes them: strictly, and refused naming each offending field.

Litestar converts a body to its Struct leniently (msgspec `strict=False`): "3" would pass as the integer 3 and
"true" as a boolean, where the OpenAPI document says a JSON number or boolean. So every documented route with a
JSON body runs `check_body()` before Litestar reads the body (after the route's guard: 401/403 still come first): it
decodes the raw body strictly against the route's body type; a body that passes also passes Litestar's conversion.

A body refused is a 422 whose `fields` name the offending fields by path (`caller.phone`, `policy[2].limit`), found
from the structure, not from msgspec's wording: the decoded JSON is walked beside the body type's fields
(msgspec.structs.fields): a required field that is absent, a key a Struct forbids, and the innermost value that
does not convert are each named; the reason is msgspec's own message for that value. No body where one is needed
is `body` ("a JSON body is required"); text that is not JSON is left to the problem handlers, as before.
"""

from __future__ import annotations

import types
from typing import Annotated, Any, Union, get_args, get_origin

import msgspec
from litestar import Request
from litestar.typing import FieldDefinition

from hotline.errors import InvalidInput

BODY = "body"
NO_BODY = "a JSON body is required"


def _unwrap(tp: Any) -> Any:
    """The type under Annotated, and the one member of an optional (`X | None`, `X | UNSET`) other than null."""
    while get_origin(tp) is Annotated:
        tp = get_args(tp)[0]
    if get_origin(tp) in (Union, types.UnionType):
        members = [a for a in get_args(tp) if a not in (type(None), msgspec.UnsetType)]
        if len(members) == 1:
            return _unwrap(members[0])
    return tp


def _struct(tp: Any) -> type[msgspec.Struct] | None:
    tp = _unwrap(tp)
    return tp if isinstance(tp, type) and issubclass(tp, msgspec.Struct) else None


def _item(tp: Any) -> Any:
    tp = _unwrap(tp)
    return get_args(tp)[0] if get_origin(tp) is list and get_args(tp) else None


def _at(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def offending_fields(value: Any, tp: Any, path: str = "") -> dict[str, str]:
    """The fields of `value` (decoded JSON) that do not fit `tp`, by path, each with what is wrong; {} if it fits."""
    try:
        msgspec.convert(value, tp, strict=True)
        return {}
    except msgspec.ValidationError as exc:
        whole = str(exc)
    found: dict[str, str] = {}
    struct = _struct(tp)
    item = _item(tp)
    if struct is not None and isinstance(value, dict):
        declared = msgspec.structs.fields(struct)
        for field in declared:
            where = _at(path, field.encode_name)
            if field.encode_name in value:
                found |= offending_fields(value[field.encode_name], field.type, where)
            elif field.required:
                found[where] = "a required field is missing"
        if struct.__struct_config__.forbid_unknown_fields:
            names = {f.encode_name for f in declared}
            found |= {_at(path, str(k)): "not a field of this object" for k in value if k not in names}
    elif item is not None and isinstance(value, list):
        for i, element in enumerate(value):
            found |= offending_fields(element, item, f"{path}[{i}]")
    # Nothing inside is wrong on its own (a check of the whole object, or a value of the wrong kind): this value.
    return found or {path or BODY: whole}


def _body_field(request: Request[Any, Any, Any]) -> FieldDefinition | None:
    """The route's JSON body parameter (`data`), or None when it takes no JSON body."""
    field = request.route_handler.parsed_fn_signature.parameters.get("data")
    if field is None:
        return None
    media_type = getattr(field.kwarg_definition, "media_type", None)  # None, or a RequestEncodingType (str enum)
    if media_type is not None and "json" not in str(getattr(media_type, "value", media_type)):
        return None
    return field


async def check_body(request: Request[Any, Any, Any]) -> None:
    """A route's `before_request`: refuse a JSON body that does not strictly fit the route's body type (422)."""
    field = _body_field(request)
    if field is None:
        return
    raw = await request.body()  # kept on the request: Litestar reads the same bytes next
    if not raw.strip():
        if field.is_required:
            raise InvalidInput(f"{BODY}: {NO_BODY}", fields={BODY: NO_BODY})
        return
    tp = field.annotation
    try:
        msgspec.json.decode(raw, type=tp, strict=True)
        return
    except msgspec.ValidationError:
        pass
    except msgspec.DecodeError:
        return  # not JSON: answered by the problem handlers as before
    try:
        value = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return  # the wrong shape before the text stopped being JSON: not JSON all the same
    fields = offending_fields(value, tp)
    raise InvalidInput("; ".join(f"{k}: {v}" for k, v in fields.items()), fields=fields)
