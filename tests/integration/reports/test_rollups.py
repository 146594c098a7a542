"""Rollups agree with the from-scratch computation: clean days, queued (dirty) days, cut days, every as_of."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest

from hotline import reports
from tests.integration.reports.conftest import TZ, A, B, at

GROUPS = reports.GROUPS
# Around the deadlines of the hand-worked week and of the busy fortnight: before, at and after them, on their days.
AS_OF = [
    "2033-05-10T12:00:00+08:00",
    "2033-05-20T12:00:00+08:00",
    "2033-05-30T17:30:00+08:00",
    "2033-06-03T17:29:59+08:00",
    "2033-06-05T12:00:00+08:00",
    "2033-06-08T17:29:59+08:00",
    "2033-06-08T17:30:00+08:00",
    "2033-07-08T17:30:00+08:00",
    "2033-07-20T10:00:00+08:00",
    "2033-08-01T17:30:00+08:00",
    "2034-01-01T00:00:00+08:00",
]
PERIODS = [
    ("2033-05-09", "2033-05-14"),
    ("2033-05-01", "2033-08-01"),
    ("2033-05-09T12:00:00+08:00", "2033-05-12"),
    ("2033-07-04T10:00:00+08:00", "2033-07-13T15:00:00+08:00"),
    ("2033-07-06", "2033-07-07"),
]
HANDLERS = {"A": "handler-320681-bureau", "B": "handler-city-taxi"}


async def _busy_fortnight(desk) -> list[str]:
    """Forty tickets over Mon 2033-07-04 .. Fri 07-15 taking every path at pseudo-random instants."""
    rng = random.Random(2033)
    numbers: list[str] = []
    for _ in range(40):
        await _one_ticket(desk, rng, numbers)
    return numbers


async def _one_ticket(desk, rng: random.Random, numbers: list[str]) -> None:
    """One ticket of the fortnight: created at a pseudo-random instant, appended to `numbers`, taken down a
    pseudo-random path (the draws from `rng` come in one fixed order, so the fortnight is the same every run)."""
    day = datetime(2033, 7, 4, tzinfo=TZ) + timedelta(days=rng.choice([0, 1, 2, 3, 4, 7, 8, 9, 10, 11]))
    t0 = day + timedelta(hours=rng.randrange(0, 24), minutes=rng.randrange(60))
    where = rng.choice(
        [("taxi", "320681", "A"), ("taxi", "320613", "B"), ("bus", "320613", None), (None, "320681", None)]
    )
    n = await desk.create(
        t0,
        kind=rng.choice(["complaint", "help", "consultation", "report"]),
        category=where[0],
        territory=where[1],
        urgent=rng.random() < 0.2,
    )
    numbers.append(n)
    h = HANDLERS.get(where[2] or "")

    def step(hours: float) -> datetime:
        return t0 + timedelta(hours=hours)

    path = rng.random()
    if h is None:
        if where[0] is None and path < 0.5:
            await desk.act("dispatcher", n, "dispatch", step(1), unit=A)
            await desk.act(HANDLERS["A"], n, "sign", step(rng.choice([2, 30])))
        elif where[0] == "bus" and path < 0.5:
            await desk.act("agent", n, "close", step(0.1), answer="已答复")
        return
    if path < 0.1:
        await desk.act("dispatcher", n, "reject", step(0.5), reason="不予受理")
        return
    if path < 0.15 and numbers[:-1]:
        r = await desk.act("agent", numbers[0], "note", step(0.2), text="x")
        if r["status"] != "closed":
            await desk.act("agent", n, "merge", step(0.3), into=numbers[0])
            return
    await desk.act(h, n, "sign", step(rng.choice([0.5, 20, 60])))
    if path < 0.3:
        h = await _returned(desk, n, where[2], path, step)
    await _handled(desk, rng, h, n, step)


async def _returned(desk, n: str, unit: str, path: float, step) -> str:
    """Returned by its unit and ruled on; the handler who holds it afterwards."""
    await desk.act(HANDLERS[unit], n, "return", step(61), reason="非本单位")
    other = B if unit == "A" else A
    await desk.act(
        "dispatcher",
        n,
        "decide-return",
        step(62),
        accept=path < 0.25,
        proper=path < 0.2,
        unit=other if path < 0.25 else None,
    )
    if path >= 0.25:
        return HANDLERS[unit]
    h = HANDLERS["B" if unit == "A" else "A"]
    await desk.act(h, n, "sign", step(63))
    return h


async def _handled(desk, rng: random.Random, h: str, n: str, step) -> None:
    """Perhaps extended, urged, replied to and called back."""
    if rng.random() < 0.3:
        await desk.act(h, n, "request-extension", step(64), working_days=rng.choice([1, 5]), reason="延期")
        await desk.act("manager", n, "decide-extension", step(65), approve=rng.random() < 0.7)
    if rng.random() < 0.3:
        await desk.act("manager", n, "urge", step(66), note="催办")
    if rng.random() < 0.75:
        await desk.act(h, n, "reply", step(rng.choice([70, 150, 400, 800])), content="已办理", outcome="resolved")
        sat = rng.choice(["satisfied", "basically_satisfied", "dissatisfied", None])
        if sat:
            await desk.act(
                "agent",
                n,
                "callback",
                step(900),
                contacted=True,
                satisfaction=sat,
                resolved=rng.choice(["resolved", "partly", "unresolved"]),
            )


@pytest.fixture(scope="module")
async def busy(desk, week):
    return await _busy_fortnight(desk)


def _instants(runtime, start, end):
    q = reports.parse_query(runtime.settings.timezone, from_=start, to=end, as_of=None, group_by=None, format=None)
    return q.start, q.end


async def _both(runtime, start, end, as_of, group, unit=None):
    q = reports.parse_query(runtime.settings.timezone, from_=start, to=end, as_of=as_of, group_by=group, format=None)
    async with runtime.pool.acquire() as conn:
        fast = await reports.compute(conn, runtime.settings.timezone, q, unit=unit)
        slow = await reports.compute(conn, runtime.settings.timezone, q, unit=unit, use_rollups=False)
    return fast, slow


async def _assert_agree(runtime, *, expect_rollups: bool):
    used = 0
    for start, end in PERIODS:
        for as_of in AS_OF:
            for group in GROUPS:
                fast, slow = await _both(runtime, start, end, as_of, group)
                assert fast["rows"] == slow["rows"] and fast["totals"] == slow["totals"], (start, end, as_of, group)
                used += fast["source"]["rollup_days"]
            fast, slow = await _both(runtime, start, end, as_of, "unit", unit=A)
            assert fast["rows"] == slow["rows"] and fast["totals"] == slow["totals"]
    assert (used > 0) == expect_rollups


async def test_rollups_agree_with_from_scratch_before_and_after_changes(runtime, desk, week, busy):
    await reports.refresh_rollups(runtime)
    assert await runtime.pool.fetchval("SELECT count(*) FROM report_changes") == 0
    q = reports.parse_query(
        runtime.settings.timezone, from_="2033-07-04", to="2033-07-16", as_of=None, group_by="unit", format=None
    )
    async with runtime.pool.acquire() as conn:
        clean = await reports.compute(conn, runtime.settings.timezone, q)
    assert clean["source"] == {"rollup_days": 12, "rollup_months": 0, "live_ranges": 0}  # all from daily rollups
    month = reports.ReportQuery(*_instants(runtime, "2033-07-01", "2033-08-01"), q.as_of, "unit")
    async with runtime.pool.acquire() as conn:
        assert (await reports.compute(conn, runtime.settings.timezone, month))["source"] == {
            "rollup_days": 31,
            "rollup_months": 1,
            "live_ranges": 0,
        }  # from the monthly rollup
    await _assert_agree(runtime, expect_rollups=True)

    # Changes after the refresh: their days are queued and computed live until the next refresh.
    open_ones = await runtime.pool.fetch(
        "SELECT number, status, unit FROM tickets WHERE number = any($1::text[]) AND status = 'in_progress'", busy
    )
    assert open_ones, "the busy fortnight leaves tickets in progress"
    for r in open_ones[:3]:
        handler = "handler-320681-bureau" if r["unit"] == A else "handler-city-taxi"
        await desk.act(handler, r["number"], "reply", at(7, 29, 10), content="补充办理", outcome="explained")
    async with runtime.pool.acquire() as conn:
        dirty = await reports.compute(conn, runtime.settings.timezone, q)
    assert dirty["source"]["live_ranges"] >= 1 and dirty["source"]["rollup_days"] < 12
    async with runtime.pool.acquire() as conn:
        source = (await reports.compute(conn, runtime.settings.timezone, month))["source"]
    assert source["rollup_months"] == 0 and source["live_ranges"] >= 1  # a queued day: July is read by days
    await _assert_agree(runtime, expect_rollups=True)

    result = await reports.refresh_rollups(runtime)
    assert 1 <= result["days"] <= 3
    assert (await reports.refresh_rollups(runtime))["days"] == 0  # nothing left: idempotent
    await _assert_agree(runtime, expect_rollups=True)


async def test_reports_really_read_the_rollups(runtime, week, busy):
    """Tampering with a clean day's rollup shows in the fast report and not in the from-scratch one; a rebuild
    repairs it."""
    await reports.refresh_rollups(runtime)
    await runtime.pool.execute(
        "UPDATE report_daily SET received = received + 100 WHERE ctid = (SELECT ctid FROM "
        "report_daily WHERE day = '2033-05-10' AND unit = $1 LIMIT 1)",
        "city-bus",
    )
    fast, slow = await _both(runtime, "2033-05-09", "2033-05-14", None, "unit")
    assert fast["totals"]["received"] == slow["totals"]["received"] + 100
    await runtime.pool.execute(
        "UPDATE report_monthly SET urges = urges + 7 WHERE ctid = (SELECT ctid FROM "
        "report_monthly WHERE month = '2033-07-01' AND unit = $1 LIMIT 1)",
        A,
    )
    fast, slow = await _both(runtime, "2033-07-01", "2033-08-01", None, "unit")
    assert fast["totals"]["urges"] == slow["totals"]["urges"] + 7
    assert await reports.rebuild_all(runtime) >= 10
    fast, slow = await _both(runtime, "2033-05-09", "2033-05-14", None, "unit")
    assert fast == {**slow, "source": fast["source"]} and fast["source"]["rollup_days"] == 5
    fast, slow = await _both(runtime, "2033-07-01", "2033-08-01", None, "unit")
    assert fast == {**slow, "source": fast["source"]} and fast["source"]["rollup_months"] == 1


async def test_deadline_moved_without_a_ticket_change_is_seen(runtime, week, busy):
    """A clock moved outside the lifecycle (a provisional deadline recomputed) queues its ticket's day."""
    await reports.refresh_rollups(runtime)
    clock_id = await runtime.pool.fetchval(
        """SELECT c.id FROM clocks c JOIN tickets t ON t.id = c.ticket_id JOIN assignments a ON a.id = c.assignment_id
           WHERE t.number = $1 AND c.clock = 'reply' AND a.ended_at IS NULL""",
        week["T2"],
    )
    await runtime.pool.execute("UPDATE clocks SET due_at = due_at - interval '30 days' WHERE id = $1", clock_id)
    try:
        fast, slow = await _both(runtime, "2033-05-09", "2033-05-14", "2033-06-05T12:00:00+08:00", "unit")
        assert fast["rows"] == slow["rows"]
        assert {r["group"]: r for r in fast["rows"]}[B]["overdue_open"] == 1
    finally:
        await runtime.pool.execute("UPDATE clocks SET due_at = due_at + interval '30 days' WHERE id = $1", clock_id)
        await reports.refresh_rollups(runtime)


