"""What the citizen side (网上受理、进程网上查) adds to the public answers: checks on a web submission (a Chinese
phone number, the honeypot field), the promised reply deadline in words, and the progress timeline in Chinese.

Nothing personal leaves here: the timeline names steps, dates and the unit, never a caller, a handler or a note.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers

from hotline.errors import InvalidInput
from hotline.infra.runtime import Runtime

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
}
# The field a person never sees (hidden by the stylesheet, out of the tab order) and a form-filling robot fills in.
HONEYPOT = "website"


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


async def submitted(rt: Runtime, number: str) -> dict[str, Any]:
    """What the submit answer adds: the promised reply deadline, as an instant and in words."""
    due = await rt.pool.fetchval("SELECT reply_due_at FROM tickets WHERE number = $1", number)
    if due is None:
        return {"reply_due_at": None, "promise": None}
    return {"reply_due_at": due.isoformat(), "promise": f"将于 {in_words(due, rt.calendar.tz)} 前答复"}


PROGRESS_SQL = """
SELECT t.status, t.closure, t.received_at, t.replied_at, t.closed_at, t.reply_due_at,
       (SELECT max(a.started_at) FROM assignments a WHERE a.ticket_id = t.id) AS dispatched_at,
       (SELECT max(a.signed_at) FROM assignments a WHERE a.ticket_id = t.id) AS signed_at,
       (SELECT max(c.at) FROM callbacks c WHERE c.ticket_id = t.id AND c.contacted) AS callback_at
FROM tickets t WHERE t.number = $1
"""


async def progress(rt: Runtime, number: str, now: datetime | None = None) -> dict[str, Any]:
    """What the progress answer adds: the reply deadline, whether it is passed, and the timeline of steps."""
    row = await rt.pool.fetchrow(PROGRESS_SQL, number)
    if row is None:
        return {}
    return progress_of(dict(row), rt.calendar.tz, now or datetime.now(UTC))


def progress_of(t: dict[str, Any], tz: ZoneInfo, now: datetime) -> dict[str, Any]:
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
            {
                "step": key,
                "label": label,
                "state": state,
                "at": when.isoformat() if when else None,
                "at_text": when.astimezone(tz).strftime("%Y-%m-%d %H:%M") if when else None,
            }
        )
    return {
        "reply_due_at": due.isoformat() if due else None,
        "reply_due_text": in_words(due, tz) if due else None,
        "overdue": overdue,
        "closure_text": CLOSURE_TEXT.get(closure or ""),
        "timeline": timeline,
    }
