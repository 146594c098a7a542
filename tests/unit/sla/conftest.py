"""Fixtures for the pure sla/ tests: the shipped calendar and policies, read from config/data like the app does."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

import sla

DATA = Path(__file__).resolve().parents[3] / "config" / "data"
CHANNELS = ("96196", "12345", "12328", "12319", "web")
KINDS = ("consultation", "help", "complaint", "report", "suggestion", "praise")


def load(name: str) -> dict[str, Any]:
    return tomllib.loads((DATA / name).read_text("utf-8"))


@pytest.fixture(scope="session")
def calendar() -> sla.WorkCalendar:
    return sla.build_calendar(load("calendar.toml"))


@pytest.fixture(scope="session")
def policies() -> sla.PolicySet:
    return sla.PolicySet.from_config(load("sla_policies.toml"), channels=CHANNELS, kinds=KINDS)
