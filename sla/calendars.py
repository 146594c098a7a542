"""Working calendars per territory (属地): the city's calendar, and for a territory with local exceptions of its own
(a typhoon day off declared in 启东市 only) that calendar with them on top.

Every deadline is computed on the calendar of its ticket's territory (`for_territory`): a territory without
exceptions of its own, or a ticket without a territory, gets the city's calendar itself, so the common case costs
one dictionary look-up. An exception of the whole city belongs in the city's calendar (`build_calendar`'s
overrides); a territory's exception wins over the city's for its day and territory.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from sla.calendar import WorkCalendar
from sla.errors import CalendarError

__all__ = ["LocalException", "TerritoryCalendars"]

# One local exception of a territory: (date, working, reason).
LocalException = tuple[date, bool, str]


class TerritoryCalendars:
    """The city's calendar and one overlay per territory that has local exceptions; immutable."""

    __slots__ = ("city", "_local", "_by_territory")

    city: WorkCalendar

    def __init__(self, city: WorkCalendar, local: Mapping[str, Iterable[LocalException]] | None = None) -> None:
        self.city = city
        self._local: dict[str, tuple[LocalException, ...]] = {}
        self._by_territory: dict[str, WorkCalendar] = {}
        for territory, entries in sorted((local or {}).items()):
            days = tuple(sorted(entries))
            if len({d for d, _, _ in days}) != len(days):
                raise CalendarError(f"territory {territory}: a day has more than one local exception")
            if not days:
                continue
            self._local[territory] = days
            self._by_territory[territory] = city.overlaid(
                {d: w for d, w, _ in days}, {d: r for d, _, r in days}, name=f"{city.name}:{territory}"
            )

    def for_territory(self, territory: str | None) -> WorkCalendar:
        """The calendar deadlines of a ticket in `territory` are computed on (the city's when it has none)."""
        if territory is None:
            return self.city
        return self._by_territory.get(territory, self.city)

    @property
    def territories(self) -> tuple[str, ...]:
        """The territories with local exceptions of their own, in code order."""
        return tuple(self._by_territory)

    def local_exceptions(self, territory: str) -> tuple[LocalException, ...]:
        """The territory's own local exceptions (not the city's), by date."""
        return self._local.get(territory, ())

    def with_city(self, city: WorkCalendar) -> TerritoryCalendars:
        """The same territories' exceptions on another city calendar (one with a new city-wide exception)."""
        return TerritoryCalendars(city, self._local)

    def adding(self, territories: Iterable[str], exception: LocalException) -> TerritoryCalendars:
        """These calendars with `exception` added to each of `territories` (replacing one on the same day)."""
        local = {t: list(days) for t, days in self._local.items()}
        for territory in territories:
            days = [e for e in local.get(territory, []) if e[0] != exception[0]]
            local[territory] = [*days, exception]
        return TerritoryCalendars(self.city, local)

    def __repr__(self) -> str:
        return f"TerritoryCalendars(city={self.city!r}, territories={list(self._by_territory)!r})"
