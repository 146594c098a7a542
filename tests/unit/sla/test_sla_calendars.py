"""Calendars per territory: a territory's overlay (its own typhoon days on top of the city's calendar) is the
calendar a full build with those exceptions would give, day by day and in working-time arithmetic; territories
without exceptions of their own get the city's calendar itself."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sla import (
    CalendarError,
    TerritoryCalendars,
    add_working_seconds,
    build_calendar,
    compute_deadline,
    working_seconds_between,
)

CITY_EXCEPTION = {"date": "2026-07-15", "working": False, "reason": "全市台风停工"}
CITY = build_calendar({"exceptions": [CITY_EXCEPTION]})
CITY_AGAIN = build_calendar({"exceptions": [CITY_EXCEPTION]})  # never overlaid
TERRITORIES = ("320613", "320681", "320612")

days = st.dates(min_value=date(2025, 12, 1), max_value=date(2027, 3, 31))
local_exceptions = st.lists(
    st.tuples(days, st.booleans(), st.sampled_from(["台风停工", "补班"])), max_size=6, unique_by=lambda e: e[0]
)
instants = st.datetimes(min_value=datetime(2025, 12, 1), max_value=datetime(2027, 3, 31)).map(
    lambda naive: naive.replace(tzinfo=UTC)
)
amounts = st.integers(min_value=0, max_value=30 * 27000).map(float)
props = settings(max_examples=150, deadline=None)


def full_build(entries: list[tuple[date, bool, str]]) -> object:
    """The reference: the territory's calendar built from scratch, its exceptions replacing the city's."""
    own = {d for d, _, _ in entries}
    kept = [CITY_EXCEPTION] if date.fromisoformat(CITY_EXCEPTION["date"]) not in own else []
    doc = {"exceptions": kept + [{"date": d, "working": w, "reason": r} for d, w, r in entries]}
    return build_calendar(doc, name="china:320681" if entries else "china")


@props
@given(local_exceptions, days)
def test_an_overlay_classifies_every_day_as_a_full_build_with_its_exceptions(entries, day) -> None:
    overlay = TerritoryCalendars(CITY, {"320681": entries}).for_territory("320681")
    reference = full_build(entries)
    assert overlay.is_working_day(day) == reference.is_working_day(day)  # type: ignore[attr-defined]
    assert overlay.version == reference.version  # type: ignore[attr-defined]
    assert overlay.exception_reason(day) == reference.exception_reason(day)  # type: ignore[attr-defined]


@props
@given(local_exceptions, instants, amounts)
def test_working_time_on_an_overlay_agrees_with_a_full_build_and_adds_up(entries, start, seconds) -> None:
    overlay = TerritoryCalendars(CITY, {"320681": entries}).for_territory("320681")
    reference = full_build(entries)
    due = add_working_seconds(overlay, start, seconds)
    assert due == add_working_seconds(reference, start, seconds)  # type: ignore[arg-type]
    assert working_seconds_between(overlay, start, due) == seconds


@props
@given(local_exceptions, st.sampled_from(TERRITORIES + (None, "320699")), instants, amounts)
def test_other_territories_keep_the_city_calendar(entries, territory, start, seconds) -> None:
    calendars = TerritoryCalendars(CITY, {"320681": entries})
    if territory != "320681":
        assert calendars.for_territory(territory) is CITY
    # The city's own arithmetic is untouched by building overlays on it.
    assert add_working_seconds(CITY, start, seconds) == add_working_seconds(CITY_AGAIN, start, seconds)


@props
@given(local_exceptions, days, st.booleans())
def test_adding_an_exception_to_some_territories_changes_only_theirs(entries, day, working) -> None:
    calendars = TerritoryCalendars(CITY, {"320612": entries})
    added = calendars.adding(["320681", "320612"], (day, working, "台风"))
    assert added.for_territory("320681").is_working_day(day) is working
    assert added.for_territory("320612").is_working_day(day) is working
    assert added.for_territory("320613") is CITY
    for d, w, _ in entries:
        if d != day:
            assert added.for_territory("320612").is_working_day(d) is w
    assert calendars.for_territory("320681") is CITY  # immutable: the original set is unchanged


def test_a_typhoon_day_in_qidong_moves_a_qidong_deadline_and_not_a_chongchuan_one(policies) -> None:
    received = datetime(2026, 12, 7, 2, tzinfo=UTC)  # Monday 10:00 in Nantong
    typhoon = date(2026, 12, 9)
    calendars = TerritoryCalendars(build_calendar(), {"320681": [(typhoon, False, "台风红色预警")]})

    def reply(territory: str) -> datetime:
        cal = calendars.for_territory(territory)
        return compute_deadline(
            policies, cal, clock="reply", start=received, channel="96196", kind="consultation", urgent=False
        ).due_at

    assert reply("320613").date() == date(2026, 12, 9)  # two working days: due Wednesday
    assert reply("320681").date() == date(2026, 12, 10)  # Wednesday off in 启东: due Thursday
    assert reply("320681") - reply("320613") == timedelta(days=1)


def test_a_city_calendar_with_a_new_exception_keeps_the_territories_own() -> None:
    calendars = TerritoryCalendars(build_calendar(), {"320681": [(date(2026, 12, 9), False, "台风")]})
    city = build_calendar({"exceptions": [{"date": "2026-12-10", "working": False, "reason": "全市停工"}]})
    moved = calendars.with_city(city)
    assert moved.city is city and moved.territories == ("320681",)
    qidong = moved.for_territory("320681")
    assert not qidong.is_working_day(date(2026, 12, 9)) and not qidong.is_working_day(date(2026, 12, 10))
    assert moved.local_exceptions("320681") == ((date(2026, 12, 9), False, "台风"),)


def test_two_exceptions_on_one_day_of_one_territory_are_refused() -> None:
    with pytest.raises(CalendarError, match="320681"):
        TerritoryCalendars(
            build_calendar(), {"320681": [(date(2026, 12, 9), False, "a"), (date(2026, 12, 9), True, "b")]}
        )
