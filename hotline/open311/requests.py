"""Open311 service requests: POST one (a `web` ticket through the one intake, logged by the API key's integration
account), GET a list with the spec's filters, GET one by its id (our ticket number).

Only the requests Open311 clients submitted are shown (web tickets logged by an account holding an API key): calls
and transfers are written for internal handling and may name people. Nothing personal is answered: the caller's
name and phone are kept for the callback and never returned. `open` is every status but `closed`; `status_notes`
is the unit's reply (or the answer, or how it was closed); `expected_datetime` is the reply deadline.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import asyncpg

import sla
from hotline.errors import Forbidden, InvalidInput, NotFound, nul_fields
from hotline.infra.runtime import Runtime
from hotline.infra.sql import load
from hotline.open311 import keys
from hotline.open311.shapes import CreatedRequest, ServiceRequest
from hotline.tickets import announcer, citizen, intake

_IN_PERIOD_SQL = load(__file__, "requests_in_period")
_BY_NUMBER_SQL = load(__file__, "requests_by_number")
MAX_REQUESTS = 1000  # the spec's "first 1000 requests returned"
MAX_SPAN = timedelta(days=90)
MAX_DESCRIPTION = 4000  # the spec's limit on description
STATUSES = ("open", "closed")
# Intake's field names as an Open311 client sent them.
FIELD_NAMES = {
    "category": "service_code",
    "kind": "attribute[kind]",
    "territory": "attribute[territory]",
    "content": "description",
    "title": "description",
    "address": "address_string",
    "location.lat": "lat",
    "location.lng": "long",
    "caller.name": "first_name",
    "caller.phone": "phone",
    "channel": "api_key",
}


def _text(form: Mapping[str, str], name: str) -> str | None:
    value = form.get(name, "").strip()
    return value or None  # the spec: an empty parameter is the same as an absent one


def _location(form: Mapping[str, str], fields: dict[str, str]) -> intake.Location | None:
    lat, lng = _text(form, "lat"), _text(form, "long")
    if lat is None and lng is None:
        return None
    if lat is None or lng is None:
        fields["lat" if lat is None else "long"] = "lat and long are sent together"
        return None
    values: dict[str, float] = {}
    for name, text, bound in (("lat", lat, 90), ("long", lng, 180)):
        try:
            value = float(text)
        except ValueError:
            fields[name] = "a number of degrees (WGS84)"
            continue
        if not -bound <= value <= bound:  # also refuses nan and inf
            fields[name] = f"between -{bound} and {bound}"
            continue
        values[name] = value
    return intake.Location(lat=values["lat"], lng=values["long"]) if len(values) == 2 else None


def _attributes(rt: Runtime, form: Mapping[str, str], fields: dict[str, str]) -> tuple[str | None, str | None, bool]:
    """The service definition's attributes (catalogue): kind (required), territory, urgent."""
    kind = _text(form, "attribute[kind]")
    if kind is None or kind not in rt.names.kinds:
        fields["attribute[kind]"] = f"required, one of {', '.join(rt.names.kinds)}"
    territory = _text(form, "attribute[territory]")
    if territory is not None and territory not in rt.names.territories:
        fields["attribute[territory]"] = "unknown territory; see the service definition's values"
    urgent = _text(form, "attribute[urgent]") or "false"
    if urgent not in ("true", "false"):
        fields["attribute[urgent]"] = "true or false"
    return kind, territory, urgent == "true"


def _caller(form: Mapping[str, str], fields: dict[str, str]) -> intake.Caller:
    """Who to call back (kept on the ticket, never answered): the name as 姓 名, a number we can call."""
    name = " ".join(p for p in (_text(form, "last_name"), _text(form, "first_name")) if p) or None
    if name is not None and len(name) > 50:
        fields["first_name"] = "first and last name together at most 50 characters"
    phone = citizen.normalise_phone(_text(form, "phone"))
    if phone is not None and not citizen.valid_phone(phone):
        fields["phone"] = "a Chinese mobile number or a landline with its area code"
    return intake.Caller(name=name, phone=phone)


