"""compute_deadline and the moves of a deadline (extension, suspension), worked by hand.

2026 facts used below (official schedule):
  Spring Festival: holidays Feb 15 (Sun) - Feb 23 (Mon); make-up workdays Feb 14 (Sat) and Feb 28 (Sat).
  Mid-Autumn: holidays Sep 25 - 27; National Day: holidays Oct 1 - 7; make-up Sep 20 (Sun) and Oct 10 (Sat).
Office hours 08:30-12:00 and 13:30-17:30: 7.5 working hours a day. Default warning at 75%, supervision 2 working
days after the due day.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from sla import (
    Deadline,
    PolicySet,
    WorkCalendar,
    add_working_seconds,
    build_calendar,
    compute_deadline,
    extend_deadline,
    resume_deadline,
    suspend_deadline,
    working_seconds_between,
)

CST = timezone(timedelta(hours=8))
HOUR = 3600.0


def cst(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    """A wall-clock time in China Standard Time (+08:00)."""
    return datetime(year, month, day, hour, minute, second, tzinfo=CST)


def reply(
    policies: PolicySet, calendar: WorkCalendar, start: datetime, kind: str, urgent: bool = False, **kwargs: Any
) -> Deadline:
    return compute_deadline(
        policies, calendar, clock="reply", start=start, channel="96196", kind=kind, urgent=urgent, **kwargs
    )


# ---- working days ------------------------------------------------------------------------------------------


def test_consultation_across_the_spring_festival(policies: PolicySet, calendar: WorkCalendar) -> None:
    d = reply(policies, calendar, cst(2026, 2, 13, 10, 0), "consultation")
    # 2 working days; Feb 13 (receipt) does not count; day 1 = Sat Feb 14 (make-up); Feb 15-23 holidays;
    # day 2 = Tue Feb 24, due at its close.
    assert d.due_at == cst(2026, 2, 24, 17, 30)
    assert d.due_at.tzinfo is UTC and d.start == cst(2026, 2, 13, 10, 0)
    # Allowed working time from receipt: Fri 10:00-17:30 (6h) + Sat 14 (7.5h) + Tue 24 (7.5h) = 21h.
    assert d.basis == "working" and d.allowed_seconds == 21 * HOUR
    # Warning at 75% = 15.75h: 6h Fri + 7.5h Sat = 13.5h, then 2.25h into Feb 24: 08:30 + 2h15 = 10:45.
    assert d.warning_at == cst(2026, 2, 24, 10, 45)
    # Supervision: 2 working days after Feb 24 -> Thu Feb 26 at close.
    assert d.supervision_at == cst(2026, 2, 26, 17, 30)
    assert (d.policy_id, d.policy_version, d.limit, d.unit) == ("reply-consultation", 1, 2, "working_days")
    assert (d.provisional, d.capped, d.calendar_version) == (False, False, calendar.version)

    why = d.explain()
    # Weekdays that were holidays (the break's weekend days 15, 21 and 22 would have rested anyway).
    assert why["holidays_skipped"] == [
        "2026-02-16",
        "2026-02-17",
        "2026-02-18",
        "2026-02-19",
        "2026-02-20",
        "2026-02-23",
    ]
    assert why["makeup_workdays_counted"] == ["2026-02-14"]
    assert why["policy"]["id"] == "reply-consultation" and why["policy"]["kind"] == "consultation"
    assert why["calendar"] == {
        "name": "china",
        "version": calendar.version,
        "tz": "Asia/Shanghai",
        "office_hours": [["08:30", "12:00"], ["13:30", "17:30"]],
    }
    assert why["due_local"] == "2026-02-24T17:30:00+08:00"
    assert "does not count" in why["rule"]
    json.dumps(why)


def test_callback_on_the_eve_of_national_day(policies: PolicySet, calendar: WorkCalendar) -> None:
    d = compute_deadline(
        policies,
        calendar,
        clock="callback",
        start=cst(2026, 9, 30, 10, 0),
        channel="web",
        kind="complaint",
        urgent=False,
    )
    # 1 working day: Sep 30 is the day of the reply and does not count; Oct 1-7 holidays; day 1 = Oct 8.
    assert d.due_at == cst(2026, 10, 8, 17, 30)
    # Supervision: day 1 after Oct 8 = Fri Oct 9; day 2 = Sat Oct 10 (make-up workday).
    assert d.supervision_at == cst(2026, 10, 10, 17, 30)
    assert d.explain()["holidays_skipped"] == ["2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06", "2026-10-07"]


def test_complaint_received_on_a_holiday_night(policies: PolicySet, calendar: WorkCalendar) -> None:
    d = reply(policies, calendar, cst(2026, 2, 17, 23, 0), "complaint")
    # 15 working days; Feb 17 (receipt) does not count; Feb 18-23 holidays. Day 1 = Feb 24, 2 = 25, 3 = 26,
    # 4 = 27, 5 = Sat Feb 28 (make-up), 6-10 = Mar 2-6, 11-15 = Mar 9-13 -> Fri Mar 13 at 17:30.
    assert d.due_at == cst(2026, 3, 13, 17, 30)
    # Nothing of the holiday night counts: 15 full days of 7.5h.
    assert d.allowed_seconds == 15 * 7.5 * HOUR
    # 75% = 84.375h = 11 full days (to Mar 9) + 1.875h into Mar 10: 08:30 + 1h52m30s.
    assert d.warning_at == cst(2026, 3, 10, 10, 22, 30)
    assert d.explain()["makeup_workdays_counted"] == ["2026-02-28"]


def test_fractional_working_days() -> None:
    ps = PolicySet.from_rows(
        [
            {
                "id": "sign",
                "clock": "sign",
                "channel": "*",
                "kind": "*",
                "urgent": "*",
                "limit": 1.5,
                "unit": "working_days",
            },
            {
                "id": "reply",
                "clock": "reply",
                "channel": "*",
                "kind": "*",
                "urgent": "*",
                "limit": 1,
                "unit": "working_days",
            },
            {
                "id": "callback",
                "clock": "callback",
                "channel": "*",
                "kind": "*",
                "urgent": "*",
                "limit": 1,
                "unit": "working_days",
            },
        ]
    )
    d = compute_deadline(
        ps, build_calendar(), clock="sign", start=cst(2026, 3, 2, 10, 0), channel="web", kind="help", urgent=False
    )
    # Day 1 = Tue Mar 3 (whole); half of day 2 (3.75h) from Wed 08:30: 3.5h to 12:00, 0.25h after 13:30.
    assert d.due_at == cst(2026, 3, 4, 13, 45)


# ---- working hours ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hours_policy() -> PolicySet:
    rows = [
        {
            "id": f"{clock}-4h",
            "clock": clock,
            "channel": "*",
            "kind": "*",
            "urgent": "*",
            "limit": 4,
            "unit": "working_hours",
        }
        for clock in ("sign", "reply", "callback")
    ]
    return PolicySet.from_rows(rows, version=3)


def test_working_hours_from_lunch(hours_policy: PolicySet, calendar: WorkCalendar) -> None:
    d = compute_deadline(
        hours_policy, calendar, clock="sign", start=cst(2026, 2, 13, 12, 10), channel="web", kind="help", urgent=False
    )
    # Lunch does not count: the clock starts at 13:30; 4h later is 17:30 the same day.
    assert d.due_at == cst(2026, 2, 13, 17, 30)
    assert d.allowed_seconds == 4 * HOUR
    assert d.warning_at == cst(2026, 2, 13, 16, 30)  # 3h after 13:30
    assert d.policy_version == 3


def test_working_hours_one_second_before_closing(hours_policy: PolicySet, calendar: WorkCalendar) -> None:
    d = compute_deadline(
        hours_policy,
        calendar,
        clock="sign",
        start=cst(2026, 2, 13, 17, 29, 59),
        channel="web",
        kind="help",
        urgent=False,
    )
    # 1 s on Friday; the remaining 3h59m59s from Sat Feb 14 (make-up) 08:30: 3.5h to 12:00, then 29m59s.
    assert d.due_at == cst(2026, 2, 14, 13, 59, 59)


# ---- natural time (urgent) ----------------------------------------------------------------------------------


def test_urgent_reply_counts_natural_hours_through_holidays(policies: PolicySet, calendar: WorkCalendar) -> None:
    d = reply(policies, calendar, cst(2026, 2, 16, 22, 0), "complaint", urgent=True)
    assert d.policy_id == "reply-urgent" and d.basis == "natural"
    assert d.due_at == cst(2026, 2, 17, 22, 0)  # 24 natural hours, holidays included
    assert d.allowed_seconds == 24 * HOUR
    assert d.warning_at == cst(2026, 2, 17, 16, 0)  # 18 natural hours
    # Supervision is still counted in working days: Feb 24 (1), Feb 25 (2).
    assert d.supervision_at == cst(2026, 2, 25, 17, 30)
    assert d.explain()["holidays_skipped"] == []


def test_urgent_sign_in_thirty_minutes(policies: PolicySet, calendar: WorkCalendar) -> None:
    d = compute_deadline(
        policies, calendar, clock="sign", start=cst(2026, 2, 13, 17, 20), channel="12328", kind="help", urgent=True
    )
    assert d.due_at == cst(2026, 2, 13, 17, 50)  # after closing: natural time ignores office hours
    assert d.warning_at == cst(2026, 2, 13, 17, 42, 30)


# ---- cap by an upstream deadline ----------------------------------------------------------------------------


def test_upstream_deadline_caps_the_reply(policies: PolicySet, calendar: WorkCalendar) -> None:
    start = cst(2026, 3, 2, 9, 0)
    uncapped = reply(policies, calendar, start, "complaint")
    # 15 working days from Mon Mar 2: Mar 3-6 (4), 9-13 (9), 16-20 (14), Mon Mar 23 (15).
    assert uncapped.due_at == cst(2026, 3, 23, 17, 30)

    cap = cst(2026, 3, 13, 17, 0).astimezone(UTC)  # 12345 says: answer by Fri Mar 13 17:00
    d = reply(policies, calendar, start, "complaint", cap=cap)
    assert d.capped and d.due_at == cap
    # Working time start -> cap: Mar 2 7h + Mar 3-12 (8 days) 60h + Mar 13 7h = 74h.
    assert d.allowed_seconds == 74 * HOUR
    # 75% of it = 55.5h: 7h Mar 2, 45h Mar 3-10 (6 days), then 3.5h of Mar 11 -> 12:00.
    assert d.warning_at == cst(2026, 3, 11, 12, 0)
    assert d.supervision_at == cst(2026, 3, 17, 17, 30)
    why = d.explain()
    assert why["capped"] and why["cap"] == cap.isoformat()
    assert "capped by the upstream deadline" in why["cap_reason"]
    assert why["computed_due_at"] == uncapped.due_at.isoformat()


def test_a_later_upstream_deadline_does_not_bind(policies: PolicySet, calendar: WorkCalendar) -> None:
    start = cst(2026, 3, 2, 9, 0)
    d = reply(policies, calendar, start, "complaint", cap=cst(2026, 4, 30, 17, 30))
    assert not d.capped and d.due_at == cst(2026, 3, 23, 17, 30)
    assert "not binding" in d.explain()["cap_reason"]


def test_an_upstream_deadline_already_past_gives_the_clock_its_minimum(
    policies: PolicySet, calendar: WorkCalendar
) -> None:
    """A transfer that arrives (or is re-dispatched) after its upstream deadline does not start overdue with every
    step due at once: the clock gets one working day (UPSTREAM_BREACH_MINIMUM_WORKING_DAYS), recorded as a breach
    upstream, and its steps fall one after another."""
    d = reply(policies, calendar, cst(2026, 3, 2, 9, 0), "complaint", cap=cst(2026, 3, 1, 12, 0))
    assert d.upstream_breached and not d.capped
    assert d.due_at == cst(2026, 3, 3, 17, 30)  # Mon Mar 2 does not count: Tue Mar 3 (1)
    assert d.start < d.warning_at < d.due_at < d.supervision_at
    # 7h on Mar 2 + 7.5h on Mar 3 = 14.5h allowed; 75% = 10.875h: 7h Mar 2, 3.5h to 12:00 Mar 3, then 22.5 min.
    assert d.allowed_seconds == 14.5 * HOUR and d.warning_at == cst(2026, 3, 3, 13, 52, 30)
    why = d.explain()
    assert why["upstream_breached"] is True and "had already passed" in why["cap_reason"]
    # A cap exactly at the start is just as breached; a shorter policy limit (urgent: 24 h) is kept.
    assert reply(policies, calendar, cst(2026, 3, 2, 9, 0), "complaint", cap=cst(2026, 3, 2, 9, 0)).upstream_breached
    urgent = reply(policies, calendar, cst(2026, 3, 6, 16, 0), "complaint", urgent=True, cap=cst(2026, 3, 1, 12, 0))
    assert urgent.upstream_breached and urgent.due_at == cst(2026, 3, 7, 16, 0)
    again = Deadline.from_dict(json.loads(json.dumps(d.to_dict())))
    assert again == d and again.explain() == d.explain()


def test_a_capped_transfer_received_outside_office_hours_warns_before_it_is_overdue(
    policies: PolicySet, calendar: WorkCalendar
) -> None:
    # Received Fri Mar 6 20:00; upstream due Mon Mar 9 10:00: 1.5 working hours allowed, warning at 75% strictly
    # before the deadline (Mon 09:37:30).
    d = reply(policies, calendar, cst(2026, 3, 6, 20, 0), "complaint", cap=cst(2026, 3, 9, 10, 0))
    assert d.capped and d.allowed_seconds == 1.5 * HOUR
    assert d.warning_at == cst(2026, 3, 9, 9, 37, 30) < d.due_at
    assert d.explain()["warning_reason"] is None
    # Upstream due Mon 08:30 (the next opening): no working time at all. The warning falls at receipt and the
    # explanation says so; before, it fell on the deadline itself, and warning and overdue fired together.
    for cap in (cst(2026, 3, 9, 8, 30), cst(2026, 3, 7, 12, 0)):
        d = reply(policies, calendar, cst(2026, 3, 6, 20, 0), "complaint", cap=cap)
        assert d.capped and d.allowed_seconds == 0
        assert d.warning_at == cst(2026, 3, 6, 20, 0) < d.due_at
        assert "no working time" in d.explain()["warning_reason"]


# ---- years without data ------------------------------------------------------------------------------------


def test_2027_without_data_is_provisional_monday_to_friday(policies: PolicySet, calendar: WorkCalendar) -> None:
    d = reply(policies, calendar, cst(2027, 2, 5, 10, 0), "consultation")
    assert d.due_at == cst(2027, 2, 9, 17, 30)  # Fri Feb 5 -> Mon 8 (1), Tue 9 (2)
    assert d.provisional
    assert "2027" in d.explain()["provisional_reason"]


def test_a_deadline_running_into_2027_is_provisional(policies: PolicySet, calendar: WorkCalendar) -> None:
    d = reply(policies, calendar, cst(2026, 12, 30, 10, 0), "consultation")
    # Dec 31 (1), then Fri 2027-01-01 (2): probably New Year's Day, but nothing is published, hence provisional.
    assert d.due_at == cst(2027, 1, 1, 17, 30) and d.provisional
    assert not reply(policies, calendar, cst(2026, 12, 2, 10, 0), "consultation").provisional


def test_an_override_makes_2027_known(policies: PolicySet) -> None:
    # Test data (NOT the official 2027 schedule): Feb 8-9 holidays, Sat Feb 6 a make-up workday.
    cal = build_calendar({"years": {"2027": {"holidays": ["2027-02-08", "2027-02-09"], "workdays": ["2027-02-06"]}}})
    d = reply(policies, cal, cst(2027, 2, 5, 10, 0), "consultation")
    assert d.due_at == cst(2027, 2, 10, 17, 30)  # Sat Feb 6 (1), Feb 8-9 off, Wed Feb 10 (2)
    assert not d.provisional and d.calendar_version == cal.version


def test_naive_datetimes_are_refused(policies: PolicySet, calendar: WorkCalendar) -> None:
    with pytest.raises(ValueError, match="start must be timezone-aware"):
        reply(policies, calendar, datetime(2026, 3, 2, 9, 0), "help")
    with pytest.raises(ValueError, match="cap must be timezone-aware"):
        reply(policies, calendar, cst(2026, 3, 2, 9, 0), "help", cap=datetime(2026, 3, 5, 9, 0))


# ---- storage ---------------------------------------------------------------------------------------------


def test_to_dict_from_dict_round_trip(policies: PolicySet, calendar: WorkCalendar) -> None:
    d = reply(policies, calendar, cst(2026, 3, 2, 9, 0), "complaint", cap=cst(2026, 3, 13, 17, 0))
    stored = json.loads(json.dumps(d.to_dict()))  # what a JSONB column gives back
    again = Deadline.from_dict(stored)
    assert again == d
    assert again.explain() == d.explain()  # the stored explanation, no calendar needed
    assert again.policy == d.policy
    # With the calendar it can be moved again (within its upstream deadline).
    d = reply(policies, calendar, cst(2026, 3, 2, 9, 0), "complaint", cap=cst(2026, 4, 30, 17, 30))
    moved = extend_deadline(Deadline.from_dict(json.loads(json.dumps(d.to_dict())), calendar), calendar, working_days=1)
    assert moved.due_at == cst(2026, 3, 24, 17, 30)


# ---- extension -------------------------------------------------------------------------------------------


def test_extension_across_national_day(policies: PolicySet, calendar: WorkCalendar) -> None:
    d = reply(policies, calendar, cst(2026, 9, 10, 10, 0), "complaint")
    # 15 days: Sep 11 (1), 14-18 (6), Sun 20 make-up (7), 21-24 (11), Sep 25-27 off, 28-30 (14), Oct 8 (15).
    assert d.due_at == cst(2026, 10, 8, 17, 30)
    e = extend_deadline(d, calendar, working_days=5)
    # 5 more after Oct 8: Oct 9 (1), Sat Oct 10 make-up (2), Oct 12 (3), 13 (4), 14 (5).
    assert e.due_at == cst(2026, 10, 14, 17, 30)
    assert e.supervision_at == cst(2026, 10, 16, 17, 30)
    # Warning recomputed from start: allowed = 6h (Sep 10) + 20 days x 7.5h = 156h; 75% = 117h = 6h + 14 days
    # (to Sep 30) + 6h of Oct 8 -> 16:00.
    assert e.allowed_seconds == 156 * HOUR
    assert e.warning_at == cst(2026, 10, 8, 16, 0)
    assert e.start == d.start and e.policy_id == d.policy_id
    [adjustment] = e.adjustments
    assert (adjustment.kind, adjustment.working_days, adjustment.old_due_at, adjustment.new_due_at) == (
        "extension",
        5,
        d.due_at,
        e.due_at,
    )
    assert e.explain()["adjustments"][0]["kind"] == "extension"


def test_extension_until_a_date(policies: PolicySet, calendar: WorkCalendar) -> None:
    d = reply(policies, calendar, cst(2026, 9, 10, 10, 0), "complaint")
    assert extend_deadline(d, calendar, until=date(2026, 10, 16)).due_at == cst(2026, 10, 16, 17, 30)
    # A datetime is read as its local date in the calendar's zone: 20:00 UTC Oct 15 is Oct 16 in Shanghai.
    late = datetime(2026, 10, 15, 20, 0, tzinfo=UTC)
    assert extend_deadline(d, calendar, until=late).due_at == cst(2026, 10, 16, 17, 30)
    with pytest.raises(ValueError, match="not a working day"):
        extend_deadline(d, calendar, until=date(2026, 10, 11))  # a Sunday
    with pytest.raises(ValueError, match="not later"):
        extend_deadline(d, calendar, until=date(2026, 10, 8))  # the current due day
    with pytest.raises(ValueError, match="exactly one"):
        extend_deadline(d, calendar, working_days=1, until=date(2026, 10, 16))
    with pytest.raises(ValueError, match="exactly one"):
        extend_deadline(d, calendar)


def test_an_extension_never_passes_the_upstream_deadline(policies: PolicySet, calendar: WorkCalendar) -> None:
    """The upstream (12345) deadline binds whoever holds the case: an extension up to it is the dispatcher's to
    grant, one beyond it only the upstream's."""
    capped = reply(policies, calendar, cst(2026, 3, 2, 9, 0), "complaint", cap=cst(2026, 3, 13, 17, 0))
    with pytest.raises(ValueError, match="past the upstream deadline"):
        extend_deadline(capped, calendar, working_days=2)
    # A consultation (2 working days: Mar 4 17:30) under the same upstream deadline may be extended up to it.
    d = reply(policies, calendar, cst(2026, 3, 2, 9, 0), "consultation", cap=cst(2026, 3, 13, 17, 0))
    assert not d.capped and d.due_at == cst(2026, 3, 4, 17, 30)
    e = extend_deadline(d, calendar, working_days=2)
    assert e.due_at == cst(2026, 3, 6, 17, 30) and e.cap == d.cap
    assert extend_deadline(d, calendar, until=date(2026, 3, 12)).due_at == cst(2026, 3, 12, 17, 30)
    for beyond in ({"until": date(2026, 3, 13)}, {"working_days": 7}):  # Mar 13 17:30 is past 17:00
        with pytest.raises(ValueError, match="only the upstream platform"):
            extend_deadline(d, calendar, **beyond)
    # Past the upstream deadline already (the clock got its minimum): no extension at all from here.
    late = reply(policies, calendar, cst(2026, 3, 16, 9, 0), "consultation", cap=cst(2026, 3, 13, 17, 0))
    with pytest.raises(ValueError, match="past the upstream deadline"):
        extend_deadline(late, calendar, working_days=1)


