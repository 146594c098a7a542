"""Security headers: a strict content security policy on pages, no caching of personal data, no framing."""

from __future__ import annotations

from hotline.web.headers import CONTENT_SECURITY_POLICY


async def test_pages_carry_a_strict_policy_and_no_inline_script(client):
    r = await client.get("/login")
    assert r.status_code == 200
    assert r.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY and "script-src 'self'" in CONTENT_SECURITY_POLICY
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY" and "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
    assert r.headers["referrer-policy"] == "same-origin"
    # The policy forbids inline script, so the page must have none (the login form's check is a static file).
    assert "<script>" not in r.text and '<script src="/static/login.js' in r.text
    assert (await client.get("/static/login.js")).status_code == 200


async def test_api_answers_are_never_cached(api):
    ticket = await api.create("agent")
    r = await api.get("agent", f"/api/tickets/{ticket['number']}")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    assert r.headers["x-content-type-options"] == "nosniff"
    problem = await api.get(None, "/api/tickets")
    assert problem.status_code == 401 and problem.headers["cache-control"] == "no-store"


async def test_static_assets_keep_their_own_caching(client):
    r = await client.get("/static/console.css")
    assert r.status_code == 200 and "no-store" not in r.headers.get("cache-control", "")
    assert r.headers["x-content-type-options"] == "nosniff"
