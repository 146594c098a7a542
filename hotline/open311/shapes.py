"""The Open311 GeoReport v2 answers, field for field as the spec names them (wiki.open311.org/GeoReport_v2 and
/Service_Discovery). JSON follows the spec's Spark convention: a list answer is a JSON array of its items, an
absent value is null; hotline.open311.xml writes the same Structs as the spec's XML."""

from __future__ import annotations

import msgspec

SPEC = "http://wiki.open311.org/GeoReport_v2"


class Endpoint(msgspec.Struct):
    specification: str
    url: str
    changeset: str
    type: str  # production | test
    formats: list[str]


class Discovery(msgspec.Struct):
    changeset: str
    contact: str
    key_service: str
    endpoints: list[Endpoint]


class Service(msgspec.Struct):
    service_code: str
    service_name: str
    description: str
    metadata: bool
    type: str  # realtime | batch | blackbox
    keywords: str
    group: str


class AttributeValue(msgspec.Struct):
    key: str
    name: str


class Attribute(msgspec.Struct):
    variable: bool
    code: str
    datatype: str  # string | number | datetime | text | singlevaluelist | multivaluelist
    required: bool
    datatype_description: str | None
    order: int
    description: str
    values: list[AttributeValue]


class ServiceDefinition(msgspec.Struct):
    service_code: str
    attributes: list[Attribute]


class CreatedRequest(msgspec.Struct):
    """A POST's answer: realtime, so the id at once and never a token."""

    service_request_id: str
    service_notice: str | None
    account_id: str | None


class ServiceRequest(msgspec.Struct):
    """A service request as GET requests answers it: status, the unit's reply and the dates; never the caller."""

    service_request_id: str
    status: str  # open | closed
    status_notes: str | None
    service_name: str | None
    service_code: str | None
    description: str | None
    agency_responsible: str | None
    service_notice: str | None
    requested_datetime: str
    updated_datetime: str
    expected_datetime: str | None
    address: str | None
    address_id: str | None
    zipcode: str | None
    lat: float | None
    long: float | None
    media_url: str | None


class Open311Error(msgspec.Struct):
    """One error of the answer's array: `code` is the HTTP status sent with it."""

    code: int
    description: str