def test_an_extension_is_bounded(policies: PolicySet, calendar: WorkCalendar) -> None:
    from sla import MAX_EXTENSION_WORKING_DAYS, OutOfRange

    d = reply(policies, calendar, cst(2026, 9, 10, 10, 0), "complaint")  # due Oct 8 17:30
    with pytest.raises(OutOfRange, match="must fall between 2000-01-01 and 2100-12-31"):
        extend_deadline(d, calendar, until=date(5000, 1, 3))
    with pytest.raises(ValueError, match=f"more than {MAX_EXTENSION_WORKING_DAYS} working days"):
        extend_deadline(d, calendar, until=date(2027, 6, 1))
    with pytest.raises(ValueError, match="working_days must be between"):
        extend_deadline(d, calendar, working_days=MAX_EXTENSION_WORKING_DAYS + 1)
    assert extend_deadline(d, calendar, working_days=MAX_EXTENSION_WORKING_DAYS).due_at > d.due_at


# ---- suspension (挂起) --------------------------------------------------------------------------------------


def test_suspend_and_resume_working_time(policies: PolicySet, calendar: WorkCalendar) -> None:
    d = reply(policies, calendar, cst(2026, 2, 13, 10, 0), "consultation")  # due Feb 24 17:30, warning 10:45
    s = suspend_deadline(d, calendar, suspended_at=cst(2026, 2, 14, 10, 0))
    # Left at suspension: Sat Feb 14 10:00-17:30 (6h) + Feb 24 (7.5h) = 13.5h.
    assert s.suspended and s.suspended_remaining_seconds == 13.5 * HOUR
    r = resume_deadline(s, calendar, resumed_at=cst(2026, 3, 2, 8, 30))
    # 13.5h from Mon Mar 2 08:30: all of Mar 2 (7.5h), then 6h of Mar 3: 3.5h to 12:00, 2.5h after 13:30.
    assert r.due_at == cst(2026, 3, 3, 16, 0)
    # The warning had 8.25h to go (6h Feb 14 + 2.25h Feb 24): Mar 2 (7.5h) + 0.75h of Mar 3 -> 09:15.
    assert r.warning_at == cst(2026, 3, 3, 9, 15)
    assert r.supervision_at == cst(2026, 3, 5, 17, 30)
    assert not r.suspended and r.allowed_seconds == d.allowed_seconds
    assert [a.kind for a in r.adjustments] == ["suspension", "resume"]


