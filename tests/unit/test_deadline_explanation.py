"""A deadline's explanation typed (hotline.tickets.deadline_explanation): the Struct encodes to exactly the JSON
sla's plain explanation does, byte for byte, for plain, capped, provisional, extended, suspended and resumed clocks,
from the deadline just computed and from its stored form read back with and without its policy row."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import pytest

import sla
from hotline.tickets.deadline_explanation import DeadlineExplanation, typed

DATA = Path(__file__).resolve().parents[2] / "config" / "data"
START = datetime(2026, 9, 30, 2, 0, tzinfo=UTC)  # before the National Day holidays: days skipped, make-up counted


@pytest.fixture(scope="module")
def calendar() -> sla.WorkCalendar:
    return sla.build_calendar(tomllib.loads((DATA / "calendar.toml").read_text("utf-8")))


@pytest.fixture(scope="module")
def policies() -> sla.PolicySet:
    return sla.PolicySet.from_config(tomllib.loads((DATA / "sla_policies.toml").read_text("utf-8")))


def deadlines(policies: sla.PolicySet, calendar: sla.WorkCalendar) -> list[sla.Deadline]:
    def compute(**kw: object) -> sla.Deadline:
        args = {"clock": "reply", "start": START, "channel": "96196", "kind": "complaint", "urgent": False, **kw}
        return sla.compute_deadline(policies, calendar, **args)  # type: ignore[arg-type]

    plain = compute()
    extended = sla.extend_deadline(plain, calendar, working_days=3)
    suspended = sla.suspend_deadline(extended, calendar, suspended_at=START + timedelta(days=1))
    resumed = sla.resume_deadline(suspended, calendar, resumed_at=START + timedelta(days=2))
    return [
        plain,
        compute(clock="sign", urgent=True),
        compute(channel="12345", cap=START + timedelta(days=3)),  # capped upstream
        compute(channel="12345", cap=START - timedelta(days=1)),  # breached upstream
        compute(start=datetime(2031, 3, 3, 2, 0, tzinfo=UTC)),  # a year without official data: provisional
        extended,
        suspended,
        resumed,
    ]


def test_the_typed_explanation_is_the_same_json(policies, calendar):
    for d in deadlines(policies, calendar):
        stored = d.to_dict()
        without_row = {**stored, "policy": None}  # stored before deadlines kept their row
        for explanation in (
            d.explain(calendar),
            sla.Deadline.from_dict(stored).explain(calendar),
            sla.Deadline.from_dict(without_row).explain(calendar),
            sla.Deadline.from_dict(stored).explain(),
        ):
            assert msgspec.json.encode(typed(explanation)) == msgspec.json.encode(explanation)


def test_a_key_sla_adds_without_its_type_is_refused(policies, calendar):
    explanation = dict(deadlines(policies, calendar)[0].explain(calendar))
    with pytest.raises(msgspec.ValidationError):
        typed({**explanation, "new_fact": 1})
    assert set(explanation) == set(DeadlineExplanation.__struct_encode_fields__)
