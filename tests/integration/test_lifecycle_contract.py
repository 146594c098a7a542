"""The lifecycle's actions as documented operations (issue 13): one route per action with its own body, decoded and
refused by Litestar naming the field, the role guard before the body, and the ticket shapes the API answers with."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from hotline.tickets import lifecycle, shapes
from hotline.tickets.bodies import DispatchBody, EmptyBody
from tests.conftest import principal, ticket_body

H = "handler-320612-bureau"
OPERATION_IDS = {
    "dispatch": "dispatchTicket",
    "sign": "signTicket",
    "return": "returnTicket",
    "decide-return": "decideReturn",
    "note": "addNote",
    "request-extension": "requestExtension",
    "decide-extension": "decideExtension",
    "reply": "replyToTicket",
    "callback": "recordCallback",
    "urge": "urgeTicket",
    "close": "closeTicket",
    "reject": "rejectTicket",
    "merge": "mergeTicket",
    "suspend": "suspendTicket",
    "resume": "resumeTicket",
    "reclassify": "reclassifyTicket",
}


@pytest.fixture(scope="module")
async def document(client) -> dict[str, Any]:
    r = await client.get("/schema/openapi.json")
    assert r.status_code == 200
    return r.json()


def _component(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema["allOf"][0]["$ref"] if "allOf" in schema else schema["oneOf"][0]["$ref"]
    return doc["components"]["schemas"][ref.rsplit("/", 1)[-1]]


def test_the_table_and_the_documented_operations_agree():
    assert set(OPERATION_IDS) == set(lifecycle.ACTIONS)


@pytest.mark.parametrize("name", sorted(OPERATION_IDS))
async def test_each_action_is_its_own_operation_with_its_own_body(document, name):
    op = document["paths"][f"/api/tickets/{{number}}/{name}"]["post"]
    action = lifecycle.ACTIONS[name]
    assert op["operationId"] == OPERATION_IDS[name]
    assert op["tags"] == ["actions"]
    assert op["security"] == [{"bearer": []}]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in op["summary"]), op["summary"]  # names the Chinese term
    assert ", ".join(sorted(action.roles)) in op["description"]
    schema = op["requestBody"]["content"]["application/json"]["schema"]
    body = _component(document, schema)
    assert set(body["properties"]) == set(action.body.__struct_fields__)
    assert op["responses"]["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Ticket"}
    for status in ("401", "403", "404", "409", "422"):
        assert "application/problem+json" in op["responses"][status]["content"], (name, status)
    # A body with fields of its own is required; sign's may be left out.
    assert op["requestBody"]["required"] is (name != "sign")


def test_the_catch_all_path_is_gone_from_the_document(document):
    assert "/api/tickets/{number}/{action_name}" not in document["paths"]


async def test_sign_takes_no_body_an_empty_one_or_only_the_version(api):
    for kwargs in ({}, {"json": {}}, {"json": None}):
        t = await api.create("agent")
        r = await api.post(H, f"/api/tickets/{t['number']}/sign", **kwargs)
        assert r.status_code == 200 and r.json()["status"] == "in_progress", (kwargs, r.text)
    t = await api.create("agent")
    r = await api.post(H, f"/api/tickets/{t['number']}/sign", json={"expected_version": t["version"]})
    assert r.status_code == 200 and r.json()["version"] == t["version"] + 1
    r = await api.post(H, f"/api/tickets/{(await api.create('agent'))['number']}/sign", json={"expected_version": 99})
    assert r.status_code == 409


@pytest.mark.parametrize(
    ("action", "body", "field"),
    [
        ("dispatch", {"unit": 5}, "unit"),
        ("dispatch", {}, "unit"),
        ("dispatch", {"unit": ""}, "unit"),
        ("dispatch", {"unit": "320612-bureau", "expected_version": "one"}, "expected_version"),
        ("note", {"text": "x" * 5001}, "text"),
        ("urge", {"note": 3}, "note"),
        ("dispatch", ["unit"], "body"),
    ],
)
async def test_an_invalid_body_is_a_422_naming_the_field_from_litestars_decoding(api, action, body, field):
    t = await api.create("agent")
    r = await api.post("dispatcher", f"/api/tickets/{t['number']}/{action}", json=body)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert field in r.json()["fields"], r.json()
    assert (await api.get("dispatcher", f"/api/tickets/{t['number']}")).json()["version"] == t["version"]


async def test_no_body_or_no_json_where_a_body_is_needed_is_a_422_naming_the_body(api):
    n = (await api.create("agent"))["number"]
    r = await api.post("dispatcher", f"/api/tickets/{n}/dispatch")
    assert r.status_code == 422 and r.json()["fields"] == {"body": "a JSON body is required"}, r.text
    r = await api.post(
        "dispatcher", f"/api/tickets/{n}/note", content=b'{"text": ', headers={"content-type": "application/json"}
    )
    assert r.status_code == 422 and r.json()["fields"] == {"body": "invalid JSON"}, r.text


async def test_an_unknown_action_is_a_problem_details_404_listing_the_actions(api):
    n = (await api.create("agent"))["number"]
    r = await api.post(H, f"/api/tickets/{n}/fly", json={})
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "'fly'" in r.json()["detail"] and "decide-return" in r.json()["detail"]
    assert (await api.post(None, f"/api/tickets/{n}/fly", json={})).status_code == 401


async def test_the_guard_answers_before_the_body_is_read(api):
    """A role the action does not admit is told 403 whatever it sent, and no token is 401: neither learns what a
    valid body looks like from a 422 (before issue 13 the body was decoded first)."""
    n = (await api.create("agent"))["number"]
    r = await api.post("agent", f"/api/tickets/{n}/sign", json={"expected_version": "x"})
    assert r.status_code == 403, r.text
    r = await api.post("agent", f"/api/tickets/{n}/dispatch", json={"unit": 5})
    assert r.status_code == 403, r.text
    r = await api.post(None, f"/api/tickets/{n}/dispatch", json={"unit": 5})
    assert r.status_code == 401, r.text


async def test_the_service_checks_the_body_type_and_the_role_itself(runtime, api):
    n = (await api.create("agent"))["number"]
    handler = await principal(runtime, H)
    with pytest.raises(TypeError):
        await lifecycle.act(runtime, handler, n, "sign", DispatchBody(unit="320612-bureau"))
    agent = await principal(runtime, "agent")
    from hotline.errors import Forbidden

    with pytest.raises(Forbidden):
        await lifecycle.act(runtime, agent, n, "sign", EmptyBody())
    signed = await lifecycle.act(runtime, handler, n, "sign", EmptyBody())
    assert isinstance(signed, shapes.Ticket) and signed.status == "in_progress"


async def test_answers_carry_exactly_the_shapes_keys(api):
    t = await api.create("agent", address="万达广场", location={"lat": 32.0, "lng": 120.8})
    assert set(t) == set(shapes.Ticket.__struct_encode_fields__)
    assert t["caller"] == {"name": "张先生", "phone": "13812345678"}
    d = (await api.get("dispatcher", f"/api/tickets/{t['number']}")).json()
    assert set(d) == set(shapes.TicketDetail.__struct_encode_fields__)
    assert {"actor", "role", "unit"} <= set(d["events"][0])
    page = (await api.get("dispatcher", "/api/tickets", params={"limit": 1})).json()
    assert set(page) == {"items", "next_cursor"} and set(page["items"][0]) == set(t)


async def test_an_integration_account_reads_events_without_the_staff_fields(api, document):
    t = await api.create("integration-12345", **{"channel": "12345", "external_ref": "contract-" + "x" * 8})
    d = (await api.get("integration-12345", f"/api/tickets/{t['number']}")).json()
    assert d["events"] and not any({"actor", "role", "unit"} & set(e) for e in d["events"])
    assert d["caller"]["phone"] != ticket_body()["caller"]["phone"]  # masked for this role
    event = document["components"]["schemas"]["Event"]
    assert {"actor", "role", "unit"}.isdisjoint(event["required"])


async def test_every_stored_event_payload_key_is_declared_in_the_event_shape(api, runtime):
    """The timeline's events are Structs: a payload key not declared in shapes.Event would be left out of the
    JSON. Every key any action of the suite so far stored is declared (the payload's `unit` is sent as `to_unit`)."""
    n = (await api.create("agent"))["number"]
    await api.act(H, n, "sign")
    await api.act(H, n, "reply", content="已处理", outcome="resolved")
    await api.act("agent", n, "callback", contacted=True, resolved="resolved", satisfaction="dissatisfied")
    keys = {r["k"] for r in await runtime.pool.fetch("SELECT DISTINCT jsonb_object_keys(payload) AS k FROM events")}
    mapped = {"to_unit" if k == "unit" else k for k in keys} - lifecycle_fixed_fields()
    assert mapped <= shapes.EVENT_PAYLOAD_KEYS, mapped - shapes.EVENT_PAYLOAD_KEYS


def lifecycle_fixed_fields() -> set[str]:
    from hotline.tickets.queries import EVENT_FIELDS

    return set(EVENT_FIELDS)


async def test_ticket_routes_are_documented_operations(document):
    expected = {
        ("post", "/api/tickets"): ("createTicket", "tickets"),
        ("get", "/api/tickets"): ("listTickets", "tickets"),
        ("get", "/api/tickets/hints"): ("getTicketHints", "tickets"),
        ("get", "/api/tickets/{number}"): ("getTicket", "tickets"),
        ("get", "/api/tickets/{number}/routing"): ("getTicketRouting", "tickets"),
        ("get", "/api/sla/deadlines"): ("getSlaDeadlines", "reference"),
    }
    schemas = {
        "createTicket": "Ticket",
        "listTickets": "TicketPage",
        "getTicketHints": "Hints",
        "getTicket": "TicketDetail",
        "getTicketRouting": "RoutingExplanation",
        "getSlaDeadlines": "SlaPreview",
    }
    for (method, path), (operation_id, tag) in expected.items():
        op = document["paths"][path][method]
        assert op["operationId"] == operation_id and op["tags"] == [tag]
        assert op["security"] == [{"bearer": []}]
        ok = op["responses"]["201" if method == "post" else "200"]["content"]["application/json"]["schema"]
        assert ok == {"$ref": f"#/components/schemas/{schemas[operation_id]}"}, operation_id
    create = document["paths"]["/api/tickets"]["post"]
    assert "Roles: admin, agent, integration." in create["description"]
    assert "Location" in create["responses"]["201"]["headers"]
    assert create["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Ticket"
    }
    assert "Idempotent-Replay" in create["responses"]["200"]["description"]
    hints = document["paths"]["/api/tickets/hints"]["get"]
    assert "Roles: admin, agent, dispatcher, manager." in hints["description"]


async def test_the_main_operations_carry_examples_from_the_demo_data(document, api):
    create = document["paths"]["/api/tickets"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    examples = create["examples"]
    phone = next(e for e in examples if e["channel"] == "96196")
    transfer = next(e for e in examples if e["channel"] == "12345")
    assert transfer["external_ref"] and transfer["external_due_at"]
    # The examples are real requests: the agent's and the integration account's are accepted as they stand.
    assert (await api.post("agent", "/api/tickets", json=phone)).status_code == 201
    transfer = {**transfer, "external_ref": transfer["external_ref"] + "-contract-test"}
    r = await api.post("integration-12345", "/api/tickets", json=transfer)
    assert r.status_code in (200, 201), r.text
    for name in ("reply", "callback"):
        body = document["paths"][f"/api/tickets/{{number}}/{name}"]["post"]["requestBody"]["content"]
        example = body["application/json"]["schema"]["examples"][0]
        msgspec.convert(example, lifecycle.ACTIONS[name].body)  # a valid body of that action


async def test_scripts_pass_json_bytes_and_get_plain_values(runtime, api):
    from hotline.errors import InvalidInput

    n = (await api.create("agent"))["number"]
    handler = await principal(runtime, H)
    with pytest.raises(InvalidInput) as refused:
        await lifecycle.perform(runtime, handler, n, "return", b'{"reason": 5}')
    assert refused.value.fields == {"body": "Expected `str`, got `int` - at `$.reason`"}
    t = await lifecycle.perform(runtime, handler, n, "sign", b"")
    assert t["status"] == "in_progress" and t["caller"]["name"] == "张先生"
