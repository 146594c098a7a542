"""What "late" means, once, for every figure that counts late tickets: the manager's board (tiles, the rows by unit
and territory, the supervision list), the heat map, the ticket list's filters behind each of them, and the daily
digest's overdue_open_now. It lives beside the clocks so that tickets, reports and the console all read it.

Each label counts tickets (件), each ticket once, judged at one instant (`as_of`):
- 超期未办结 (`overdue`): the ticket's open, charged assignment is past its reply deadline, unless the reply clock
  was suspended (挂起) before it fell due. This is the closure report's `overdue_open` (DESIGN.md, Reports) for the
  same instant: the board's total equals the report's total over every receipt day, and its rows the report's rows
  by unit and by territory.
- 超期未签收 (`sign_overdue`): the open, charged assignment is not signed and its sign deadline has passed. A
  ticket can be late on both clocks: it is one ticket under each label.
- 督办 (`supervised`): the open, charged assignment's sign (while unsigned) or reply clock has reached its
  supervision instant (2 working days past the deadline).
Assignments that are not charged (withdrawn, merged, rejected, a return ruled proper) and replied tickets are never
late here: the unit no longer holds a clock. The state is today's; `as_of` moves only the deadlines' judgement,
as in the report.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from hotline.infra.db import Conn
from hotline.infra.sql import load

Late = Literal["overdue", "sign_overdue", "supervised"]
LATE: tuple[Late, ...] = ("overdue", "sign_overdue", "supervised")

OPEN_LATE = load(__file__, "overdue_open_assignments")

BOARD_SQL = f"""
WITH late AS ({OPEN_LATE})
SELECT count(*) FILTER (WHERE overdue) AS overdue_total,
       count(*) FILTER (WHERE sign_overdue) AS sign_overdue_total,
       count(*) FILTER (WHERE supervised) AS supervision_total,
       (SELECT coalesce(jsonb_object_agg(unit, n), '{{}}') FROM
          (SELECT unit, count(*) AS n FROM late WHERE overdue GROUP BY unit) x) AS overdue_by_unit,
       (SELECT coalesce(jsonb_object_agg(coalesce(territory, ''), n), '{{}}') FROM
          (SELECT territory, count(*) AS n FROM late WHERE overdue GROUP BY territory) x) AS overdue_by_territory
FROM late
"""

SUPERVISION_SQL = f"""
WITH late AS ({OPEN_LATE})
SELECT t.number, t.title, l.unit, t.territory, t.status, l.late_clock AS clock, l.late_since AS due_at, l.basis,
       (SELECT count(*) FROM events e WHERE e.ticket_id = t.id AND e.action = 'urge') AS urges
FROM late l JOIN tickets t ON t.id = l.ticket_id
WHERE l.supervised
ORDER BY l.late_since, t.id
LIMIT $2
"""

HEATMAP_SQL = f"""
WITH late AS ({OPEN_LATE})
SELECT unit, territory, count(*) AS n FROM late WHERE overdue GROUP BY unit, territory
"""


async def board(conn: Conn, as_of: datetime) -> dict[str, Any]:
    """The board's late figures at `as_of`: totals per label and 超期未办结 by unit and by territory ('' = none)."""
    row = await conn.fetchrow(BOARD_SQL, as_of)
    assert row is not None  # aggregates: always one row
    return dict(row)


async def supervision_list(conn: Conn, as_of: datetime, limit: int = 50) -> list[dict[str, Any]]:
    """督办清单: one row per supervised ticket, the longest late first, with the clock it is late on."""
    return [dict(r) for r in await conn.fetch(SUPERVISION_SQL, as_of, limit)]


async def heatmap(conn: Conn, as_of: datetime) -> dict[tuple[str, str], int]:
    """超期未办结 by (unit, territory); '' for a ticket without territory."""
    rows = await conn.fetch(HEATMAP_SQL, as_of)
    return {(r["unit"], r["territory"] or ""): r["n"] for r in rows}


def list_condition(label: Late, placeholder: str, *, negate: bool = False) -> str:
    """A ticket-list condition on `t` (tickets): the ticket is (or, negated, is not) late under `label` at the
    instant bound to `placeholder` (e.g. "$4")."""
    assert label in LATE
    sub = OPEN_LATE.replace("$1", placeholder)
    return f"t.id {'NOT IN' if negate else 'IN'} (SELECT ticket_id FROM ({sub}) late WHERE late.{label})"