def ticket_in(rt: Runtime, form: Mapping[str, str]) -> intake.TicketIn:
    """The web ticket a POST describes, every problem named in one error (404 for an unknown service_code)."""
    code = _text(form, "service_code")
    if code is None:
        raise InvalidInput("service_code was not provided", fields={"service_code": "required"})
    if code not in rt.names.categories:
        raise NotFound(
            f"service_code {code!r} was not found",
            fields={"service_code": f"{code!r} was not found; see services.json"},
        )
    fields: dict[str, str] = {}
    location = _location(form, fields)
    address = _text(form, "address_string")
    if location is None and address is None and "lat" not in fields and "long" not in fields:
        fields["lat"] = "a location is needed: lat and long, or address_string (address_id is not used here)"
    if address is not None and len(address) > 300:
        fields["address_string"] = "at most 300 characters"
    description = _text(form, "description")
    if description is None:
        fields["description"] = "required: what happened, where and when"
    elif len(description) > MAX_DESCRIPTION:
        fields["description"] = f"at most {MAX_DESCRIPTION} characters"
    kind, territory, urgent = _attributes(rt, form, fields)
    caller = _caller(form, fields)
    fields.update(nul_fields({"description": description, "address_string": address, "first_name": caller.name}))
    if fields:
        raise InvalidInput("; ".join(f"{k}: {v}" for k, v in fields.items()), fields=fields)
    assert description is not None and kind is not None  # a missing one is in `fields`
    first_line = description.splitlines()[0].strip() if description.strip() else description
    return intake.TicketIn(
        channel="web",
        kind=kind,
        title=first_line[:50] or rt.names.categories[code],
        content=description,
        category=code,
        territory=territory,
        caller=caller,
        urgent=urgent,
        address=address,
        location=location,
    )


async def submit(rt: Runtime, form: Mapping[str, str]) -> CreatedRequest:
    """POST requests: the key's account logs the ticket, as the citizen web form does (near steps armed, the live
    feed told); the answer is our ticket number and the promised reply deadline."""
    principal = await keys.principal_for_key(rt, form.get("api_key", ""))
    if principal is None:
        raise Forbidden(
            "missing or invalid api_key", fields={"api_key": "missing or invalid; send an integration account's key"}
        )
    data = ticket_in(rt, form)
    announcer.ensure_room(rt)
    try:
        result = await intake.create_ticket(rt, principal, data, idempotency_key=None)
    except (InvalidInput, Forbidden) as exc:  # intake's names, told in the client's (an account on another
        # channel than web is refused as its key: 403)
        fields = {FIELD_NAMES.get(k, k): v for k, v in exc.fields.items()}
        raise type(exc)("; ".join(f"{k}: {v}" for k, v in fields.items()) or exc.detail, fields=fields) from exc
    assert result.ticket is not None  # no idempotency key: always a new ticket, with its row
    number = result.ticket["number"]
    announcer.announce(rt, result, number)
    due = result.ticket.get("reply_due_at")
    notice = f"已受理，将于 {citizen.in_words(due, rt.calendar.tz)} 前答复" if due else "已受理，待派单"
    return CreatedRequest(service_request_id=number, service_notice=notice, account_id=None)


def _instant(params: Mapping[str, str], name: str, fields: dict[str, str]) -> datetime | None:
    text = _text(params, name)
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        fields[name] = "a w3 date-time with its offset, e.g. 2026-12-01T00:00:00+08:00 or 2026-12-01T00:00:00Z"
        return None
    problem = sla.out_of_range(value) if value.tzinfo is not None else "must carry a UTC offset (Z or +08:00)"
    if problem:
        fields[name] = problem
        return None
    return value


def _codes(params: Mapping[str, str], name: str) -> list[str] | None:
    text = _text(params, name)
    return [c.strip() for c in text.split(",") if c.strip()] if text else None


def _whole(params: Mapping[str, str], name: str, default: int, top: int, fields: dict[str, str]) -> int:
    text = _text(params, name)
    if text is None:
        return default
    if not (text.isascii() and text.isdigit() and len(text) <= 9) or not 1 <= int(text) <= top:
        fields[name] = f"a whole number from 1 to {top}"
        return default
    return int(text)


