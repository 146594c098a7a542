"""超期未办结, 超期未签收 and 督办 reconcile: the manager's board, the heat map, the closure report, the ticket list's
drill-down and a direct SQL count agree at one instant, each ticket counted once (hotline/escalation/overdue.py).

A fixed history in March 2041 (no official calendar: Mon-Fri, 08:30-12:00 and 13:30-17:30), judged at
AS_OF = Fri 2041-03-29 12:00 +08:00. Sign: 1 working day; complaint reply: 15 working days (Mon 03-04 -> Mon 03-25
17:30; supervision 2 working days later, Wed 03-27 17:30).

L1  Mon 03-04 09:00 taxi/320681 -> A, never signed: late on both clocks, supervised.
L2  Mon 03-04 10:00 taxi/320681 -> A, signed at 11:00, not replied: reply late, supervised.
P1  Mon 03-04 11:00 waterway/320612 -> city-port, never signed: both clocks, supervised.
P2  Mon 03-04 11:30 waterway/320681 -> city-port, signed at 12:00: reply late, supervised.
R1  Mon 03-04 14:00 taxi/320681 -> A, signed, replied late Wed 03-27: replied, so late on nothing now.
X1  Mon 03-04 15:00 taxi/320681 -> A, rejected at once: not charged, late on nothing.
S1  Wed 03-27 09:00 taxi/320613 -> B (city-taxi), never signed: sign due Thu 03-28 17:30, late on sign only.

So 超期未办结 4 (the clocks' old count was 6), by unit A 2, city-port 2 (港航 counted 3 for 2 tickets before); by
territory 320681 3, 320612 1; 超期未签收 3 (L1, P1, S1); 督办 4.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.integration.reports.conftest import A, B

TZ = timezone(timedelta(hours=8))
AS_OF = datetime(2041, 3, 29, 12, 0, tzinfo=TZ)
PORT = "city-port"
PERIOD = {"from": "2041-03-01", "to": "2041-04-01"}
EVERYTHING = {"from": "2000-01-01", "to": "2100-01-01"}  # every receipt the service accepts

# The same count written another way: from the ticket's current assignment, not from the open assignments.
DIRECT_SQL = """
SELECT count(*) FROM tickets t
JOIN assignments a ON a.id = t.current_assignment_id
JOIN clocks c ON c.assignment_id = a.id AND c.clock = 'reply'
WHERE t.status <> 'closed' AND a.replied_at IS NULL AND a.ended_at IS NULL AND a.charged AND c.due_at <= $1
  AND NOT coalesce(c.suspended_at < c.due_at, false)
  AND ($2::timestamptz IS NULL OR t.received_at >= $2) AND ($3::timestamptz IS NULL OR t.received_at < $3)
