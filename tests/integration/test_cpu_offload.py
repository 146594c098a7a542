"""CPU-heavy work runs off the event loop: a sign-in's argon2 verification (about 124 ms by design) and the XLSX
export's workbook, so neither stalls the other requests of the process meanwhile."""

from __future__ import annotations

import asyncio
import threading
import time

from hotline import reports
from hotline.auth import tokens as auth
from tests.conftest import PASSWORD


async def _max_loop_gap(work: asyncio.Future) -> float:
    """The longest the event loop went without running this coroutine while `work` was under way."""
    gap, last = 0.0, time.perf_counter()
    while not work.done():
        await asyncio.sleep(0.002)
        now = time.perf_counter()
        gap, last = max(gap, now - last), now
    await work
    return gap


async def test_a_sign_in_leaves_the_event_loop_free(api, runtime):
    stored = await runtime.pool.fetchval("SELECT password_hash FROM users WHERE username = 'agent'")
    costs = []
    for _ in range(2):
        started = time.perf_counter()
        assert auth.verify_password(stored, PASSWORD)
        costs.append(time.perf_counter() - started)
    cost = min(costs)

    async def sign_in() -> None:
        r = await api.client.post("/api/auth/token", json={"username": "agent", "password": PASSWORD})
        assert r.status_code == 200, r.text
        r = await api.client.post("/api/auth/token", json={"username": "nobody-such", "password": PASSWORD})
        assert r.status_code == 401  # an unknown name costs a verification too, also off the loop

    gap = await _max_loop_gap(asyncio.ensure_future(sign_in()))
    # On the loop, each verification would hold it for the whole `cost`; in a thread the loop keeps turning.
    assert gap < cost / 2, f"the event loop stood still {gap * 1000:.0f} ms (one verification: {cost * 1000:.0f} ms)"


async def test_the_xlsx_workbook_is_built_in_a_worker_thread(api, monkeypatch):
    built_in: list[int] = []
    real = reports.to_xlsx

    def to_xlsx(report, readable=None):  # the real builder, noting which thread ran it
        built_in.append(threading.get_ident())
        return real(report, readable)

    monkeypatch.setattr(reports, "to_xlsx", to_xlsx)
    r = await api.get(
        "manager",
        "/api/reports/closure",
        params={"format": "xlsx", "group_by": "unit", "from": "2026-01-01", "to": "2027-01-01"},
    )
    assert r.status_code == 200, r.text
    assert r.content[:2] == b"PK"  # a zip: the workbook
    assert built_in and built_in[0] != threading.get_ident()
