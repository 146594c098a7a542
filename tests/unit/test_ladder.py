"""One escalation ladder (sla.STEP_INSTANTS): what the console shows, what the SQL records and what the schema
allows all come from it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sla
from hotline.escalation import clock_store, ladder, steps
from hotline.policies import recompute
from hotline.tickets import writer

SCHEMA = (Path(__file__).resolve().parents[2] / "hotline" / "infra" / "schema.sql").read_text()


def test_the_schema_allows_exactly_the_ladders_steps() -> None:
    for name in ("clocks_next_step_check", "escalation_steps_step_check"):
        line = next(x for x in SCHEMA.splitlines() if name in x)
        assert tuple(re.findall(r"'(\w+)'::text", line)) == sla.STEPS, line


def test_step_at_reads_the_instants_in_ladder_order() -> None:
    t = datetime(2031, 3, 3, 9, tzinfo=UTC)
    instants = {"warning_at": t, "due_at": t + timedelta(hours=1), "supervision_at": t + timedelta(hours=2)}
    seen = [sla.step_at(t + timedelta(minutes=m), instants) for m in (-1, 0, 59, 60, 119, 120, 10_000)]
    assert seen == [None, "warning", "warning", "overdue", "overdue", "supervision", "supervision"]
    assert sla.step_at(t, {**instants, "warning_at": None}) is None
    assert sla.step_at(t + timedelta(hours=1), {}) is None


def test_the_sql_names_every_step_with_its_instant_from_one_place() -> None:
    pairs = [f"'{step}', d.{column}" for step, column in sla.STEP_INSTANTS]
    assert all(p in steps.RECORD_SQL for p in pairs)
    assert "{" not in steps.RECORD_SQL.replace("{picked}", "")  # every ladder placeholder filled
    assert all(f"'{step}', n.{column}" in recompute.UPDATE_CLOCKS_SQL for step, column in sla.STEP_INSTANTS)
    assert ladder.instant_of("f.step", "f") in steps.RECORD_SQL
    first_step, first_column = sla.STEP_INSTANTS[0]
    assert f"'{first_step}', k.{first_column}" in writer.INSERT_SQL
    assert f"'{first_step}', $7" in clock_store.INSERT_CLOCK
