"""What the citizen side (网上受理、进程网上查) adds to the public answers: checks on a web submission (a Chinese
phone number, the honeypot field), the promised reply deadline in words, and the progress timeline in Chinese.

Nothing personal leaves here: the timeline names steps, dates and the unit, never a caller, a handler or a note.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import phonenumbers

from hotline.auth.tokens import Principal
from hotline.errors import InvalidInput
from hotline.infra.runtime import Runtime
from hotline.infra.sql import load

# 受理 → 派单 → 签收 → 办理 → 答复 → 回访 → 办结, as the 12345 practice shows them to citizens.
STEPS = [
    ("received", "受理"),
    ("dispatched", "派单"),
    ("signed", "签收"),
    ("handling", "办理"),
    ("replied", "答复"),
    ("callback", "回访"),
    ("closed", "办结"),
]
CLOSURE_TEXT = {
    "answered": "已当场答复办结",
    "callback_done": "回访后办结",
    "merged": "已作为重复件并入其他工单办理",
    "rejected": "不予受理",
    "withdrawn": "已由转办平台撤回",
}
STATUS_ZH = {
    "pending_dispatch": "待派单",
    "dispatched": "已派单",
    "in_progress": "办理中",
    "return_requested": "办理中",
    "replied": "已答复",
    "closed": "已办结",
}
# The field a person never sees (hidden by the stylesheet, out of the tab order) and a form-filling robot fills in.
HONEYPOT = "website"


class PublicSubmission(msgspec.Struct):
    """The answer to a web submission: the number to follow it by, and the promised reply deadline (null while the
    ticket waits for a category)."""

    number: str
    message: str
    reply_due_at: str | None
    promise: str | None


class ProgressStep(msgspec.Struct):
    """A step of 受理 → 派单 → 签收 → 办理 → 答复 → 回访 → 办结: done, current, todo or skipped, and when."""

    step: str
    label: str
    state: str
    at: str | None
    at_text: str | None


class ProgressTimeline(msgspec.Struct):
    reply_due_at: str | None
    reply_due_text: str | None
    overdue: bool
    closure_text: str | None
    timeline: list[ProgressStep]


class PublicProgress(msgspec.Struct):
    """A case's progress as the citizen sees it: status, unit name, dates, the reply and the timeline; no caller,
    handler or note. `checked_at_text` is in the calendar's zone."""

    number: str
    status: str
    status_text: str
    closure: str | None
    closure_text: str | None
    kind: str
    category: str | None
    unit_name: str | None
    received_at: str | None
    replied_at: str | None
    closed_at: str | None
    reply: str | None
    reply_outcome: str | None
    reply_due_at: str | None
    reply_due_text: str | None
    overdue: bool
    timeline: list[ProgressStep]
    checked_at: str
    checked_at_text: str


def check_submission(phone: str | None, honeypot: str | None) -> None:
    """A web submission's own checks, before anything is written: a number we can call back, and no robot."""
    if honeypot:
        # Said plainly: a person never sees the field, so the message only ever reaches a robot.
        raise InvalidInput("this field must stay empty", fields={HONEYPOT: "must be empty"})
    if not phone or not valid_phone(phone):
        raise InvalidInput(
            "a Chinese mobile number (11 digits) or a landline with its area code is needed",
            fields={"caller.phone": "请填写11位手机号码，或带区号的固定电话"},
        )


def normalise_phone(phone: str | None) -> str | None:
    """A phone number as stored and searched: without the spaces and hyphens people type (0513-8512 3456)."""
    if phone is None:
        return None
    return re.sub(r"[\s-]", "", phone) or None


def staff_phone_problem(phone: str) -> str | None:
    """Why an agent's or a platform's caller number cannot be called back, or None when it can: a Chinese mobile
    number, a landline with its area code, a service number (12345, 96196, 110) or a valid number of another country
    written with its + prefix. The reason names what is wrong (too short, too long, not a number in the plan)."""
    not_in_plan = "not a Chinese mobile, landline with area code or service number"
    if len(re.sub(r"\D", "", phone)) < 3:  # shorter than the shortest service number (110)
        return "too short to be a phone number"
    try:
        parsed = phonenumbers.parse(phone, "CN")
    except phonenumbers.NumberParseException as e:
        return "too long to be a phone number" if e.error_type == e.TOO_LONG else not_in_plan
    service = parsed.country_code == 86 and phonenumbers.is_valid_short_number(parsed)
    if service or phonenumbers.is_valid_number(parsed):
        return None
    if phonenumbers.is_possible_number_with_reason(parsed) == phonenumbers.ValidationResult.TOO_LONG:
        return "too long to be a phone number"
    return not_in_plan


def valid_phone(phone: str) -> bool:
    """A Chinese mobile number or a landline with its area code (0513-85123456), as phonenumbers knows the plan;
    short service numbers (12345, 110) and numbers of other countries are not ones we can call back."""
    try:
        parsed = phonenumbers.parse(phone, "CN")
    except phonenumbers.NumberParseException:
        return False
    if parsed.country_code != 86 or not phonenumbers.is_valid_number(parsed):
        return False
    kind = phonenumbers.number_type(parsed)
    return kind in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )


def in_words(at: datetime, tz: ZoneInfo) -> str:
    """2026年12月23日 17:30, the local time a citizen reads."""
    local = at.astimezone(tz)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


async def submitted(rt: Runtime, number: str) -> PublicSubmission:
    """The submit answer: the number, and the promised reply deadline, as an instant and in words."""
    due = await rt.pool.fetchval("SELECT reply_due_at FROM tickets WHERE number = $1", number)
    return PublicSubmission(
        number=number,
        message="已受理，请凭受理编号和手机号后四位查询办理进度",
        reply_due_at=due.isoformat() if due else None,
        promise=f"将于 {in_words(due, rt.calendar.tz)} 前答复" if due else None,
    )


