"""Migration 0016: deadlines stored whole (with an `explanation`, before the calendar's part was split out into
`explained`) are rewritten into the current shape, and read back with the explanation they were stored with."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sla
from sla.explain import FACT_KEYS

MIGRATION = Path(__file__).resolve().parents[2] / "hotline" / "infra" / "migrations" / "0016_deadline_explained.sql"


async def _clocks(runtime: Any, number: str) -> dict[str, Any]:
    """The ticket's clocks by name: (clock id, deadline as stored)."""
    rows = await runtime.pool.fetch(
        "SELECT c.id, c.clock, c.deadline FROM clocks c JOIN tickets t ON t.id = c.ticket_id WHERE t.number = $1",
        number,
    )
    return {r["clock"]: (r["id"], dict(r["deadline"])) for r in rows}


async def _store(runtime: Any, clock_id: int, deadline: dict[str, Any]) -> None:
    await runtime.pool.execute("UPDATE clocks SET deadline = $2 WHERE id = $1", clock_id, deadline)


def _without(d: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in d.items() if k != key}


async def test_deadlines_stored_whole_are_rewritten_into_the_current_shape(api: Any, runtime: Any) -> None:
    assert await runtime.pool.fetchval("SELECT 1 FROM schema_migrations WHERE version = $1", MIGRATION.stem) == 1
    first, second = (await api.create())["number"], (await api.create())["number"]
    (reply_id, reply), (sign_id, sign) = (
        (await _clocks(runtime, first))["reply"],
        (await _clocks(runtime, first))["sign"],
    )
    other_id, other = (await _clocks(runtime, second))["reply"]
    assert all("explained" in d and "explanation" not in d for d in (reply, sign, other))

    # The old shape: the explanation whole, no `explained`. Its calendar facts are marked, to show that what is
    # read back afterwards comes from them and was not recomputed.
    explanation = sla.Deadline.from_dict(reply).explain()
    explanation.update(rule="as computed then", holidays_skipped=["2026-10-01"])
    await _store(runtime, reply_id, {**_without(reply, "explained"), "explanation": explanation})
    # Both keys (a row half-way): only the stale copy goes. A null explanation: the key goes, nothing else.
    await _store(runtime, sign_id, {**sign, "explanation": {"rule": "stale"}})
    await _store(runtime, other_id, {**_without(other, "explained"), "explanation": None})

    await runtime.pool.execute(MIGRATION.read_text(encoding="utf-8"))

    migrated = (await _clocks(runtime, first))["reply"][1]
    assert "explanation" not in migrated
    assert migrated["explained"] == {key: explanation[key] for key in FACT_KEYS}
    assert _without(migrated, "explained") == _without(reply, "explained")
    read = sla.Deadline.from_dict(migrated)
    assert read.explain() == explanation  # the explanation as stored, rebuilt from its calendar part
    assert read.explain()["holidays_skipped"] == ["2026-10-01"]
    assert (await _clocks(runtime, first))["sign"][1] == sign

    nulled = (await _clocks(runtime, second))["reply"][1]
    assert "explanation" not in nulled and "explained" not in nulled
    assert sla.Deadline.from_dict(nulled).explain()["calendar"]["name"] is None  # explained from its fields alone
