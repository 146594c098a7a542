"""Rendering for the console: the Jinja environment and the context each page or fragment is drawn from.

Pages and the fragments that refresh them live come from the same templates, so a list looks the same after a live
update as after a reload.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2

from hotline.auth.tokens import Principal
from hotline.infra.runtime import Runtime
from hotline.tickets import lifecycle
from hotline.tickets import queries as ticket_service
from hotline.web.console import labels, queries

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

# What each role is offered in a ticket's action panel, in this order (the state machine still decides).
PANEL_ACTIONS = {
    "handler": ["sign", "reply", "note", "request-extension", "return"],
    "agent": ["callback", "close", "note", "merge", "reject"],
    "dispatcher": ["dispatch", "reclassify", "decide-return", "decide-extension", "urge", "note", "merge", "reject"],
    "manager": ["urge", "decide-extension", "decide-return", "dispatch", "note"],
    "admin": [
        "dispatch",
        "reclassify",
        "decide-return",
        "decide-extension",
        "urge",
        "callback",
        "note",
        "merge",
        "reject",
        "close",
    ],
}


def _asset_version() -> str:
    digest = hashlib.sha1()
    for path in sorted(STATIC.rglob("*")):
        if path.is_file():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


ASSET_VERSION = _asset_version()

env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=jinja2.select_autoescape(("html", "svg"), default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,
)
env.globals.update(L=labels, asset_version=ASSET_VERSION)


def render(name: str, **context: Any) -> str:
    return env.get_template(name).render(**context)


def base_context(rt: Runtime, principal: Principal, page: str) -> dict[str, Any]:
    tz = rt.calendar.tz
    nav = [(key, label) for key, label in labels.NAV if principal.role in labels.PAGE_ROLES[key]]
    return {
        "page": page,
        "user": principal,
        "role_label": labels.ROLE.get(principal.role, principal.role),
        "unit_name": rt.names.units.get(principal.unit or "", ""),
        "nav": nav,
        "names": rt.names,
        "tz": tz,
        "lt": lambda v, fmt="%m-%d %H:%M": labels.local(v, tz, fmt),
        "day_seconds": queries.day_seconds(rt),
    }


def _unit(rt: Runtime, code: str | None) -> str:
    return rt.names.units.get(code or "", code or "")


def _with_note(text: str, e: dict[str, Any]) -> str:
    return text + (f"；{e['note']}" if e.get("note") else "")


def _on_time(e: dict[str, Any], on_time: str, late: str) -> str:
    return {True: on_time, False: late}.get(e["on_time"], "") if "on_time" in e else ""


def _create_text(e: dict[str, Any], rt: Runtime) -> str:
    return (
        f"渠道：{rt.names.channels.get(e.get('channel') or '', e.get('channel') or '')}"
        + ("，紧急" if e.get("urgent") else "")
        + (f"，上级编号{e['external_ref']}" if e.get("external_ref") else "")
    )


def _route_text(e: dict[str, Any], rt: Runtime) -> str:
    routing = e.get("routing") or {}
    return f"派至{_unit(rt, routing.get('unit'))}" if routing.get("unit") else "无匹配规则，转人工派单"


def _dispatch_text(e: dict[str, Any], rt: Runtime) -> str:
    text = f"派至{_unit(rt, e.get('to_unit'))}"
    if e.get("from_unit"):
        text = f"由{_unit(rt, e['from_unit'])}改派至{_unit(rt, e.get('to_unit'))}"
    return _with_note(text, e)


def _decide_return_text(e: dict[str, Any], rt: Runtime) -> str:
    if e.get("accept"):
        proper = "（退单合理，不计入原单位时限）" if e.get("proper") else ""
        return _with_note(f"同意退单，改派至{_unit(rt, e.get('to_unit'))}{proper}", e)
    return _with_note(f"不同意退单，退回{_unit(rt, e.get('returned_by'))}继续办理", e)


def _request_extension_text(e: dict[str, Any], rt: Runtime) -> str:
    how = f"延长{e['working_days']}个工作日" if e.get("working_days") else f"延至{e.get('until')}"
    return f"{how}；理由：{e.get('reason', '')}"


def _decide_extension_text(e: dict[str, Any], rt: Runtime) -> str:
    if e.get("approve"):
        return _with_note(f"批准延期，新办结时限{labels.local(e.get('new_due_at'), rt.calendar.tz)}", e)
    return _with_note("不批准延期", e)


def _reply_text(e: dict[str, Any], rt: Runtime) -> str:
    on_time = _on_time(e, "（按时）", "（超时）")
    return f"{labels.OUTCOME.get(e.get('outcome', ''), '')}{on_time}：{e.get('content', '')}"


def _callback_text(e: dict[str, Any], rt: Runtime) -> str:
    if not e.get("contacted"):
        return f"未接通（第{e.get('attempt', 1)}次）"
    text = (
        f"{labels.SATISFACTION.get(e.get('satisfaction', ''), '')}，{labels.RESOLVED.get(e.get('resolved') or '', '')}"
    )
    if e.get("reopened"):
        text += "；退回原承办单位重办"
    return _with_note(text, e)


def _reclassify_text(e: dict[str, Any], rt: Runtime) -> str:
    before, after = e.get("before") or {}, e.get("after") or {}
    names = rt.names
    parts = [
        f"{label}由{names_of.get(before.get(key) or '', before.get(key) or '未填写')}"
        f"改为{names_of.get(after.get(key) or '', after.get(key) or '未填写')}"
        for key, label, names_of in (("territory", "属地", names.territories), ("category", "类别", names.categories))
        if before.get(key) != after.get(key)
    ]
    unit = (e.get("routing") or {}).get("unit")
    suggestion = f"推荐承办单位：{_unit(rt, unit)}" if unit else "仍无匹配规则，需人工派单"
    return "；".join([*parts, suggestion])


# One timeline line's details for each action, from the event's payload; an action not listed has none.
EVENT_TEXTS: dict[str, Callable[[dict[str, Any], Runtime], str]] = {
    "create": _create_text,
    "route": _route_text,
    "dispatch": _dispatch_text,
    "sign": lambda e, rt: _on_time(e, "按时签收", "超时签收"),
    "return": lambda e, rt: f"退单理由：{e.get('reason', '')}",
    "decide-return": _decide_return_text,
    "note": lambda e, rt: e.get("text", ""),
    "request-extension": _request_extension_text,
    "decide-extension": _decide_extension_text,
    "reply": _reply_text,
    "callback": _callback_text,
    "urge": lambda e, rt: (
        (f"{rt.names.channels.get(e['channel'], e['channel'])}催办：" if e.get("channel") else "") + e.get("note", "")
    ),
    "recall": lambda e, rt: f"撤回理由：{e.get('reason', '')}",
    "supplement": lambda e, rt: f"补充材料：{e.get('text', '')}",
    "close": lambda e, rt: f"答复内容：{e.get('answer', '')}",
    "reject": lambda e, rt: f"理由：{e.get('reason', '')}",
    "merge": lambda e, rt: f"并入工单{e.get('into', '')}",
    "merged_from": lambda e, rt: f"工单{e.get('from', '')}作为重复件并入本单",
    "reclassify": _reclassify_text,
}


def event_text(e: dict[str, Any], rt: Runtime) -> str:
    """One timeline line's details in Chinese, from the event's payload."""
    text = EVENT_TEXTS.get(e["action"])
    return text(e, rt) if text is not None else ""


def _clock_text(c: dict[str, Any], working: bool, ds: int, past_due: bool, tz: Any) -> str:
    if not c["running"]:
        return f"已于{labels.local(c['stopped_at'], tz)}停止计时"
    left = labels.countdown(c["remaining_seconds"], working=working, day_seconds=ds, past_due=past_due)
    return f"暂停计时（{left}）" if c["suspended_at"] else left


async def ticket_context(rt: Runtime, principal: Principal, number: str, now: datetime | None = None) -> dict[str, Any]:
    """Everything the ticket panel shows: facts, clocks with explanations, timeline, and the actions on offer."""
    now = now or datetime.now(UTC)
    tz = rt.calendar.tz
    t = await ticket_service.detail(rt, principal, number, now)
    allowed = set(lifecycle.allowed_actions(principal.role, t["status"]))
    if principal.role == "handler" and t["unit"] != principal.unit:
        allowed = set()  # a unit that held the ticket before may read its history, not act on it
    extension = None
    if t["status"] in ("in_progress", "return_requested"):
        extension = await queries.pending_extension(rt.pool, number)
    if extension is None:
        allowed.discard("decide-extension")
    else:
        allowed.discard("request-extension")
    actions = [a for a in PANEL_ACTIONS.get(principal.role, []) if a in allowed]
    routing = t.get("routing") or {}
    rule = queries.routing_rule(rt, routing.get("rule_id"))
    office = queries.in_office(rt, now)
    ds = queries.day_seconds(rt)
    clocks = []
    for name in ("dispatch", "sign", "reply", "callback"):
        c = t["clocks"].get(name)
        if c is None:
            continue
        working = c["basis"] == "working"
        counted_to = min(now, datetime.fromisoformat(c["suspended_at"])) if c["suspended_at"] else now
        past_due = counted_to >= datetime.fromisoformat(c["due_at"])
        clocks.append(
            {
                **c,
                "label": labels.CLOCK[name],
                "past_due": past_due,
                "text": _clock_text(c, working, ds, past_due, tz),
                "ticking": c["running"] and not c["suspended_at"] and (office or not working),
                "working": working,
                "explain": labels.deadline_text(c["explanation"], tz, rt.names.kinds),
            }
        )
    events = [
        {
            **e,
            "label": labels.ACTION.get(e["action"], e["action"]),
            "role_label": labels.ROLE.get(e["role"], e["role"]),
            "unit_name": rt.names.units.get(e.get("unit") or "", ""),
            "text": event_text(e, rt),
        }
        for e in t["events"]
    ]
    urges = sum(1 for e in t["events"] if e["action"] == "urge")
    unit_rows = await queries.units(rt) if {"dispatch", "decide-return"} & set(actions) else []
    return {
        "t": t,
        "actions": actions,
        "extension": extension,
        "routing_text": labels.routing_text(routing, rule, rt.names, t["category"], t["territory"]),
        "suggested_unit": routing.get("unit"),
        "clocks": clocks,
        "events": list(reversed(events)),
        "urges": urges,
        "unit_rows": unit_rows,
        "step": max(
            (c["step"] for c in clocks if c["running"] and c["step"]),
            key=lambda s: ("warning", "overdue", "supervision").index(s),
            default=None,
        ),
    }
