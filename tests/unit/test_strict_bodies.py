"""The offending fields of a refused body, found from its structure (hotline.web.strict_bodies): by path, whatever
msgspec's messages say."""

from __future__ import annotations

from hotline.policies.documents import SlaPolicyDocument
from hotline.tickets.bodies import DispatchBody, ExtensionBody
from hotline.tickets.intake import TicketIn
from hotline.web.strict_bodies import offending_fields

ROW = {
    "id": "reply-help",
    "clock": "reply",
    "channel": "*",
    "kind": "help",
    "urgent": "*",
    "limit": 10,
    "unit": "working_days",
}
CALL = {"channel": "96196", "kind": "complaint", "title": "出租车拒载", "content": "拒载"}


def test_a_body_that_fits_has_no_offending_field():
    assert offending_fields(CALL, TicketIn) == {}
    assert offending_fields({"policy": [ROW]}, SlaPolicyDocument) == {}


def test_each_field_is_named_by_its_path():
    assert set(offending_fields({**CALL, "caller": {"phone": "not-a-phone"}}, TicketIn)) == {"caller.phone"}
    bad = {"policy": [ROW, {**ROW, "limit": "five"}, {**ROW, "urgent": "sometimes"}]}
    assert set(offending_fields(bad, SlaPolicyDocument)) == {"policy[1].limit", "policy[2].urgent"}


def test_missing_required_and_unknown_fields_are_named_themselves():
    assert set(offending_fields({"note": "x"}, DispatchBody)) == {"unit"}
    assert set(offending_fields({k: v for k, v in CALL.items() if k != "title"}, TicketIn)) == {"title"}
    # A Struct that forbids unknown keys: the key itself, inside its parent.
    bad = {"policy": [ROW], "defaults": {"warning_ratio": 0.8, "x": 1}}
    assert offending_fields(bad, SlaPolicyDocument) == {"defaults.x": "not a field of this object"}


def test_numbers_and_booleans_sent_as_text_are_refused():
    assert set(offending_fields({**CALL, "urgent": "true"}, TicketIn)) == {"urgent"}
    assert set(offending_fields({"reason": "r", "working_days": "3", "expected_version": "2"}, ExtensionBody)) == {
        "working_days",
        "expected_version",
    }


def test_a_check_of_a_whole_object_or_the_wrong_kind_of_value_names_that_value():
    # Location refuses a coordinate sent as text in its own check (__post_init__): the location is named.
    assert set(offending_fields({**CALL, "location": {"lat": "32.0", "lng": 120.8}}, TicketIn)) == {"location"}
    assert set(offending_fields(["unit"], DispatchBody)) == {"body"}