async def test_a_suspended_reply_clock_does_not_fall_due_while_paused(runtime, desk, week):
    """Mon 2033-08-01 09:00 complaint to A, reply due Mon 08-22 17:30; suspended (挂起) Fri 08-05 09:00, so not due
    on 09-01; resumed Mon 08-15 09:00 with the working time that was left, due again from the new deadline."""
    n = await desk.create(at(8, 1, 9))
    await desk.act("handler-320681-bureau", n, "sign", at(8, 1, 10))
    await desk.act("dispatcher", n, "suspend", at(8, 5, 9), reason="等待公安部门调查结果")

    async def figures(as_of: str) -> tuple[int, int]:
        for refresh in (False, True):  # live (queued day) and from the rollups
            if refresh:
                await reports.refresh_rollups(runtime)
            fast, slow = await _both(runtime, "2033-08-01", "2033-08-02", as_of, "unit")
            assert fast["rows"] == slow["rows"] and fast["totals"] == slow["totals"]
        return fast["totals"]["due"], fast["totals"]["overdue_open"]

    assert await figures("2033-09-01T12:00:00+08:00") == (0, 0)
    t = await desk.act("dispatcher", n, "resume", at(8, 15, 9), text="调查结果已出")
    due = datetime.fromisoformat(t["deadlines"]["reply"])
    assert due > at(8, 22, 17, 30)
    assert await figures((due - timedelta(seconds=1)).isoformat()) == (0, 0)
    assert await figures(due.isoformat()) == (1, 1)


async def test_percentiles_match_postgresql_percentile_cont(runtime):
    rng = random.Random(5)
    for n in (1, 2, 3, 10, 101, 1000):
        values = [round(rng.uniform(0, 300), rng.choice([0, 2, 6])) for _ in range(n)]
        expected = await runtime.pool.fetchval(
            "SELECT percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY v) FROM unnest($1::float8[]) AS v", values
        )
        assert reports.percentiles(values) == pytest.approx(list(expected), rel=1e-12, abs=1e-12)
    assert reports.percentiles([]) == [None, None]
