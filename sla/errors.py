"""What the SLA arithmetic refuses, one type per reason. Every one is an SlaError, itself a ValueError (so code
written against ValueError keeps working), and a caller catches the reasons it can act on rather than ValueError
wholesale, which would also swallow its own bugs. Each message names the value and what was expected."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "CalendarError",
    "ClockStateError",
    "InvalidDuration",
    "InvalidExtension",
    "NaiveInstant",
    "OutOfRange",
    "PolicyError",
    "SlaError",
]


class SlaError(ValueError):
    """The base of every refusal of the SLA arithmetic."""


class NaiveInstant(SlaError):
    """A datetime without a UTC offset: a wall-clock time is ambiguous across zones, so it is never guessed."""


class OutOfRange(SlaError):
    """An instant or date outside what the SLA arithmetic supports (sla.bounds); the message says the range."""


class InvalidDuration(SlaError):
    """An amount of working time that cannot be added: fewer than one working day, or negative seconds."""


class InvalidExtension(SlaError):
    """An extension (延期) that cannot be granted: not exactly one of working days or a date, too many working
    days, a date that is not a working day, a new due not later than the current one or past the upstream cap."""


class ClockStateError(SlaError):
    """A move the clock's state does not allow: suspending a suspended clock, resuming one that is not suspended,
    extending a suspended one, or a pause or resumption dated before the moment it follows."""


class CalendarError(SlaError):
    """The calendar overrides, time zone or office hours are invalid; the message names the entry."""


class PolicyError(SlaError):
    """A policy set is invalid (the message names the rows), or no row applies to a selection.

    `rows` says, for each problem in order, the positions (1 for the first row) of the rows it is about: () for a
    problem of the set as a whole (a gap, the defaults). Callers name the rows from it, not from the wording."""

    def __init__(self, problems: Iterable[str], rows: Iterable[tuple[int, ...]] | None = None) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        named = tuple(rows) if rows is not None else ()
        self.rows: tuple[tuple[int, ...], ...] = named + ((),) * (len(self.problems) - len(named))
        super().__init__("; ".join(self.problems))
