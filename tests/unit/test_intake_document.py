"""The intake body as the OpenAPI document describes it: a coordinate is one JSON number in range, although the
Struct also admits text so that it can refuse "32.0" by name (Litestar converts bodies leniently)."""

from __future__ import annotations

import msgspec
import pytest

from config.settings import Settings
from hotline.tickets.intake import Location
from hotline.web.app import create_app


def test_location_is_documented_as_numbers_in_range() -> None:
    app = create_app(Settings.from_env({"HOTLINE_SECRET_KEY": "a-key-of-this-install-only-0123456789"}))
    location = app.openapi_schema.to_schema()["components"]["schemas"]["Location"]
    assert location["properties"] == {
        "lat": {"type": "number", "minimum": -90, "maximum": 90},
        "lng": {"type": "number", "minimum": -180, "maximum": 180},
    }
    assert sorted(location["required"]) == ["lat", "lng"]


def test_location_refuses_text_and_out_of_range_whatever_the_document_says() -> None:
    assert msgspec.convert({"lat": 32.0, "lng": 120.9}, Location) == Location(lat=32.0, lng=120.9)
    with pytest.raises(msgspec.ValidationError, match="location.lat must be a JSON number"):
        msgspec.convert({"lat": "32.0", "lng": 120.9}, Location)
    with pytest.raises(msgspec.ValidationError, match="<= 90"):
        msgspec.convert({"lat": 91, "lng": 120.9}, Location)
    with pytest.raises(msgspec.ValidationError, match=">= -180"):
        msgspec.convert({"lat": 0, "lng": -181}, Location)
