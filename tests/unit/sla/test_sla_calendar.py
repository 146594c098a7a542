"""Working calendar: the official 2026 schedule, unknown years, overrides and their validation."""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

import sla
from sla import CalendarError, build_calendar

DATA = Path(__file__).resolve().parents[3] / "config" / "data"

# A made-up schedule used only to exercise the override format; NOT the official 2027 schedule.
TEST_2027 = {
    "years": {
        "2027": {"holidays": [date(2027, 2, 8), date(2027, 2, 9)], "workdays": ["2027-02-06"], "source": "test data"}
    }
}


# ---- the official 2026 schedule (from the chinese_calendar package) --------------------------------------


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 2, 13), True),  # Friday before the Spring Festival break
        (date(2026, 2, 14), True),  # Saturday, make-up workday (调休)
        (date(2026, 2, 15), False),  # first day of the break (Sunday)
        (date(2026, 2, 16), False),  # Monday inside the break
        (date(2026, 2, 23), False),  # last day of the break (Monday)
        (date(2026, 2, 24), True),  # back to work
        (date(2026, 2, 28), True),  # Saturday, make-up workday
        (date(2026, 3, 1), False),  # an ordinary Sunday
        (date(2026, 9, 20), True),  # Sunday, make-up workday for National Day
        (date(2026, 10, 1), False),
        (date(2026, 10, 7), False),
        (date(2026, 10, 8), True),
        (date(2026, 10, 10), True),  # Saturday, make-up workday
        (date(2026, 10, 11), False),
        (date(2026, 1, 4), True),  # Sunday, make-up workday for New Year
    ],
)
def test_official_2026_schedule(calendar: sla.WorkCalendar, day: date, working: bool) -> None:
    assert calendar.is_working_day(day) is working
    assert calendar.is_known(day)


def test_calendar_attributes(calendar: sla.WorkCalendar) -> None:
    assert calendar.name == "china"
    assert calendar.tz.key == "Asia/Shanghai"
    assert calendar.office_hours == (("08:30", "12:00"), ("13:30", "17:30"))
    assert isinstance(calendar.version, str) and calendar.version


# ---- years without data ------------------------------------------------------------------------------------


def test_year_without_data_is_plain_monday_to_friday_and_unknown(calendar: sla.WorkCalendar) -> None:
    # 2027-01-01 is a Friday. Without official data it counts as a working day: we must not guess holidays.
    assert calendar.is_working_day(date(2027, 1, 1))
    assert not calendar.is_working_day(date(2027, 1, 2))  # Saturday
    assert not calendar.is_known(date(2027, 1, 1))
    assert not calendar.is_known(date(2003, 6, 2))  # before the package's range too


@pytest.mark.parametrize("day", [date(1, 1, 1), date(1900, 1, 1), date(2100, 3, 1), date(9999, 12, 31)])
def test_any_year_answers_without_raising(calendar: sla.WorkCalendar, day: date) -> None:
    # chinese_calendar raises NotImplementedError outside 2004-2026; it must never reach a caller.
    assert calendar.is_working_day(day) is (day.weekday() < 5)
    assert not calendar.is_known(day)


# ---- overrides -------------------------------------------------------------------------------------------


def test_year_override_makes_the_year_known_and_applies() -> None:
    cal = build_calendar(TEST_2027)
    assert cal.is_known(date(2027, 2, 8))
    assert not cal.is_working_day(date(2027, 2, 8))  # a Monday declared a holiday
    assert cal.is_working_day(date(2027, 2, 6))  # a Saturday declared a make-up workday
    assert cal.is_working_day(date(2027, 2, 10))  # an unlisted Wednesday stays a working day
    assert not cal.is_known(date(2028, 1, 3))


def test_year_override_replaces_the_package_for_that_year() -> None:
    # An override for a year the package knows wins entirely: here it erases the Spring Festival break.
    cal = build_calendar({"years": {2026: {"holidays": [], "workdays": []}}})
    assert cal.is_working_day(date(2026, 2, 16))
    assert not cal.is_working_day(date(2026, 2, 14))