"""


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2041, month, day, hour, minute, tzinfo=TZ)


async def _board(runtime: Any) -> dict[str, Any]:
    from hotline.web.console import queries

    d = await queries.dashboard(runtime, AS_OF)
    heat = await queries.overdue_heatmap(runtime, AS_OF)
    return {
        "overdue": d["overdue_total"],
        "sign_overdue": d["sign_overdue_total"],
        "supervised": d["supervision_total"],
        "by_unit": {code: n for _, n, code in d["overdue_by_unit"]},
        "by_territory": {code or None: n for _, n, code in d["overdue_by_territory"]},
        "heat": sum(heat["cells"].values()),
        "supervision_list": [s["number"] for s in d["supervision"]],
    }


async def _listed(api: Any, **filters: str) -> list[str]:
    """Every ticket number GET /api/tickets lists for the filters, page after page."""
    numbers: list[str] = []
    cursor = None
    while True:
        q = {**filters, "limit": "200", **({"cursor": cursor} if cursor else {})}
        r = await api.get("manager", "/api/tickets?" + urlencode(q))
        assert r.status_code == 200, r.text
        page = r.json()
        numbers += [t["number"] for t in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            return numbers


async def _report(api: Any, period: dict[str, str], group_by: str) -> dict[str, Any]:
    q = {**period, "as_of": AS_OF.isoformat(), "group_by": group_by}
    r = await api.get("manager", "/api/reports/closure?" + urlencode(q))
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture(scope="module")
async def history(desk: Any, runtime: Any) -> dict[str, Any]:
    before = await _board(runtime)
    d, HA = desk, "handler-320681-bureau"
    n: dict[str, str] = {}
    n["L1"] = await d.create(at(3, 4, 9))
    n["L2"] = await d.create(at(3, 4, 10))
    await d.act(HA, n["L2"], "sign", at(3, 4, 11))
    n["P1"] = await d.create(at(3, 4, 11), category="waterway", territory="320612")
    n["P2"] = await d.create(at(3, 4, 11, 30), category="waterway")
    await d.act("handler-city-port", n["P2"], "sign", at(3, 4, 12))
    n["R1"] = await d.create(at(3, 4, 14))
    await d.act(HA, n["R1"], "sign", at(3, 4, 15))
    await d.act(HA, n["R1"], "reply", at(3, 27, 10), content="已处理", outcome="resolved")
    n["X1"] = await d.create(at(3, 4, 15))
    await d.act("dispatcher", n["X1"], "reject", at(3, 4, 15, 10), reason="非交通运输职责")
    n["S1"] = await d.create(at(3, 27, 9), territory="320613")
    units = dict(await runtime.pool.fetch("SELECT number, unit FROM tickets WHERE number = any($1)", list(n.values())))
    assert [units[n[k]] for k in ("L1", "P1", "S1")] == [A, PORT, B]
    return {"n": n, "before": before, "after": await _board(runtime)}


async def test_the_board_counts_each_late_ticket_once_per_label(history: dict[str, Any], runtime: Any) -> None:
    before, after, n = history["before"], history["after"], history["n"]
    assert after["overdue"] - before["overdue"] == 4  # L1, L2, P1, P2: L1 and P1 once though late on two clocks
    assert after["sign_overdue"] - before["sign_overdue"] == 3  # L1, P1, S1
    assert after["supervised"] - before["supervised"] == 4
    assert after["by_unit"].get(PORT, 0) - before["by_unit"].get(PORT, 0) == 2  # 港航: 2 tickets, not 3 clocks
    assert after["by_unit"].get(A, 0) - before["by_unit"].get(A, 0) == 2
    assert after["by_unit"].get(B, 0) == before["by_unit"].get(B, 0)  # S1 is late on its sign clock only
    assert after["by_territory"]["320681"] - before["by_territory"].get("320681", 0) == 3
    assert after["by_territory"]["320612"] - before["by_territory"].get("320612", 0) == 1
    # The rows and the heat map add up to the tile; the supervision list names each ticket once.
    for board in (before, after):
        assert sum(board["by_unit"].values()) == sum(board["by_territory"].values()) == board["heat"]
        assert board["heat"] == board["overdue"]
        assert len(set(board["supervision_list"])) == len(board["supervision_list"])
    # The board shows the 50 longest late (other modules' older tickets may fill it): the whole list names each of
    # this history's supervised tickets once, L1 though it is late on two clocks.
    from hotline.escalation import overdue

    async with runtime.pool.acquire() as conn:
        whole = [r["number"] for r in await overdue.supervision_list(conn, AS_OF, limit=100_000)]
    assert [whole.count(n[k]) for k in ("L1", "L2", "P1", "P2", "R1", "X1", "S1")] == [1, 1, 1, 1, 0, 0, 0]


async def test_board_report_list_and_sql_agree_for_the_period(history: dict[str, Any], api: Any, runtime: Any) -> None:
    n = history["n"]
    report = await _report(api, PERIOD, "unit")
    assert report["totals"]["overdue_open"] == 4
    assert {r["group"]: r["overdue_open"] for r in report["rows"] if r["overdue_open"]} == {A: 2, PORT: 2}
    by_territory = await _report(api, PERIOD, "territory")
    assert {r["group"]: r["overdue_open"] for r in by_territory["rows"] if r["overdue_open"]} == {
        "320681": 3,
        "320612": 1,
    }
    start, end = datetime(2041, 3, 1, tzinfo=TZ), datetime(2041, 4, 1, tzinfo=TZ)
    assert await runtime.pool.fetchval(DIRECT_SQL, AS_OF, start, end) == 4
    period = {"as_of": AS_OF.isoformat(), "created_from": start.isoformat(), "created_to": end.isoformat()}
    assert set(await _listed(api, overdue="true", **period)) == {n["L1"], n["L2"], n["P1"], n["P2"]}
    assert set(await _listed(api, sign_overdue="true", **period)) == {n["L1"], n["P1"], n["S1"]}
    assert set(await _listed(api, supervised="true", **period)) == {n["L1"], n["L2"], n["P1"], n["P2"]}
    assert set(await _listed(api, overdue="false", **period)) == {n["R1"], n["X1"], n["S1"]}
    assert await _listed(api, overdue="true", unit=PORT, territory="320612", **period) == [n["P1"]]


async def test_the_whole_board_equals_the_report_over_every_receipt_day(
    history: dict[str, Any], api: Any, runtime: Any
) -> None:
    board = await _board(runtime)  # nothing changed since the history was made
    assert board == history["after"]
    report = await _report(api, EVERYTHING, "unit")
    assert report["totals"]["overdue_open"] == board["overdue"]
    assert {r["group"]: r["overdue_open"] for r in report["rows"] if r["overdue_open"]} == board["by_unit"]
    by_territory = await _report(api, EVERYTHING, "territory")
    assert {r["group"]: r["overdue_open"] for r in by_territory["rows"] if r["overdue_open"]} == board["by_territory"]
    assert await runtime.pool.fetchval(DIRECT_SQL, AS_OF, None, None) == board["overdue"]
    listed = await _listed(api, overdue="true", as_of=AS_OF.isoformat())
    assert len(listed) == len(set(listed)) == board["overdue"]
    assert len(await _listed(api, sign_overdue="true", as_of=AS_OF.isoformat())) == board["sign_overdue"]
    assert len(await _listed(api, supervised="true", as_of=AS_OF.isoformat())) == board["supervised"]


async def test_bad_drill_down_filters_are_refused_naming_the_field(api: Any) -> None:
    for query, field in (("overdue=maybe", "overdue"), ("as_of=2041-03-29T12:00:00", "as_of"), ("as_of=soon", "as_of")):
        r = await api.get("manager", "/api/tickets?" + query)
        assert 400 <= r.status_code < 500 and r.headers["content-type"].startswith("application/problem+json"), r.text
        assert field in r.text, r.text
