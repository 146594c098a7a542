"""Open311 clients: each test calls from an address of its own, so the per-client rate limit (as /public's) never
carries over from another test; the demo API key is the one `hotline seed --demo` derives from the password."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.conftest import PASSWORD

BASE = "/open311/v2"
DEMO_KEY = f"open311-{PASSWORD}"
_addresses = itertools.count(1)

# The spec's field lists (wiki.open311.org/GeoReport_v2), in its order.
SERVICE_FIELDS = ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]
ATTRIBUTE_FIELDS = [
    "variable",
    "code",
    "datatype",
    "required",
    "datatype_description",
    "order",
    "description",
    "values",
]
REQUEST_FIELDS = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]
CREATED_FIELDS = ["service_request_id", "service_notice", "account_id"]
DISCOVERY_FIELDS = ["changeset", "contact", "key_service", "endpoints"]
ENDPOINT_FIELDS = ["specification", "url", "changeset", "type", "formats"]


@pytest.fixture
async def o311(client: Any) -> AsyncIterator[httpx.AsyncClient]:
    n = next(_addresses)
    transport = httpx.ASGITransport(app=client.app, client=(f"10.31.{n // 250}.{n % 250 + 1}", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


def report(**fields: Any) -> dict[str, Any]:
    """A POST's form: a taxi complaint in 通州区 with a location and the caller's name and phone."""
    body: dict[str, Any] = {
        "api_key": DEMO_KEY,
        "service_code": "taxi",
        "lat": "32.0123",
        "long": "120.8567",
        "address_string": "通州区万达广场东门",
        "description": "出租车拒载\n晚上九点在万达广场东门，出租车司机拒载去火车站。",
        "attribute[kind]": "complaint",
        "attribute[territory]": "320612",
        "first_name": "小明",
        "last_name": "王",
        "phone": "13900001111",
        "email": "wang@example.org",
    }
    body.update(fields)
    return {k: v for k, v in body.items() if v is not None}
