"""SLA domain logic for the hotline, pure and without I/O: working calendars, working-time arithmetic, policies,
deadlines and the escalation ladder. `now`, calendars and policies are always arguments; nothing here reads the
clock, a file or a database.

Modules: calendar (which days work, office hours) and overrides (the local calendar file), calendars (a calendar
per territory: the city's with a territory's own local exceptions on top), worktime (adding and
measuring working time), policy and policy_row (which limit applies; one row and its checks), deadline (a clock's
Deadline value and its stored form), compute (computing and moving a deadline), explain (how a deadline was
reached), escalation (warning / overdue / supervision), bounds (the instants the arithmetic supports), errors
(what it refuses: SlaError, a ValueError, and one subclass per reason).
"""

from sla.bounds import SUPPORTED_YEARS, out_of_range
from sla.calendar import WorkCalendar, build_calendar
from sla.calendars import TerritoryCalendars
from sla.compute import (
    MAX_EXTENSION_WORKING_DAYS,
    UPSTREAM_BREACH_MINIMUM_WORKING_DAYS,
    compute_deadline,
    extend_deadline,
    resume_deadline,
    suspend_deadline,
)
from sla.deadline import Adjustment, Deadline
from sla.errors import (
    CalendarError,
    ClockStateError,
    InvalidDuration,
    InvalidExtension,
    NaiveInstant,
    OutOfRange,
    PolicyError,
    SlaError,
)
from sla.escalation import STEP_INSTANTS, STEPS, ladder, remaining_seconds, step_at, step_due
from sla.policy import PolicySet
from sla.policy_row import CLOCKS, UNITS, PolicyRow
from sla.worktime import add_working_days, add_working_seconds, next_working_moment, working_seconds_between

__all__ = [
    "CLOCKS",
    "MAX_EXTENSION_WORKING_DAYS",
    "SUPPORTED_YEARS",
    "UPSTREAM_BREACH_MINIMUM_WORKING_DAYS",
    "STEPS",
    "STEP_INSTANTS",
    "UNITS",
    "Adjustment",
    "CalendarError",
    "ClockStateError",
    "Deadline",
    "InvalidDuration",
    "InvalidExtension",
    "NaiveInstant",
    "OutOfRange",
    "PolicyError",
    "PolicyRow",
    "PolicySet",
    "SlaError",
    "TerritoryCalendars",
    "WorkCalendar",
    "add_working_days",
    "add_working_seconds",
    "build_calendar",
    "compute_deadline",
    "extend_deadline",
    "ladder",
    "next_working_moment",
    "out_of_range",
    "remaining_seconds",
    "resume_deadline",
    "step_at",
    "step_due",
    "suspend_deadline",
    "working_seconds_between",
]
