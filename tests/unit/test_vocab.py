"""One set of statuses and roles (hotline/vocab.py), held equal to the schema, the console and the action table."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hotline import vocab
from hotline.tickets import lifecycle
from hotline.web.console import labels

SCHEMA = Path(__file__).resolve().parents[2] / "hotline" / "infra" / "schema.sql"


def test_the_schema_allows_exactly_the_roles() -> None:
    check = next(line for line in SCHEMA.read_text().splitlines() if "users_role_check" in line)
    assert tuple(re.findall(r"'(\w+)'::text", check)) == vocab.ROLES


def test_the_schema_the_console_and_the_citizen_page_know_every_closure() -> None:
    from hotline.tickets import citizen

    check = next(line for line in SCHEMA.read_text().splitlines() if "tickets_closure_check" in line)
    assert tuple(re.findall(r"'(\w+)'::text", check)) == vocab.CLOSURES
    assert tuple(labels.CLOSURE) == vocab.CLOSURES
    assert set(citizen.CLOSURE_TEXT) == set(vocab.CLOSURES)


def test_the_console_names_every_status_and_every_staff_role() -> None:
    assert set(labels.STATUS) == set(vocab.STATUSES)
    assert vocab.STAFF_ROLES <= set(labels.ROLE)


def test_every_action_starts_from_known_statuses_and_is_given_to_known_roles() -> None:
    for act in lifecycle.ACTIONS.values():
        assert act.statuses <= set(vocab.STATUSES), act.name
        assert act.roles <= set(vocab.ROLES), act.name
    assert not any(vocab.CLOSED in act.statuses for act in lifecycle.ACTIONS.values())


def test_the_role_sets_nest_as_the_rules_say() -> None:
    assert vocab.READER_ROLES < vocab.DISPATCHING_ROLES < vocab.CALLBACK_ROLES < vocab.STAFF_ROLES < set(vocab.ROLES)
    assert vocab.INTEGRATION not in vocab.STAFF_ROLES and vocab.HANDLER not in vocab.CALLBACK_ROLES


def test_an_action_that_sets_a_column_outside_the_projection_fails_instead_of_dropping_it() -> None:
    assert lifecycle.projection_updates({"unit": "u", "closed_at": None}) == {"unit": "u", "closed_at": None}
    with pytest.raises(ValueError, match="status"):
        lifecycle.projection_updates({"unit": "u", "status": "closed"})
