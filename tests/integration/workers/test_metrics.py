"""/metrics tells an operator whether the safety net keeps up: the escalation backlog and scan lag from PostgreSQL,
the job queue from Redis; the same figures from any API process."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hotline.escalation import catch_up
from tests.integration.workers.support import arm_next_steps, past_tickets

UTC = UTC


def parse(text: str) -> dict[str, float]:
    """name -> value of a Prometheus text exposition."""
    pairs = (line.rpartition(" ") for line in text.splitlines() if line and not line.startswith("#"))
    return {name: float(value) for name, _, value in pairs}


async def _scrape(client):
    r = await client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    return parse(r.text)


async def test_metrics_show_the_escalation_backlog_its_lag_and_the_queue_until_the_sweep_clears_them(
    client, runtime, redis_clean
):
    await catch_up.sweep(runtime, now=datetime.now(UTC), grace=timedelta(0))  # start from nothing due
    before = await _scrape(client)
    assert before["hotline_steps_due"] == 0 and before["hotline_job_queue_depth"] == 0
    assert "process_resident_memory_bytes" in before  # the process's own metrics are still there

    ids = await past_tickets(runtime, 4, days_ago=10)
    armed = await arm_next_steps(runtime, ids)
    m = await _scrape(client)
    assert m["hotline_steps_due"] == 8  # a sign and a reply clock each, their next step long due
    assert m["hotline_oldest_due_seconds"] > 5 * 86400
    assert m["hotline_job_queue_depth"] == armed == 8
    assert m["hotline_report_changes_queued"] >= before["hotline_report_changes_queued"] + 4

    await catch_up.sweep(runtime, now=datetime.now(UTC), grace=timedelta(0))
    after = await _scrape(client)
    assert after["hotline_steps_due"] == 0 and after["hotline_oldest_due_seconds"] == 0
    assert after["hotline_steps_untold"] == 0  # the sweep also wrote their notifications
