"""SLA edges an independent audit found (issue 15, issue 16 item 7): instants outside the supported range, a
transfer's upstream receipt, the upstream deadline against extensions and re-dispatches, and late transfers.

Worked examples use fixed instants through the services (`now=`), so the calendar is known: Mon 2026-03-02 to
Fri 2026-03-13 are plain working weeks (08:30-12:00, 13:30-17:30 +08:00)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

from hotline.escalation import exact_time
from hotline.tickets import lifecycle
from hotline.web.problems import status_of
from tests.conftest import PASSWORD, create_at, principal, ticket_body

TZ = timezone(timedelta(hours=8))
H = "handler-320612-bureau"
HOTLINE = str(Path(sys.executable).with_name("hotline"))


def cst(*args: int) -> datetime:
    return datetime(*args, tzinfo=TZ)


def _problem(r: httpx.Response, field: str) -> dict:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert field in body["fields"], body
    return body


async def _transfer(runtime, when: datetime, **fields) -> str:
    who = await principal(runtime, "integration-12345")
    return await create_at(runtime, who, when, channel="12345", external_ref=f"E-{uuid.uuid4().hex[:10]}", **fields)


async def _act(runtime, username: str, number: str, action: str, when: datetime, **body) -> dict:
    who = await principal(runtime, username)
    return await lifecycle.perform(runtime, who, number, action, json.dumps(body).encode(), now=when)


async def _clocks(runtime, number: str) -> list:
    return await runtime.pool.fetch(
        """SELECT c.id, c.version, c.clock, c.assignment_id, c.due_at, c.warning_at, c.supervision_at, c.deadline
           FROM clocks c JOIN tickets t ON t.id = c.ticket_id WHERE t.number = $1 ORDER BY c.id""",
        number,
    )


@pytest.fixture(autouse=True)
async def redis_left_clean(runtime):
    """These examples arm escalation jobs for instants in March 2026, long past: leave none behind for the next
    session, whose clocks reuse the ids (as the worker tests' redis_clean does)."""
    yield
    await runtime.redis.flushdb()


# ---- 1, 2: the supported range, against the real server -------------------------------------------------------


@pytest.fixture
def served(settings, database):
    """`hotline serve` as a real process (one worker) on a free port against the test database."""
    from tests.scratch import free_port

    port = free_port()
    env = {
        **os.environ,
        "HOTLINE_DATABASE_URL": settings.database_url,
        "HOTLINE_REDIS_URL": settings.redis_url,
        "HOTLINE_SECRET_KEY": settings.secret_key,
        "HOTLINE_LOG_LEVEL": "WARNING",
        "HOTLINE_WEB_WORKERS": "1",
    }
    proc = subprocess.Popen(
        [HOTLINE, "serve", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            pytest.fail("hotline serve did not start within 60 s")
        yield url
    finally:
        # SIGTERM first; the looping server of the bug ignored it, so SIGKILL whatever is left of its group.
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def test_far_instants_are_refused_at_once_and_the_server_keeps_answering(served):
    """9999-12-31 used to put the worker into an endless loop (100% CPU, /healthz silent, SIGTERM ignored); year 1
    answered 500. Both are a quick 422 naming received_at, and the same process answers /healthz after them."""
    token = httpx.post(f"{served}/api/auth/token", json={"username": "agent", "password": PASSWORD}, timeout=10).json()[
        "access_token"
    ]
    headers = {"Authorization": f"Bearer {token}"}
    for text in (
        "9999-12-31T23:00:00+08:00",
        "0001-01-01T00:00:00+08:00",
        "2101-01-01T00:00:00+00:00",
        "1999-12-31T23:59:59+00:00",
    ):
        started = time.monotonic()
        r = httpx.get(f"{served}/api/sla/deadlines", params={"received_at": text}, headers=headers, timeout=5)
        assert time.monotonic() - started < 5
        body = _problem(r, "received_at")
        assert "2000-01-01" in body["fields"]["received_at"] and "2100-12-31" in body["fields"]["received_at"]
    assert httpx.get(f"{served}/healthz", timeout=2).status_code == 200
    # The edges themselves are inside.
    r = httpx.get(
        f"{served}/api/sla/deadlines", params={"received_at": "2100-12-31T10:00:00+00:00"}, headers=headers, timeout=5
    )
    assert r.status_code == 200 and r.json()["provisional"] is True


async def test_intake_refuses_an_upstream_deadline_outside_the_range(api):
    for text in ("9999-12-31T23:00:00+08:00", "0001-01-01T00:00:00+08:00", "2101-06-01T00:00:00+00:00"):
        body = ticket_body(channel="12345", external_ref=uuid.uuid4().hex, external_due_at=text)
        _problem(await api.post("integration-12345", "/api/tickets", json=body), "external_due_at")


# ---- 3: the upstream receipt -----------------------------------------------------------------------------------


async def test_a_transfers_upstream_receipt_is_stored_and_shown(api, runtime):
    upstream = (datetime.now(TZ) - timedelta(hours=3)).replace(microsecond=0)
    due = upstream + timedelta(days=10)
    body = ticket_body(
        channel="12345",
        external_ref=uuid.uuid4().hex,
        received_at=upstream.isoformat(),
        external_due_at=due.isoformat(),
    )
    r = await api.post("integration-12345", "/api/tickets", json=body)
    assert r.status_code == 201, r.text
    created = r.json()
    assert datetime.fromisoformat(created["upstream_received_at"]) == upstream
    assert datetime.fromisoformat(created["received_at"]) > upstream  # local receipt: now
    shown = (await api.get("dispatcher", f"/api/tickets/{created['number']}")).json()
    assert datetime.fromisoformat(shown["upstream_received_at"]) == upstream
    [create] = [e for e in shown["events"] if e["action"] == "create"]
    assert datetime.fromisoformat(create["upstream_received_at"]) == upstream
    # The unit's clocks start at local receipt, not upstream.
    assert shown["clocks"]["reply"]["started_at"] == shown["received_at"]
    stored = await runtime.pool.fetchval(
        "SELECT upstream_received_at FROM tickets WHERE number = $1", created["number"]
    )
    assert stored == upstream
    at = datetime.fromisoformat(shown["created_at"])
    listed = (
        await api.get(
            "dispatcher",
            "/api/tickets",
            params={"created_from": at.isoformat(), "created_to": (at + timedelta(microseconds=1)).isoformat()},
        )
    ).json()["items"]
    [item] = [i for i in listed if i["number"] == created["number"]]
    assert item["upstream_received_at"] == shown["upstream_received_at"]


async def test_a_bad_upstream_receipt_is_refused_by_name(api):
    now = datetime.now(TZ).replace(microsecond=0)

    def transfer(**fields):
        return ticket_body(channel="12345", external_ref=uuid.uuid4().hex, **fields)

    cases = [
        (transfer(received_at=(now + timedelta(hours=1)).isoformat()), "received_at"),  # after local receipt
        (transfer(received_at="9999-12-31T23:00:00+08:00"), "received_at"),
        (transfer(received_at="2026-11-30T09:00:00"), "received_at"),  # no offset
        (
            transfer(
                received_at=(now - timedelta(days=2)).isoformat(), external_due_at=(now - timedelta(days=3)).isoformat()
            ),
            "external_due_at",
        ),  # due before receipt
    ]
    for body, field in cases:
        _problem(await api.post("integration-12345", "/api/tickets", json=body), field)
    # Not a transfer: an agent's call has no upstream receipt.
    _problem(await api.post("agent", "/api/tickets", json=ticket_body(received_at=now.isoformat())), "received_at")


# ---- issue 16 item 7: an upstream deadline already past on arrival --------------------------------------------


async def test_a_transfer_already_past_its_upstream_deadline_fires_each_step_once_in_turn(runtime):
    """Accepted (a late transfer is still the citizen's case) as breached upstream: each clock gets its minimum
    (one working day) and its steps come one by one. Before, all six steps (two clocks x three) fell due at once."""
    received = cst(2026, 3, 2, 9, 0)
    number = await _transfer(
        runtime, received, received_at=cst(2026, 2, 20, 9, 0), external_due_at=cst(2026, 2, 27, 17, 30)
    )
    events = await runtime.pool.fetch(
        "SELECT action, payload FROM events e JOIN tickets t ON t.id = e.ticket_id "
        "WHERE t.number = $1 AND action = 'create'",
        number,
    )
    assert events[0]["payload"]["upstream_breached"] is True
    clocks = await _clocks(runtime, number)
    assert {c["clock"] for c in clocks} == {"sign", "reply"}
    for c in clocks:
        assert c["deadline"]["upstream_breached"] is True
        assert c["due_at"] == cst(2026, 3, 3, 17, 30)  # the next working day's close
        assert received < c["warning_at"] < c["due_at"] < c["supervision_at"]
    instants = sorted(
        {
            (c[at], c["id"], c["version"], step)
            for c in clocks
            for at, step in (("warning_at", "warning"), ("due_at", "overdue"), ("supervision_at", "supervision"))
        }
    )
    fired: list[str] = []
    for c in clocks:  # just after intake: nothing is due yet
        result = await exact_time.escalate_clock(
            runtime, c["id"], c["version"], "warning", now=received + timedelta(seconds=1)
        )
        assert result.state == "not_due" and not result.outcome.recorded
    for at, clock_id, version, step in instants:
        result = await exact_time.escalate_clock(runtime, clock_id, version, step, now=at)
        fired += [s.step for s in result.outcome.recorded]
        assert [s.step for s in result.outcome.recorded] == [step]  # exactly this one, at its instant
    steps = await runtime.pool.fetch(
        "SELECT clock, step FROM escalation_steps s JOIN tickets t ON t.id = s.ticket_id WHERE t.number = $1", number
    )
    assert sorted((s["clock"], s["step"]) for s in steps) == sorted(
        (clock, step) for clock in ("sign", "reply") for step in ("warning", "overdue", "supervision")
    )


# ---- 4: an extension against the upstream deadline ------------------------------------------------------------


async def test_an_extension_past_the_upstream_deadline_is_refused(runtime):
    # A consultation (2 working days: Wed Mar 4 17:30) whose upstream deadline is Fri Mar 13 17:00.
    received = cst(2026, 3, 2, 9, 0)
    number = await _transfer(runtime, received, kind="consultation", external_due_at=cst(2026, 3, 13, 17, 0))
    await _act(runtime, H, number, "sign", received + timedelta(hours=1))
    for body, field in (({"until": "2026-03-16"}, "until"), ({"working_days": 8}, "working_days")):
        with pytest.raises(Exception) as caught:
            await _act(runtime, H, number, "request-extension", received + timedelta(hours=2), reason="需调查", **body)
        assert status_of(caught.value)[0] == 422 and field in caught.value.fields  # type: ignore[attr-defined]
        assert "upstream" in caught.value.fields[field]  # type: ignore[attr-defined]
    # Up to the upstream deadline the dispatcher may grant it.
    await _act(
        runtime, H, number, "request-extension", received + timedelta(hours=2), reason="需调查", until="2026-03-12"
    )
    t = await _act(runtime, "dispatcher", number, "decide-extension", received + timedelta(hours=3), approve=True)
    assert datetime.fromisoformat(t["deadlines"]["reply"]) == cst(2026, 3, 12, 17, 30)


async def test_an_extension_to_a_far_year_is_refused_by_name(runtime):
    received = cst(2026, 3, 2, 9, 0)
    who = await principal(runtime, "agent")
    number = await create_at(runtime, who, received)
    await _act(runtime, H, number, "sign", received + timedelta(hours=1))
    for until in ("5000-01-03", "2027-06-01"):  # outside the supported years; more than 60 working days on
        started = time.monotonic()
        with pytest.raises(Exception) as caught:
            await _act(runtime, H, number, "request-extension", received + timedelta(hours=2), reason="x", until=until)
        assert time.monotonic() - started < 5
        assert status_of(caught.value)[0] == 422 and "until" in caught.value.fields  # type: ignore[attr-defined]
    assert not await runtime.pool.fetchval(
        "SELECT count(*) FROM extension_requests e JOIN tickets t ON t.id = e.ticket_id WHERE t.number = $1", number
    )


# ---- 5: a re-dispatch after the upstream deadline -------------------------------------------------------------


async def test_a_redispatch_after_the_upstream_deadline_gives_the_new_unit_its_minimum(runtime):
    """The rule: the new unit's clocks get one working day (or the policy's limit if shorter) instead of starting
    overdue; the event records the upstream breach, charged to the unit that held the ticket when it passed."""
    received = cst(2026, 3, 2, 9, 0)
    number = await _transfer(runtime, received, external_due_at=cst(2026, 3, 4, 17, 30))
    await _act(runtime, H, number, "sign", received + timedelta(hours=1))
    moved = cst(2026, 3, 5, 10, 0)  # the upstream deadline passed yesterday, at 320612-bureau
    t = await _act(runtime, "dispatcher", number, "dispatch", moved, unit="320614-bureau")
    assert datetime.fromisoformat(t["deadlines"]["reply"]) == cst(2026, 3, 6, 17, 30)
    assert datetime.fromisoformat(t["deadlines"]["sign"]) == cst(2026, 3, 6, 17, 30)
    new = [c for c in await _clocks(runtime, number) if c["due_at"] > moved]
    assert len(new) == 2 and all(c["deadline"]["upstream_breached"] for c in new)
    assert all(moved < c["warning_at"] < c["due_at"] for c in new)
    payload = await runtime.pool.fetchval(
        "SELECT payload FROM events e JOIN tickets t ON t.id = e.ticket_id WHERE t.number = $1 AND action = 'dispatch'",
        number,
    )
    assert payload["upstream_breach"] == {
        "upstream_due_at": cst(2026, 3, 4, 17, 30).astimezone(UTC).isoformat(),
        "charged_to": "320612-bureau",
    }
    # The earlier unit's own reply clock stood at the upstream deadline: its breach is its own record.
    [old_reply] = [c for c in await _clocks(runtime, number) if c["clock"] == "reply" and c not in new]
    assert old_reply["due_at"] == cst(2026, 3, 4, 17, 30)


# ---- 6: a capped transfer received outside office hours --------------------------------------------------------


async def test_a_transfer_with_no_working_time_left_warns_at_receipt(api, runtime):
    received = cst(2026, 3, 6, 20, 0)  # Friday evening; upstream due Monday at the opening: no working time at all
    number = await _transfer(runtime, received, external_due_at=cst(2026, 3, 9, 8, 30))
    for c in await _clocks(runtime, number):
        assert c["warning_at"] == received < c["due_at"] == cst(2026, 3, 9, 8, 30)
    detail = (await api.get("dispatcher", f"/api/tickets/{number}")).json()
    assert "no working time" in detail["clocks"]["reply"]["explanation"]["warning_reason"]
