"""Daily digests (stored once per unit and for managers, pushed to webhooks) and the worker's report jobs."""

from __future__ import annotations

import collections
import json
from datetime import UTC, datetime

import httpx

from hotline import reports
from tests.integration.reports.conftest import TZ, A, at
from workers import report_jobs


class Receiver:
    """A webhook receiver behind httpx's transport: records each POST, fails the URLs it is told to."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, str, dict]] = []
        self.failing: set[str] = set()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        if url in self.failing:
            return httpx.Response(503)
        self.posts.append((url, request.headers["x-hotline-delivery"], json.loads(request.content)))
        return httpx.Response(204)


def test_the_digest_reports_on_yesterday_once_the_morning_has_come():
    assert reports.digest_day(at(5, 14, 7, 29), TZ) == at(5, 12, 0).date()
    assert reports.digest_day(at(5, 14, 7, 30), TZ) == at(5, 13, 0).date()


async def test_daily_digest_per_unit_and_managers_stored_once_and_pushed(runtime, week, api):
    rx = Receiver()
    http = httpx.AsyncClient(transport=httpx.MockTransport(rx))
    units = len(runtime.names.units)
    # Sat 05-14 08:00: the digest of Fri 05-13.
    first = await reports.daily_digest(runtime, at(5, 14, 8), urls=("http://hooks.test/a",), http=http)
    assert first == {"stored": units + 1, "pushed": units + 1}
    assert len(rx.posts) == units + 1 and all(p[1].startswith("digest:") for p in rx.posts)
    unit_a = next(p[2] for p in rx.posts if p[2]["unit"] == A)
    assert unit_a["event"] == "report.daily_digest" and unit_a["day"] == "2033-05-13"
    # Received Fri 05-13 at A: T7 (merged) and T8 (rejected): both closed, neither assignment charged.
    assert unit_a["day_figures"]["received"] == 2 and unit_a["day_figures"]["closed"] == 2
    assert unit_a["day_figures"]["dispatched"] == 0 and unit_a["day_figures"]["on_time_sign_rate"] is None
    # Month to date [05-01, 05-14) as of Sat 08:00: the week's figures for A plus T0 (Sun 05-08, open, unsigned,
    # reply due 05-27); only the replied T1 and T6 are due yet.
    mtd = unit_a["month_to_date"]
    assert (
        mtd["received"],
        mtd["closed"],
        mtd["dispatched"],
        mtd["signed_on_time"],
        mtd["due"],
        mtd["replied_on_time"],
        mtd["overdue_open"],
        mtd["p50_working_hours"],
    ) == (5, 3, 5, 3, 2, 2, 0, 12.25)
    managers = next(p[2] for p in rx.posts if p[2]["audience"] == "managers")
    assert managers["day_totals"]["received"] == 2 and managers["month_totals"]["received"] == 9
    assert {r["unit"] for r in managers["month_by_unit"]} == {A, "city-taxi", "city-bus", None}

    again = await reports.daily_digest(runtime, at(5, 14, 9), urls=("http://hooks.test/a",), http=http)
    assert again == {"stored": 0, "pushed": 0} and len(rx.posts) == units + 1

    # Stored digests through the API: a handler reads its unit's, a manager every one, an agent none.
    mine = (await api.get("handler-320681-bureau", "/api/reports/digests", params={"day": "2033-05-13"})).json()
    assert [d["unit"] for d in mine["items"]] == [A] and mine["items"][0]["pushed_at"] is not None
    everyone = (await api.get("manager", "/api/reports/digests", params={"day": "2033-05-13"})).json()
    assert len(everyone["items"]) == units + 1 and everyone["items"][0]["audience"] == "managers"
    assert (await api.get("agent", "/api/reports/digests")).status_code == 403
    assert (await api.get("manager", "/api/reports/digests", params={"day": "13/05"})).status_code == 422


async def test_a_failing_webhook_is_retried_by_the_next_run_alone(runtime, week):
    rx = Receiver()
    rx.failing.add("http://hooks.test/b")
    http = httpx.AsyncClient(transport=httpx.MockTransport(rx))
    urls = ("http://hooks.test/a", "http://hooks.test/b")
    units = len(runtime.names.units)
    await reports.daily_digest(runtime, at(5, 15, 8), urls=urls, http=http)  # Sat 05-14's digest
    assert {p[0] for p in rx.posts} == {"http://hooks.test/a"} and len(rx.posts) == units + 1
    assert (
        await runtime.pool.fetchval(
            "SELECT count(*) FROM report_digests WHERE day = '2033-05-14' AND pushed_at IS NULL"
        )
        == units + 1
    )
    rx.failing.clear()
    result = await reports.daily_digest(runtime, at(5, 15, 9), urls=urls, http=http)
    assert result == {"stored": 0, "pushed": units + 1}
    assert [p[0] for p in rx.posts[units + 1 :]] == ["http://hooks.test/b"] * (units + 1)
    assert (
        await runtime.pool.fetchval(
            "SELECT count(*) FROM report_digests WHERE day = '2033-05-14' AND pushed_at IS NULL"
        )
        == 0
    )


async def test_worker_jobs_refresh_and_digest(runtime, desk, week):
    await desk.act("agent", week["T4"], "note", at(5, 20, 9), text="待派单")  # queues T4's day
    assert await runtime.pool.fetchval("SELECT count(*) FROM report_changes") >= 1
    assert (await report_jobs.refresh_report_rollups({"rt": runtime})).startswith("days=")
    assert await runtime.pool.fetchval("SELECT count(*) FROM report_changes") == 0
    assert (await report_jobs.send_daily_digest({"rt": runtime})).startswith("stored=")
    day = reports.digest_day(datetime.now(UTC), TZ)  # the job reports on yesterday, as of now
    assert (
        await runtime.pool.fetchval("SELECT count(*) FROM report_digests WHERE day = $1", day)
        == len(runtime.names.units) + 1
    )
    names = {c.name for c in report_jobs.CRON_JOBS} | {f.name for f in report_jobs.FUNCTIONS}
    assert {"cron:report_rollups", "cron:daily_digest", "refresh_report_rollups", "send_daily_digest"} <= names


async def test_replies_measured_before_the_column_are_backfilled(runtime, week):
    """Rows replied before migration 0003 have no working hours: the job measures them and requeues their day."""
    await reports.refresh_rollups(runtime)
    aid = await runtime.pool.fetchval(
        "SELECT a.id FROM assignments a JOIN tickets t ON t.id = a.ticket_id WHERE t.number = $1 AND a.seq = 1",
        week["T1"],
    )
    await runtime.pool.execute("UPDATE assignments SET reply_working_seconds = NULL WHERE id = $1", aid)
    assert await reports.backfill_reply_hours(runtime) >= 1
    assert await runtime.pool.fetchval("SELECT reply_working_seconds FROM assignments WHERE id = $1", aid) == 16 * 3600
    assert await runtime.pool.fetchval("SELECT count(*) FROM report_changes") >= 1


async def test_a_digest_a_receiver_missed_is_pushed_on_later_days_too(runtime, week):
    """A receiver down from Thursday morning to Saturday still gets Wednesday's digest, once, from Saturday's run."""
    rx = Receiver()
    rx.failing.add("http://hooks.test/down")
    http = httpx.AsyncClient(transport=httpx.MockTransport(rx))
    urls = ("http://hooks.test/down",)
    units = len(runtime.names.units)
    await reports.daily_digest(runtime, at(5, 19, 8), urls=urls, http=http)  # Thu: Wednesday 05-18's, refused
    await reports.daily_digest(runtime, at(5, 20, 8), urls=urls, http=http)  # Fri: Thursday's too, refused
    assert rx.posts == []
    rx.failing.clear()
    await reports.daily_digest(runtime, at(5, 21, 8), urls=urls, http=http)  # Sat: the receiver is back
    days = collections.Counter(body["day"] for _, _, body in rx.posts)
    assert days == {"2033-05-18": units + 1, "2033-05-19": units + 1, "2033-05-20": units + 1}
    assert (
        await runtime.pool.fetchval(
            "SELECT count(*) FROM report_digests WHERE day BETWEEN '2033-05-18' AND '2033-05-20' AND pushed_at IS NULL"
        )
        == 0
    )
    await reports.daily_digest(runtime, at(5, 21, 9), urls=urls, http=http)  # nothing twice
    assert len(rx.posts) == 3 * (units + 1)


async def test_a_digest_push_holds_no_database_connection_while_it_waits_on_receivers(runtime, week):
    """Receivers may take their full timeout: the pool must not lose a connection to each of them meanwhile."""
    pool = runtime.pool
    in_use: list[int] = []

    async def slow(request: httpx.Request) -> httpx.Response:
        in_use.append(pool.get_size() - pool.get_idle_size())
        return httpx.Response(204)

    http = httpx.AsyncClient(transport=httpx.MockTransport(slow))
    busy_before = pool.get_size() - pool.get_idle_size()
    result = await reports.daily_digest(runtime, at(5, 24, 8), urls=("http://hooks.test/slow",), http=http)
    assert result["pushed"] >= 1 and in_use
    assert max(in_use) == busy_before, in_use  # nothing of the digest's held while the receiver answers


async def test_a_deactivated_unit_is_in_the_digest_while_it_has_figures_and_not_after(runtime, week, api):
    """A unit an administrator deactivated still gets its digest for the tickets it held (its name kept); a
    deactivated unit with nothing to report gets none."""
    idle = await runtime.pool.fetchval(
        "SELECT code FROM units u WHERE NOT EXISTS (SELECT 1 FROM assignments a WHERE a.unit = u.code) ORDER BY code"
    )
    assert idle is not None and idle != A
    name = runtime.names.units[A]
    try:
        for code in (A, idle):
            r = await api.request("admin", "PATCH", f"/api/admin/units/{code}", json={"active": False})
            assert r.status_code == 200, r.text
        rx = Receiver()
        http = httpx.AsyncClient(transport=httpx.MockTransport(rx))
        result = await reports.daily_digest(runtime, at(5, 26, 8), urls=("http://hooks.test/a",), http=http)
        by_unit = {body.get("unit"): body for _, _, body in rx.posts}
        assert by_unit[A]["unit_name"] == name and by_unit[A]["month_to_date"]["received"] > 0
        assert idle not in by_unit
        assert result["stored"] == len(runtime.names.active_units) + 2  # the active units, A, the managers
    finally:
        for code in (A, idle):
            await api.request("admin", "PATCH", f"/api/admin/units/{code}", json={"active": True})