def _period(params: Mapping[str, str], fields: dict[str, str], now: datetime) -> tuple[datetime, datetime]:
    start, end = _instant(params, "start_date", fields), _instant(params, "end_date", fields)
    if start is None and end is None:
        return now - MAX_SPAN, now
    if start is None:
        assert end is not None
        return end - MAX_SPAN, end
    end = end or start + MAX_SPAN
    if end < start:
        fields["end_date"] = "must not be before start_date"
    elif end - start > MAX_SPAN:
        fields["end_date"] = "the range may not span more than 90 days"
    return start, end


async def query(rt: Runtime, params: Mapping[str, str], now: datetime | None = None) -> list[ServiceRequest]:
    """GET requests: by `service_request_id` (a comma list; it overrides the other arguments), or the period
    `start_date`–`end_date` (at most 90 days; the last 90 by default) with `service_code` and `status` (comma
    lists), newest first, `page_size` (at most and by default 1000) per `page` (from 1)."""
    ids = _codes(params, "service_request_id")
    if ids is not None:
        if len(ids) > MAX_REQUESTS or any(len(i) > 100 for i in ids):
            raise InvalidInput(
                f"at most {MAX_REQUESTS} service_request_id values",
                fields={"service_request_id": f"at most {MAX_REQUESTS} ids"},
            )
        return [_request(rt, r) for r in await rt.pool.fetch(_BY_NUMBER_SQL, ids)]
    fields: dict[str, str] = {}
    codes = _codes(params, "service_code")
    unknown = [c for c in codes or () if c not in rt.names.categories]
    if unknown:
        fields["service_code"] = f"unknown service_code {', '.join(unknown)}; see services.json"
    statuses = set(_codes(params, "status") or STATUSES)
    if not statuses <= set(STATUSES):
        fields["status"] = "open, closed, or both comma-separated"
    start, end = _period(params, fields, now or datetime.now(UTC))
    size = _whole(params, "page_size", MAX_REQUESTS, MAX_REQUESTS, fields)
    page = _whole(params, "page", 1, 10_000, fields)
    if fields:
        raise InvalidInput("; ".join(f"{k}: {v}" for k, v in fields.items()), fields=fields)
    closed = None if len(statuses) == 2 else statuses == {"closed"}
    rows = await rt.pool.fetch(_IN_PERIOD_SQL, start, end, codes, closed, size, (page - 1) * size)
    return [_request(rt, r) for r in rows]


async def one(rt: Runtime, service_request_id: str) -> ServiceRequest:
    rows = await rt.pool.fetch(_BY_NUMBER_SQL, [service_request_id]) if len(service_request_id) <= 100 else []
    if not rows:
        raise NotFound(
            f"service_request_id {service_request_id!r} was not found",
            fields={"service_request_id": f"{service_request_id!r} was not found"},
        )
    return _request(rt, rows[0])


def _w3(rt: Runtime, value: datetime | None) -> str | None:
    return value.astimezone(rt.calendar.tz).isoformat(timespec="seconds") if value else None


def _request(rt: Runtime, t: asyncpg.Record) -> ServiceRequest:
    closed = t["status"] == "closed"
    notes = t["reply_content"] or t["answer"] or citizen.CLOSURE_TEXT.get(t["closure"] or "")
    due = t["reply_due_at"]
    notice = (
        None if closed or due is None or t["reply_content"] else f"将于 {citizen.in_words(due, rt.calendar.tz)} 前答复"
    )
    return ServiceRequest(
        service_request_id=t["number"],
        status="closed" if closed else "open",
        status_notes=notes,
        service_name=rt.names.categories.get(t["category"]) if t["category"] else None,
        service_code=t["category"],
        description=t["content"],
        agency_responsible=rt.names.units.get(t["unit"]) if t["unit"] else None,
        service_notice=notice,
        requested_datetime=_w3(rt, t["received_at"]) or "",
        updated_datetime=_w3(rt, t["closed_at"] if closed and t["closed_at"] else t["updated_at"]) or "",
        expected_datetime=_w3(rt, due),
        address=t["address"],
        address_id=None,
        zipcode=None,
        lat=t["lat"],
        long=t["lng"],
        media_url=None,
    )
