"""Closure-rate reports (办结率统计): the figures of DESIGN.md "Reports", their rollups, exports and daily digests.

What a figure means (the decisions behind the contract)
- Period: tickets *received* in [from, to). A bare date is the local midnight (settings.timezone) that starts it
  (so to=2031-04-01 ends with March 31); a datetime must carry its offset. as_of as a bare date is the end of that
  local day. Figures about assignments, callbacks, extensions and urges belong to the period of their ticket's receipt.
- Groups: by unit, an assignment figure goes to the assignment's unit (dispatched, signed_on_time, due,
  replied_on_time, returned, overdue_open, working hours; extensions to the unit that asked; an urge to the unit
  holding the ticket when it was urged; a callback to the unit whose reply it judged); a ticket figure
  (received, closed) goes to the ticket's current unit (null: never dispatched). Territory, channel, category and
  kind are the ticket's. Totals are the same whatever the grouping.
- Charged: assignments with charged = false (withdrawn on a direct answer, merged, rejected, or a return ruled
  proper) are left out of dispatched, signed_on_time, due, replied_on_time, returned, overdue_open and the working
  hours: the unit is not held to a clock it was relieved of. `returned` therefore counts charged assignments that
  returned the ticket (a return pending, refused, or accepted as improper), so return_rate stays within [0, 1].
- signed_on_time: signed by the sign clock's due_at; a reopened assignment (重办) is signed when it starts and has
  no sign clock, so it counts as on time.
- due: charged assignments replied, or whose reply deadline (the reply clock's due_at, i.e. after approved
  extensions) is <= as_of. replied_on_time: replied at or before that deadline. overdue_open: charged assignments
  still open (not ended) whose reply deadline is <= as_of.
- A reply clock suspended (挂起) before its deadline does not fall due while paused (as escalation sees it); on
  resume its deadline moves and it counts from the new one.
- as_of (default now) is the instant deadlines are judged against; it moves due and overdue_open only. Every other
  figure, and whether an assignment is replied or open, is the state recorded now: a past as_of is not a snapshot.
- closed: tickets of the period whose status is closed (any closure). callbacks: answered callbacks
  (contacted = true); satisfaction_rate = (satisfied + basically_satisfied) / callbacks; resolution_rate =
  resolved ('resolved' only, not 'partly') / callbacks. extensions: approved extension requests. urges: 'urge'
  events.
- p50/p90_working_hours: working hours (sla.working_seconds_between on the runtime calendar / 3600) from the start
  of each replied charged assignment to its reply, interpolated like PostgreSQL percentile_cont (numpy's default).
  Measured once at reply time into assignments.reply_working_seconds.
- Rates are null when their denominator is 0.
- Who: managers, dispatchers and admins see every unit; a handler gets the same report restricted to its unit's
  figures (every figure charged to another unit is left out, whatever the grouping); agents and integrations 403.

How a report stays fast and exact
report_daily holds the additive figures per local day of receipt x (unit, territory, channel, category, kind), with
the working hours as sorted arrays; report_pending holds charged unreplied assignments by the local day their reply
falls due; report_monthly and report_pending_monthly are the same summed per calendar month. `refresh_rollups` (a
worker job, every 15 s) rewrites whole days and then their months, set-based, in one transaction with the
consumption of report_changes, a queue that triggers on tickets and clocks fill with the receipt instant of every
changed ticket. A report reads, from one REPEATABLE READ snapshot:
  - the monthly rollups for whole months of the period with nothing queued, the daily rollups for the other whole
    days with nothing queued,
  - a live computation (the same SQL that builds the rollups) for queued days and for partial edge days,
  - for due/overdue_open on rollup days: the pending rows due before the local day of as_of, plus a live look-up,
    through an index on reply clocks' due_at, of those falling due on that day up to as_of.
Every part is exact at the snapshot, so the result equals the from-scratch computation (`use_rollups=False`), which
tests/integration/reports checks for many periods, groupings and as_of values, before and after changes. If the
worker stops, more days are live: reports get slower, never wrong. p50/p90 are exact too: they are computed (in
Python, merging the sorted arrays) over the stored values, not from a histogram.
"""

from hotline.reports.compute import closure_report, compute, group_name
from hotline.reports.digests import daily_digest, digest_day, list_digests
from hotline.reports.export import Readable, to_csv, to_xlsx
from hotline.reports.metrics import COLUMNS, FORMATS, GROUPS, METRICS, empty_metrics, percentiles
from hotline.reports.planner import Plan, plan
from hotline.reports.query import ReportQuery, parse_query, unit_scope
from hotline.reports.rollups import backfill_reply_hours, rebuild_all, rebuild_days, refresh_rollups

__all__ = [
    "COLUMNS",
    "FORMATS",
    "GROUPS",
    "METRICS",
    "Plan",
    "Readable",
    "ReportQuery",
    "backfill_reply_hours",
    "closure_report",
    "compute",
    "daily_digest",
    "digest_day",
    "empty_metrics",
    "group_name",
    "list_digests",
    "parse_query",
    "percentiles",
    "plan",
    "rebuild_all",
    "rebuild_days",
    "refresh_rollups",
    "to_csv",
    "to_xlsx",
    "unit_scope",
]
