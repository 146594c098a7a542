"""GET /api/reference: the codes and names the console's pickers (and integrators) use, as the document says."""

from __future__ import annotations

from tests.integration.documented import document, mismatches, operation


async def test_reference_data_answers_its_documented_shape(api):
    doc = await document(api.client)
    op = operation(doc, "GET", "/api/reference")
    assert op["operationId"] == "getReference" and op["tags"] == ["reference"] and op["security"] == [{"bearer": []}]
    assert "Any signed-in account." in op["description"]
    for who in ("agent", "integration-12345", "handler-320612-bureau"):
        r = await api.get(who, "/api/reference")
        assert r.status_code == 200 and r.headers["content-type"] == "application/json"
        assert mismatches(doc, "GET", "/api/reference", r.json()) == []
    body = r.json()
    kinds = {c["code"]: c["kind"] for c in body["channels"]}
    assert kinds["12345"] == "transfer" and kinds["96196"] == "phone"
    assert {"code": "320612", "name": "通州区"} in body["territories"]
    assert {"code": "taxi", "name": "出租汽车"} in body["categories"] and {"code": "praise", "name": "表扬"} in body[
        "kinds"
    ]
    assert {"code": "320612-bureau", "name": "通州区交通运输局", "territory": "320612"} in body["units"]
    assert (await api.get(None, "/api/reference")).status_code == 401


async def test_health_probes_stay_outside_the_document(client):
    paths = (await document(client))["paths"]
    assert not {"/healthz", "/readyz", "/metrics"} & set(paths)
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).json() == {"status": "ok", "checks": {"postgresql": "ok", "redis": "ok"}}
