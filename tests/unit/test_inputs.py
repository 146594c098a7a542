"""hotline.inputs: the one `limit` rule and the one cursor format every list uses, and the instant range."""

from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline import inputs
from hotline.errors import InvalidInput

instants = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 12, 31), timezones=st.just(UTC)).map(
    lambda d: d.astimezone(timezone(timedelta(hours=8)))
)
ids = st.integers(min_value=1, max_value=2**63 - 1)


def _raw(values: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


@given(instants, ids)
def test_a_cursor_gives_back_what_it_was_made_of(moment: datetime, row_id: int) -> None:
    token = inputs.encode_cursor(moment, row_id)
    assert inputs.decode_cursor(token, "instant", "id") == (moment, row_id)
    assert inputs.decode_cursor(token, "instant?", "id") == (moment, row_id)
    assert "=" not in token and "/" not in token and "+" not in token  # safe in a query string as it is


@given(ids)
def test_an_id_cursor_and_a_null_sort_key(row_id: int) -> None:
    assert inputs.decode_cursor(inputs.encode_cursor(row_id), "id") == (row_id,)
    assert inputs.decode_cursor(inputs.encode_cursor(None, row_id), "instant?", "id") == (None, row_id)


@pytest.mark.parametrize(
    ("token", "shape"),
    [
        ("", ("id",)),
        ("zzz", ("id",)),
        ("12345", ("id",)),  # a bare id, the old format of some lists
        ("1700000000000000-5", ("instant", "id")),  # the old escalation format
        (_raw([7]), ("instant", "id")),  # another list's cursor
        (_raw([None, 7]), ("instant", "id")),  # a null where the key may not be null
        (_raw(["2026-11-01T00:00:00", 7]), ("instant", "id")),  # naive
        (_raw(["0001-01-01T00:00:00+14:00", 7]), ("instant", "id")),  # out of range
        (_raw(["2026-11-01T00:00:00+00:00", "7"]), ("instant", "id")),  # id as text
        (_raw(["2026-11-01T00:00:00+00:00", 2**63]), ("instant", "id")),  # beyond int8
        (_raw([0]), ("id",)),
        (_raw([True]), ("id",)),
        (_raw({"a": 1}), ("id",)),
        ("A" * 201, ("id",)),
    ],
)
def test_a_cursor_this_service_did_not_issue_is_refused(token: str, shape: tuple[inputs.Part, ...]) -> None:
    with pytest.raises(ValueError):
        inputs.decode_cursor(token, *shape)
    with pytest.raises(InvalidInput) as raised:
        inputs.read_cursor(token or "x", *shape)
    assert raised.value.fields == {"cursor": inputs.NOT_ISSUED}


def test_a_bad_cursor_and_a_bad_limit_are_named_in_one_422() -> None:
    fields = inputs.limit_fields(0, 500)
    assert inputs.read_cursor("zzz", "id", fields=fields) is None
    with pytest.raises(InvalidInput) as raised:
        inputs.raise_fields(fields)
    assert raised.value.fields == {"limit": "between 1 and 500", "cursor": inputs.NOT_ISSUED}
    assert inputs.read_cursor(None, "id") is None


@pytest.mark.parametrize(
    ("limit", "maximum", "ok"),
    [(1, 200, True), (200, 200, True), (0, 200, False), (201, 200, False), (500, 500, True), (-1, 500, False)],
)
def test_one_limit_rule(limit: int, maximum: int, ok: bool) -> None:
    assert (inputs.limit_fields(limit, maximum) == {}) is ok
    if ok:
        inputs.require_limit(limit, maximum)
    else:
        with pytest.raises(InvalidInput):
            inputs.require_limit(limit, maximum)


def test_instants_outside_the_service_range_are_named() -> None:
    assert inputs.instant_in_range(date(2000, 1, 1)) and not inputs.instant_in_range(date(1999, 12, 31))
    assert inputs.instant_in_range(datetime(2100, 12, 31, 23, 59, tzinfo=UTC))
    assert not inputs.instant_in_range(datetime(2101, 1, 1, tzinfo=UTC))
    assert inputs.out_of_range({"a": date(1990, 1, 1), "b": None, "c": date(2030, 1, 1)}) == {"a": inputs.INSTANT_RANGE}
    assert inputs.is_int64(2**63 - 1) and not inputs.is_int64(2**63) and not inputs.is_int64(True)
