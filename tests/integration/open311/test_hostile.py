"""Whatever an Open311 client sends, the answer is the spec's error array with a 4xx (never a 500) and nothing is
written: NUL characters, odd digits, huge numbers, deep JSON, other content types, unknown methods' paths."""

from __future__ import annotations

from xml.etree import ElementTree

from tests.integration.open311.conftest import BASE, report


async def _no_ticket_written(runtime, before: int) -> None:
    assert await runtime.pool.fetchval("SELECT count(*) FROM tickets WHERE channel = 'web'") == before


async def test_hostile_queries_are_400_or_404(o311):
    cases = [
        ("requests.json", {"page_size": "²"}),
        ("requests.json", {"page": "9" * 5000}),
        ("requests.json", {"page_size": "１０"}),
        ("requests.json", {"service_request_id": "web-\x00"}),
        ("requests.json", {"service_request_id": ",".join(["x"] * 1001)}),
        ("requests.json", {"service_code": "\x00"}),
        ("requests.json", {"status": "open\x00"}),
        ("requests.xml", {"start_date": "2026-13-45T99:00:00Z"}),
        ("requests.xml", {"end_date": "0001-01-01T00:00:00+14:00"}),
        ("requests.json", {"start_date": "2026-12-01T00:00:00+08:00", "end_date": "2026-11-01T00:00:00+08:00"}),
    ]
    for path, params in cases:
        r = await o311.get(f"{BASE}/{path}", params=params)
        assert r.status_code == 400, (params, r.status_code, r.text)
        assert r.headers["content-type"].startswith("application/json" if path.endswith("json") else "text/xml")
    for path in ("requests/%00.json", f"requests/{'9' * 500}.xml", "services/%00.json", "services/.json"):
        r = await o311.get(f"{BASE}/{path}")
        assert r.status_code in (400, 404), (path, r.status_code, r.text)


async def test_hostile_posts_write_nothing(o311, runtime):
    before = await runtime.pool.fetchval("SELECT count(*) FROM tickets WHERE channel = 'web'")
    bodies = [
        {"data": report(description="拒载\x00")},
        {"data": report(address_string="东门\x00")},
        {"data": report(first_name="\x00")},
        {"data": report(lat="nan")},
        {"data": report(long="inf")},
        {"data": report(lat="1e400")},
        {"data": report(description="长" * 4001)},
        {"data": report(address_string="址" * 301)},
        {"data": report(api_key="\x00" * 300)},
        {"content": b"[" * 100_000 + b"]" * 100_000, "headers": {"content-type": "application/json"}},
        {"content": b'["a list"]', "headers": {"content-type": "application/json"}},
        {"content": b'{"attribute": [1, 2]}', "headers": {"content-type": "application/json"}},
        {"content": b'{"api_key": {"nested": 1}}', "headers": {"content-type": "application/json"}},
        {"content": b"\xff\xfe", "headers": {"content-type": "text/plain"}},
    ]
    for body in bodies:
        r = await o311.post(f"{BASE}/requests.json", **body)
        assert r.status_code in (400, 403), (str(body)[:80], r.status_code, r.text[:300])
        assert isinstance(r.json(), list) and r.json()[0]["code"] == r.status_code
    await _no_ticket_written(runtime, before)
    big = {"content-type": "application/x-www-form-urlencoded"}
    r = await o311.post(f"{BASE}/requests.json", content=b"x" * (1024 * 1024 + 1), headers=big)
    assert r.status_code == 413 and r.json()[0]["code"] == 413
    await _no_ticket_written(runtime, before)


async def test_other_methods_and_the_bare_base_answer_in_the_spec_format(o311):
    for method, path in (("PUT", "requests.json"), ("DELETE", "services/taxi.xml"), ("PATCH", "requests/x.json")):
        r = await o311.request(method, f"{BASE}/{path}")
        assert r.status_code == 405, (method, path, r.text)
        assert r.headers["content-type"].startswith("text/xml" if path.endswith(".xml") else "application/json")
    r = await o311.get(f"{BASE}/")
    assert r.status_code == 404 and "discovery.json" in r.json()[0]["description"]


async def test_random_parameters_never_get_a_server_error(client):
    """A fixed-seed fuzz of every parameter with text from ASCII, CJK, digits, control characters and huge values:
    each answer is a 2xx or the spec's 4xx error array in the format asked for."""
    import random

    import httpx

    rng = random.Random(311)
    alphabet = "09az.,:+-TZ_[]%" + "\x00\x01\u3000\u2028\ufffe" + "出租车通州²１"

    def text() -> str:
        return "".join(rng.choice(alphabet) for _ in range(rng.choice((0, 1, 3, 10, 25, 400))))

    names = ["service_request_id", "service_code", "start_date", "end_date", "status", "page", "page_size"]
    fields = ["api_key", "service_code", "lat", "long", "address_string", "description", "attribute[kind]"]
    fields += ["attribute[territory]", "attribute[urgent]", "first_name", "last_name", "phone", "attribute"]
    seen: set[int] = set()
    for batch in range(12):  # a client address per batch: the rate limit is per client
        transport = httpx.ASGITransport(app=client.app, client=(f"10.31.253.{batch + 1}", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            for _ in range(12):
                fmt = rng.choice(("json", "xml"))
                params = {n: text() for n in rng.sample(names, rng.randint(1, 4))}
                r = await c.get(f"{BASE}/requests.{fmt}", params=params)
                form = report(**{f: text() for f in rng.sample(fields, rng.randint(1, 5))})
                p = await c.post(f"{BASE}/requests.{fmt}", data=form)
                for answer in (r, p):
                    seen.add(answer.status_code)
                    assert answer.status_code < 500, (params, form, answer.text[:300])
                    if answer.status_code >= 400 and answer.status_code != 429:
                        if fmt == "json":
                            assert answer.json()[0]["code"] == answer.status_code
                        else:
                            code = ElementTree.fromstring(answer.content).findtext("error/code")
                            assert code == str(answer.status_code)
    assert 400 in seen