def test_local_exception_changes_one_day_without_making_the_year_known() -> None:
    cal = build_calendar(
        {
            "exceptions": [
                {"date": date(2026, 8, 3), "working": False, "reason": "台风停工"},
                {"date": "2027-03-06", "working": True, "reason": "declared working Saturday"},
            ]
        }
    )
    assert not cal.is_working_day(date(2026, 8, 3))
    assert cal.exception_reason(date(2026, 8, 3)) == "台风停工"
    assert cal.is_working_day(date(2027, 3, 6))
    assert not cal.is_known(date(2027, 3, 6))
    assert cal.exception_reason(date(2026, 8, 4)) is None


def test_shipped_calendar_file_loads_and_its_example_is_not_in_force() -> None:
    overrides = tomllib.loads((DATA / "calendar.toml").read_text("utf-8"))
    cal = build_calendar(overrides)
    # The file documents a typhoon day off on 2026-08-03 as a commented example only.
    assert cal.is_working_day(date(2026, 8, 3))
    # No invented official data for 2027.
    assert not cal.is_known(date(2027, 6, 1))


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"yeras": {}}, "unknown keys ['yeras']"),
        ({"format": 2}, "format 2"),
        ({"years": {"2027": {"holidays": ["2028-01-03"]}}}, "[years.2027].holidays: dates outside 2027"),
        ({"years": {"2027": {"holidays": ["2027-02-08"], "workdays": ["2027-02-08"]}}}, "both as holiday and workday"),
        ({"years": {"2027": {"holidays": ["8 Feb 2027"]}}}, "[years.2027].holidays: '8 Feb 2027' is not a date"),
        ({"years": {"27": {}}}, "[years.27]: the key must be a four-digit year"),
        ({"years": {"2027": {"holiday": []}}}, "[years.2027]: unknown keys ['holiday']"),
        ({"exceptions": [{"date": "2026-08-03", "working": "no"}]}, "#1 (2026-08-03): working must be true or false"),
        ({"exceptions": [{"date": "2026-08-03"}]}, "#1: needs date and working"),
        (
            {"exceptions": [{"date": "2026-08-03", "working": False}, {"date": "2026-08-03", "working": True}]},
            "#2: 2026-08-03 is listed twice",
        ),
    ],
)
def test_malformed_overrides_are_refused_naming_the_entry(overrides: dict, fragment: str) -> None:
    with pytest.raises(CalendarError) as err:
        build_calendar(overrides)
    assert fragment in str(err.value)
    assert isinstance(err.value, ValueError)


def test_bad_zone_and_office_hours_are_refused() -> None:
    with pytest.raises(CalendarError, match="unknown time zone"):
        build_calendar(tz="Asia/Nowhere")
    with pytest.raises(CalendarError, match="non-overlapping"):
        build_calendar(office_hours=(("08:30", "12:00"), ("11:30", "17:30")))
    with pytest.raises(CalendarError, match="not HH:MM"):
        build_calendar(office_hours=(("8.30", "12:00"),))


# ---- version -------------------------------------------------------------------------------------------


def test_version_is_stable_and_changes_with_the_data() -> None:
    base = build_calendar(None)
    assert build_calendar({}).version == base.version  # same data, same version, across builds
    assert build_calendar({"format": 1}).version == base.version
    assert build_calendar(TEST_2027).version != base.version
    assert build_calendar({"exceptions": [{"date": "2026-08-03", "working": False}]}).version != base.version
    assert build_calendar(office_hours=(("09:00", "17:00"),)).version != base.version
    assert build_calendar(tz="Asia/Urumqi").version != base.version


def test_other_zone_and_office_hours() -> None:
    # One continuous period, another zone: a deadline ends at that calendar's own close.
    cal = build_calendar(tz="Europe/Paris", office_hours=(("09:00", "17:00"),), name="paris")
    t = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # Monday 11:00 in Paris
    due = sla.add_working_days(cal, t, 1)
    assert due.astimezone(cal.tz).replace(tzinfo=None) == datetime(2026, 3, 3, 17, 0)
    assert sla.working_seconds_between(cal, t, t + timedelta(hours=1)) == 3600