def test_suspend_and_resume_natural_time(policies: PolicySet, calendar: WorkCalendar) -> None:
    d = reply(policies, calendar, cst(2026, 2, 13, 10, 0), "help", urgent=True)  # due Feb 14 10:00
    s = suspend_deadline(d, calendar, suspended_at=cst(2026, 2, 13, 16, 0))
    assert s.suspended_remaining_seconds == 18 * HOUR
    r = resume_deadline(s, calendar, resumed_at=cst(2026, 2, 16, 9, 0))
    assert r.due_at == cst(2026, 2, 17, 3, 0)
    assert r.warning_at == cst(2026, 2, 16, 21, 0)  # the warning was 12h away when paused


def test_a_breach_survives_a_pause(policies: PolicySet, calendar: WorkCalendar) -> None:
    d = reply(policies, calendar, cst(2026, 2, 13, 10, 0), "consultation")  # due Feb 24 17:30
    s = suspend_deadline(d, calendar, suspended_at=cst(2026, 2, 25, 10, 0))
    assert s.suspended_remaining_seconds == -1.5 * HOUR  # 08:30-10:00 of Feb 25 over
    r = resume_deadline(s, calendar, resumed_at=cst(2026, 3, 2, 9, 0))
    assert r.due_at == d.due_at


def test_suspension_misuse_is_refused(policies: PolicySet, calendar: WorkCalendar) -> None:
    d = reply(policies, calendar, cst(2026, 2, 13, 10, 0), "consultation")
    with pytest.raises(ValueError, match="not suspended"):
        resume_deadline(d, calendar, resumed_at=cst(2026, 3, 2, 9, 0))
    s = suspend_deadline(d, calendar, suspended_at=cst(2026, 2, 14, 10, 0))
    with pytest.raises(ValueError, match="already suspended"):
        suspend_deadline(s, calendar, suspended_at=cst(2026, 2, 14, 11, 0))
    with pytest.raises(ValueError, match="before suspended_at"):
        resume_deadline(s, calendar, resumed_at=cst(2026, 2, 14, 9, 0))
    with pytest.raises(ValueError, match="resume it before extending"):
        extend_deadline(s, calendar, working_days=1)
    with pytest.raises(ValueError, match="before the clock started"):
        suspend_deadline(d, calendar, suspended_at=cst(2026, 2, 12, 9, 0))


def test_helpers_agree_with_the_deadline(policies: PolicySet, calendar: WorkCalendar) -> None:
    # The deadline's own numbers are what the public arithmetic gives (no second implementation drifting).
    d = reply(policies, calendar, cst(2026, 9, 30, 15, 20), "help")
    assert d.allowed_seconds == working_seconds_between(calendar, d.start, d.due_at)
    assert d.warning_at == add_working_seconds(calendar, d.start, 0.75 * d.allowed_seconds)
