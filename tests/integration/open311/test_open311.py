"""Open311 GeoReport v2 at /open311/v2/: the spec's field lists in JSON and XML, a round trip POST -> GET in both
formats (XML read with xml.etree), the spec's errors, filters and paging, and nothing personal in any answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree as ET

from tests.integration.open311.conftest import (
    ATTRIBUTE_FIELDS,
    BASE,
    CREATED_FIELDS,
    DISCOVERY_FIELDS,
    ENDPOINT_FIELDS,
    REQUEST_FIELDS,
    SERVICE_FIELDS,
    report,
)

PERSONAL = ("王", "小明", "13900001111", "1111", "wang@example.org")


def xml_of(response) -> ET.Element:
    assert response.headers["content-type"] == "text/xml; charset=utf-8", response.headers
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return ET.fromstring(response.content)


def fields_of(element: ET.Element) -> list[str]:
    return [child.tag for child in element]


async def test_discovery_names_the_endpoint_and_both_formats(o311):
    r = await o311.get(f"{BASE}/discovery.json")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json; charset=utf-8"
    body = r.json()
    assert list(body) == DISCOVERY_FIELDS and list(body["endpoints"][0]) == ENDPOINT_FIELDS
    endpoint = body["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2"
    assert set(endpoint["formats"]) == {"text/xml", "application/json"}
    root = xml_of(await o311.get(f"{BASE}/discovery.xml"))
    assert root.tag == "discovery" and fields_of(root) == DISCOVERY_FIELDS
    formats = root.find("endpoints/endpoint/formats")
    assert formats is not None and [f.text for f in formats.findall("format")] == ["text/xml", "application/json"]


async def test_one_service_per_category_with_its_definition(o311, runtime):
    services = (await o311.get(f"{BASE}/services.json")).json()
    assert {s["service_code"] for s in services} == set(runtime.names.categories)
    taxi = next(s for s in services if s["service_code"] == "taxi")
    assert list(taxi) == SERVICE_FIELDS
    assert taxi["service_name"] == "出租汽车" and taxi["metadata"] is True and taxi["type"] == "realtime"
    root = xml_of(await o311.get(f"{BASE}/services.xml"))
    assert root.tag == "services" and len(root.findall("service")) == len(services)
    first = root.find("service")
    assert first is not None and fields_of(first) == SERVICE_FIELDS and first.findtext("metadata") == "true"

    definition = (await o311.get(f"{BASE}/services/taxi.json")).json()
    assert list(definition) == ["service_code", "attributes"] and definition["service_code"] == "taxi"
    by_code = {a["code"]: a for a in definition["attributes"]}
    assert list(by_code) == ["kind", "territory", "urgent"]
    assert all(list(a) == ATTRIBUTE_FIELDS and a["datatype"] == "singlevaluelist" for a in by_code.values())
    assert by_code["kind"]["required"] is True and by_code["territory"]["required"] is False
    assert {v["key"]: v["name"] for v in by_code["kind"]["values"]}["complaint"] == "投诉"
    assert {v["key"] for v in by_code["territory"]["values"]} == set(runtime.names.territories)
    assert [a["order"] for a in definition["attributes"]] == [1, 2, 3]
    root = xml_of(await o311.get(f"{BASE}/services/taxi.xml"))
    assert root.tag == "service_definition" and root.findtext("service_code") == "taxi"
    attributes = root.findall("attributes/attribute")
    assert [a.findtext("code") for a in attributes] == ["kind", "territory", "urgent"]
    assert fields_of(attributes[0]) == ATTRIBUTE_FIELDS
    assert "投诉" in [v.findtext("name") for v in attributes[0].findall("values/value")]


async def test_round_trip_form_post_json_then_xml(o311, api):
    r = await o311.post(f"{BASE}/requests.json", data=report())
    assert r.status_code == 201, r.text
    created = r.json()
    assert len(created) == 1 and list(created[0]) == CREATED_FIELDS
    number = created[0]["service_request_id"]
    assert number.startswith("web-") and "答复" in created[0]["service_notice"]

    # The ticket itself: a web ticket logged by the Open311 account, routed by category and territory.
    ticket = (await api.get("dispatcher", f"/api/tickets/{number}")).json()
    assert ticket["channel"] == "web" and ticket["category"] == "taxi" and ticket["kind"] == "complaint"
    assert ticket["unit"] == "320612-bureau" and ticket["address"] == "通州区万达广场东门"
    assert ticket["location"] == {"lat": 32.0123, "lng": 120.8567} and ticket["title"] == "出租车拒载"
    assert ticket["caller"]["name"] == "王 小明"  # kept for the callback

    got = (await o311.get(f"{BASE}/requests/{number}.json")).json()
    assert len(got) == 1 and list(got[0]) == REQUEST_FIELDS
    one = got[0]
    assert one["service_request_id"] == number and one["status"] == "open" and one["service_code"] == "taxi"
    assert one["agency_responsible"] == "通州区交通运输局" and one["service_name"] == "出租汽车"
    assert one["lat"] == 32.0123 and one["long"] == 120.8567 and one["address"] == "通州区万达广场东门"
    assert one["status_notes"] is None
    assert one["requested_datetime"].endswith("+08:00") and datetime.fromisoformat(one["requested_datetime"])
    assert datetime.fromisoformat(one["expected_datetime"]) == datetime.fromisoformat(ticket["deadlines"]["reply"])

    await api.act("handler-320612-bureau", number, "sign")
    await api.act("handler-320612-bureau", number, "reply", content="已约谈驾驶员并处罚", outcome="resolved")
    r = await o311.get(f"{BASE}/requests/{number}.xml")
    root = xml_of(r)
    assert root.tag == "service_requests"
    request = root.find("request")
    assert request is not None and fields_of(request) == REQUEST_FIELDS
    assert request.findtext("service_request_id") == number and request.findtext("status") == "open"
    assert request.findtext("status_notes") == "已约谈驾驶员并处罚"
    assert request.findtext("agency_responsible") == "通州区交通运输局"
    assert float(request.findtext("lat") or "nan") == 32.0123 and request.findtext("zipcode") == ""
    assert not any(p in r.text for p in PERSONAL)


async def test_round_trip_xml_post_then_json_and_closed(o311, api):
    r = await o311.post(
        f"{BASE}/requests.xml",
        data=report(lat=None, long=None, service_code="bus", **{"attribute[territory]": "320685"}),
    )
    assert r.status_code == 201, r.text
    request = xml_of(r).find("request")
    assert request is not None and fields_of(request) == CREATED_FIELDS
    number = request.findtext("service_request_id")
    assert number and request.findtext("account_id") == ""
    await api.act("handler-320685-bureau", number, "sign")
    await api.act("handler-320685-bureau", number, "reply", content="已批评教育驾驶员", outcome="resolved")
    await api.act("agent", number, "callback", contacted=True, resolved="resolved", satisfaction="satisfied")
    r = await o311.get(f"{BASE}/requests/{number}.json")
    one = r.json()[0]
    assert one["status"] == "closed" and one["status_notes"] == "已批评教育驾驶员"
    assert one["lat"] is None and one["address"] == "通州区万达广场东门" and one["service_code"] == "bus"
    closed = (await api.get("dispatcher", f"/api/tickets/{number}")).json()["closed_at"]
    assert datetime.fromisoformat(one["updated_datetime"]) == datetime.fromisoformat(closed).replace(microsecond=0)
    assert not any(p in r.text for p in PERSONAL)


async def test_json_post_with_attribute_object(o311):
    body = report(attribute={"kind": "suggestion", "urgent": True})
    body = {k: v for k, v in body.items() if not k.startswith("attribute[")}
    r = await o311.post(f"{BASE}/requests.json", json={**body, "lat": 32.01, "long": 120.85})
    assert r.status_code == 201, r.text
    number = r.json()[0]["service_request_id"]
    one = (await o311.get(f"{BASE}/requests/{number}.json")).json()[0]
    assert one["lat"] == 32.01 and one["status"] == "open"


async def test_errors_are_the_spec_array_in_both_formats(o311):
    # A missing api_key: 403.
    r = await o311.post(f"{BASE}/requests.json", data=report(api_key=None))
    assert r.status_code == 403 and r.headers["content-type"] == "application/json; charset=utf-8"
    errors = r.json()
    assert isinstance(errors, list) and [list(e) for e in errors] == [["code", "description"]]
    assert errors[0]["code"] == 403 and "api_key" in errors[0]["description"]
    r = await o311.post(f"{BASE}/requests.xml", data=report(api_key="open311-wrong"))
    root = xml_of(r)
    assert r.status_code == 403 and root.tag == "errors"
    assert [fields_of(e) for e in root.findall("error")] == [["code", "description"]]
    assert root.findtext("error/code") == "403" and "api_key" in (root.findtext("error/description") or "")
    # A bad service code: 404 on a definition and on a POST, 400 as a filter.
    for path in (f"{BASE}/services/nosuch.json", f"{BASE}/services/nosuch.xml"):
        r = await o311.get(path)
        assert r.status_code == 404, r.text
    assert xml_of(r).findtext("error/code") == "404"
    r = await o311.post(f"{BASE}/requests.json", data=report(service_code="nosuch"))
    assert r.status_code == 404 and "service_code" in r.json()[0]["description"]
    r = await o311.get(f"{BASE}/requests.json", params={"service_code": "taxi,nosuch"})
    assert r.status_code == 400 and r.json()[0]["code"] == 400 and "nosuch" in r.json()[0]["description"]
    # An unknown request id: 404 in both formats.
    r = await o311.get(f"{BASE}/requests/web-19990101-000001.json")
    assert r.status_code == 404 and r.json()[0]["code"] == 404
    r = await o311.get(f"{BASE}/requests/web-19990101-000001.xml")
    assert r.status_code == 404 and xml_of(r).findtext("error/code") == "404"
    assert (await o311.get(f"{BASE}/requests/web-1.html")).status_code == 404
    r = await o311.get(f"{BASE}/tokens/123.xml")  # not served: every request is realtime
    assert r.status_code == 404 and xml_of(r).findtext("error/code") == "404"
    r = await o311.post(f"{BASE}/nothing.json", data={})
    assert r.status_code == 404 and r.json()[0]["code"] == 404


async def test_every_bad_input_is_a_400_naming_it(o311):
    bad_posts = {
        "description": report(description=None),
        "attribute[kind]": report(**{"attribute[kind]": "nonsense"}),
        "attribute[territory]": report(**{"attribute[territory]": "999999"}),
        "attribute[urgent]": report(**{"attribute[urgent]": "maybe"}),
        "lat": report(lat="north", address_string=None),
        "long": report(long="999"),
        "phone": report(phone="12345"),
        "service_code": report(service_code=None),
    }
    for name, body in bad_posts.items():
        r = await o311.post(f"{BASE}/requests.json", data=body)
        assert r.status_code == 400, (name, r.text)
        assert any(e["description"].startswith(name) for e in r.json()), (name, r.json())
    r = await o311.post(f"{BASE}/requests.json", data=report(lat=None, long=None, address_string=None))
    assert r.status_code == 400 and "lat" in r.text
    r = await o311.post(f"{BASE}/requests.json", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()[0]["code"] == 400
    bad_queries = {
        "start_date": {"start_date": "yesterday"},
        "end_date": {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"},
        "status": {"status": "pending"},
        "page_size": {"page_size": "1001"},
        "page": {"page": "0"},
    }
    for name, params in bad_queries.items():
        for fmt in ("json", "xml"):
            r = await o311.get(f"{BASE}/requests.{fmt}", params=params)
            assert r.status_code == 400, (name, fmt, r.text)
            text = r.json()[0]["description"] if fmt == "json" else xml_of(r).findtext("error/description")
            assert text is not None and text.startswith(name), (name, text)
    r = await o311.get(f"{BASE}/requests.json", params={"start_date": "2026-01-01"})  # no offset
    assert r.status_code == 400 and "offset" in r.text
    r = await o311.get(f"{BASE}/requests.json", params={"end_date": "9999-12-31T00:00:00Z"})
    assert r.status_code == 400


async def test_filters_and_paging(client, runtime):
    import httpx

    transport = httpx.ASGITransport(app=client.app, client=("10.31.250.1", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as o311:
        numbers = []
        for code in ("road", "road", "highway"):
            r = await o311.post(f"{BASE}/requests.json", data=report(service_code=code))
            assert r.status_code == 201, r.text
            numbers.append(r.json()[0]["service_request_id"])
        # A phone call is not an Open311 request: never listed, never found.
        phone = await runtime.pool.fetchval("SELECT number FROM tickets WHERE channel = '96196' LIMIT 1")
        r = await o311.get(f"{BASE}/requests.json", params={"service_request_id": ",".join([*numbers, phone or "x"])})
        assert sorted(x["service_request_id"] for x in r.json()) == sorted(numbers)
        if phone:
            assert (await o311.get(f"{BASE}/requests/{phone}.json")).status_code == 404

        listed = (await o311.get(f"{BASE}/requests.json", params={"service_code": "road"})).json()
        assert {numbers[0], numbers[1]} <= {x["service_request_id"] for x in listed}
        assert {x["service_code"] for x in listed} == {"road"} and numbers[2] not in str(listed)
        stamps = [datetime.fromisoformat(x["requested_datetime"]) for x in listed]
        assert stamps == sorted(stamps, reverse=True)  # newest first

        both = (await o311.get(f"{BASE}/requests.json", params={"service_code": "road,highway"})).json()
        page1 = await o311.get(f"{BASE}/requests.json", params={"service_code": "road,highway", "page_size": "2"})
        page2 = await o311.get(
            f"{BASE}/requests.json", params={"service_code": "road,highway", "page_size": "2", "page": "2"}
        )
        ids = [x["service_request_id"] for x in both]
        assert [x["service_request_id"] for x in page1.json()] == ids[:2]
        assert [x["service_request_id"] for x in page2.json()] == ids[2:4]
        root = xml_of(await o311.get(f"{BASE}/requests.xml", params={"service_code": "road,highway", "page_size": "2"}))
        assert [e.findtext("service_request_id") for e in root.findall("request")] == ids[:2]

        assert numbers[0] not in (await o311.get(f"{BASE}/requests.json", params={"status": "closed"})).text
        assert numbers[0] in (await o311.get(f"{BASE}/requests.json", params={"status": "open"})).text
        now = datetime.now(UTC)
        window = {
            "start_date": (now - timedelta(hours=1)).isoformat(),
            "end_date": (now + timedelta(hours=1)).isoformat(),
        }
        assert numbers[2] in (await o311.get(f"{BASE}/requests.json", params=window)).text
        old = {"start_date": "2025-01-01T00:00:00+08:00", "end_date": "2025-02-01T00:00:00+08:00"}
        assert (await o311.get(f"{BASE}/requests.json", params=old)).json() == []
        every = await o311.get(f"{BASE}/requests.json")
        assert len(every.json()) <= 1000 and not any(p in every.text for p in PERSONAL)


async def test_reads_are_rate_limited_per_client(client, settings):
    import httpx

    transport = httpx.ASGITransport(app=client.app, client=("10.31.251.1", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as o311:
        codes = [
            (await o311.get(f"{BASE}/services.json")).status_code
            for _ in range(settings.public_rate_limit_per_minute + 1)
        ]
        refused = await o311.get(f"{BASE}/services.xml")
    assert codes[:-1] == [200] * settings.public_rate_limit_per_minute and codes[-1] == 429
    assert refused.status_code == 429 and 0 < int(refused.headers["retry-after"]) <= 60
    assert xml_of(refused).findtext("error/code") == "429"


async def test_submissions_are_rate_limited_per_client_before_the_key_is_looked_up(client, settings, runtime):
    import httpx

    before = await runtime.pool.fetchval("SELECT count(*) FROM tickets WHERE channel = 'web'")
    transport = httpx.ASGITransport(app=client.app, client=("10.31.252.1", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as o311:
        codes = [
            (await o311.post(f"{BASE}/requests.json", data=report(api_key="guess"))).status_code
            for _ in range(settings.public_rate_limit_per_minute + 1)
        ]
        refused = await o311.post(f"{BASE}/requests.xml", data=report())  # a good key waits too
        reads = await o311.get(f"{BASE}/services.json")  # reads count apart
    assert codes == [403] * settings.public_rate_limit_per_minute + [429]
    assert refused.status_code == 429 and xml_of(refused).findtext("error/code") == "429"
    assert reads.status_code == 200
    assert await runtime.pool.fetchval("SELECT count(*) FROM tickets WHERE channel = 'web'") == before