TICKET_SQL = """
SELECT number, status, closure, unit, kind, category, received_at, replied_at, closed_at, reply_content,
       reply_outcome, answer
FROM tickets WHERE number = $1 AND caller_phone_tail = $2
"""


PROGRESS_SQL = """
SELECT t.status, t.closure, t.received_at, t.replied_at, t.closed_at, t.reply_due_at,
       (SELECT max(a.started_at) FROM assignments a WHERE a.ticket_id = t.id) AS dispatched_at,
       (SELECT max(a.signed_at) FROM assignments a WHERE a.ticket_id = t.id) AS signed_at,
       (SELECT max(c.at) FROM callbacks c WHERE c.ticket_id = t.id AND c.contacted) AS callback_at
FROM tickets t WHERE t.number = $1
"""


async def progress(rt: Runtime, number: str, phone_tail: str) -> PublicProgress | None:
    """The progress of the ticket with this number and phone tail, or None (either unknown: the caller is told the
    same for both)."""
    row = await rt.pool.fetchrow(TICKET_SQL, number, phone_tail)
    steps = await rt.pool.fetchrow(PROGRESS_SQL, number) if row is not None else None
    if row is None or steps is None:
        return None
    checked = datetime.now(UTC)
    timeline = timeline_of(dict(steps), rt.calendar.tz, checked)
    iso = lambda v: v.isoformat() if v else None  # noqa: E731
    return PublicProgress(
        number=row["number"],
        status=row["status"],
        status_text=STATUS_ZH[row["status"]],
        closure=row["closure"],
        closure_text=timeline.closure_text,
        kind=row["kind"],
        category=row["category"],
        unit_name=rt.names.units.get(row["unit"]) if row["unit"] else None,
        received_at=iso(row["received_at"]),
        replied_at=iso(row["replied_at"]),
        closed_at=iso(row["closed_at"]),
        reply=row["reply_content"] if row["reply_content"] is not None else row["answer"],
        reply_outcome=row["reply_outcome"],
        reply_due_at=timeline.reply_due_at,
        reply_due_text=timeline.reply_due_text,
        overdue=timeline.overdue,
        timeline=timeline.timeline,
        checked_at=checked.isoformat(),
        # In the calendar's zone and the timeline's format: the phone's own clock and locale may be anything.
        checked_at_text=checked.astimezone(rt.calendar.tz).strftime("%Y-%m-%d %H:%M:%S"),
    )


def progress_of(t: dict[str, Any], tz: ZoneInfo, now: datetime) -> dict[str, Any]:
    """The timeline's part of the progress answer as plain data (the reply deadline, whether it is passed, the
    steps)."""
    out: dict[str, Any] = msgspec.to_builtins(timeline_of(t, tz, now))
    return out


def timeline_of(t: dict[str, Any], tz: ZoneInfo, now: datetime) -> ProgressTimeline:
    status, closure = t["status"], t["closure"]
    due = t["reply_due_at"]
    # Closed at intake (answered on the spot, rejected, merged): nothing between 受理 and 办结 happened.
    closed_early = status == "closed" and not t["replied_at"]
    # Late while still unanswered, or answered after the deadline: either way the promise was not kept.
    overdue = bool(
        due
        and not closed_early
        and ((t["replied_at"] is None and now > due) or (t["replied_at"] is not None and t["replied_at"] > due))
    )
    at = {
        "received": t["received_at"],
        "dispatched": t["dispatched_at"],
        "signed": t["signed_at"],
        "handling": t["signed_at"] if t["replied_at"] or status in ("in_progress", "return_requested") else None,
        "replied": t["replied_at"],
        "callback": t["callback_at"],
        "closed": t["closed_at"],
    }
    # The step the ticket waits at now: the ones before it are done, the ones after it still to come.
    current = {
        "pending_dispatch": "dispatched",
        "dispatched": "signed",
        "in_progress": "handling",
        "return_requested": "handling",
        "replied": "callback",
        "closed": None,
    }[status]
    keys = [key for key, _ in STEPS]
    index = keys.index(current) if current else len(keys)
    timeline = []
    for i, (key, label) in enumerate(STEPS):
        if status == "closed":
            state = "done" if at[key] and not (closed_early and key not in ("received", "closed")) else "skipped"
        else:
            state = "done" if i < index else "current" if i == index else "todo"
        when = at[key] if state in ("done", "current") else None
        timeline.append(
            ProgressStep(
                step=key,
                label=label,
                state=state,
                at=when.isoformat() if when else None,
                at_text=when.astimezone(tz).strftime("%Y-%m-%d %H:%M") if when else None,
            )
        )
    return ProgressTimeline(
        reply_due_at=due.isoformat() if due else None,
        reply_due_text=in_words(due, tz) if due else None,
        overdue=overdue,
        closure_text=CLOSURE_TEXT.get(closure or ""),
        timeline=timeline,
    )


WEB_PRINCIPAL_SQL = load(__file__, "web_principal")
WEB_USERNAME = "public-web"


async def web_principal(rt: Runtime) -> Principal:
    """Who logs the web form's tickets: the web channel's own account (made on first use, cannot sign in)."""
    user_id = await rt.pool.fetchval("SELECT id FROM users WHERE username = $1", WEB_USERNAME)
    if user_id is None:
        user_id = await rt.pool.fetchval(WEB_PRINCIPAL_SQL)
    return Principal(user_id, WEB_USERNAME, "integration", "网上受理", channel="web")
