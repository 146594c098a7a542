"""Open311 API keys: stored as their SHA-256 only, the demo key derived from the demo password (a new password
revokes the old key), keys issued by `hotline open311-key`, and refused once revoked, for an inactive account or
for an integration account of another channel."""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
import sys
import uuid
from pathlib import Path

from tests.integration.open311.conftest import BASE, DEMO_KEY, report

HOTLINE = str(Path(sys.executable).with_name("hotline"))


async def test_the_demo_key_is_stored_hashed_and_a_new_demo_password_revokes_it(runtime):
    from hotline.open311 import keys

    rows = await runtime.pool.fetch(
        "SELECT k.key_hash, k.label, k.revoked_at FROM api_keys k JOIN users u ON u.id = k.user_id "
        "WHERE u.username = 'integration-open311'"
    )
    assert [(r["key_hash"], r["label"], r["revoked_at"]) for r in rows] == [
        (hashlib.sha256(DEMO_KEY.encode()).hexdigest(), "demo", None)
    ]
    stored = await runtime.pool.fetch("SELECT * FROM api_keys")
    assert DEMO_KEY not in str([dict(r) for r in stored])
    async with runtime.pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        try:
            await keys.seed_demo_key(conn, "another-password")
            now = {
                r["key_hash"]: r["revoked_at"]
                for r in await conn.fetch("SELECT key_hash, revoked_at FROM api_keys WHERE label = 'demo'")
            }
        finally:
            await tx.rollback()
    assert now[keys.key_hash(DEMO_KEY)] is not None
    assert now[keys.key_hash("open311-another-password")] is None


async def _issue(settings, username: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOTLINE_DATABASE_URL": settings.database_url, "HOTLINE_LOG_LEVEL": "WARNING"}
    return await asyncio.to_thread(
        subprocess.run, [HOTLINE, "open311-key", username], env=env, capture_output=True, text=True, timeout=60
    )


async def test_an_issued_key_works_until_revoked_or_its_account_is_deactivated(o311, runtime, settings):
    username = f"integration-o311-{uuid.uuid4().hex[:6]}"
    await runtime.pool.execute(
        "INSERT INTO users (username, password_hash, role, channel, display_name) "
        "VALUES ($1, '!', 'integration', 'web', '测试客户端')",
        username,
    )
    done = await _issue(settings, username)
    assert done.returncode == 0, done.stderr
    key = done.stdout.strip()
    assert key.startswith("o311_") and len(key) > 40
    assert await runtime.pool.fetchval("SELECT count(*) FROM api_keys WHERE key_hash = $1", key) == 0
    r = await o311.post(f"{BASE}/requests.json", data=report(api_key=key))
    assert r.status_code == 201, r.text
    creator = await runtime.pool.fetchval(
        "SELECT u.username FROM tickets t JOIN users u ON u.id = t.created_by WHERE t.number = $1",
        r.json()[0]["service_request_id"],
    )
    assert creator == username

    await runtime.pool.execute("UPDATE users SET active = false WHERE username = $1", username)
    r = await o311.post(f"{BASE}/requests.json", data=report(api_key=key))
    assert r.status_code == 403 and "api_key" in r.json()[0]["description"]
    await runtime.pool.execute("UPDATE users SET active = true WHERE username = $1", username)
    assert (await o311.post(f"{BASE}/requests.json", data=report(api_key=key))).status_code == 201
    await runtime.pool.execute(
        "UPDATE api_keys SET revoked_at = now() WHERE key_hash = $1", hashlib.sha256(key.encode()).hexdigest()
    )
    assert (await o311.post(f"{BASE}/requests.json", data=report(api_key=key))).status_code == 403


async def test_keys_only_for_integration_accounts_and_only_for_the_web_channel(o311, api, runtime, settings):
    refused = await _issue(settings, "agent")
    assert refused.returncode != 0 and "not an integration account" in refused.stderr
    done = await _issue(settings, "integration-12345")
    assert done.returncode == 0, done.stderr
    r = await o311.post(f"{BASE}/requests.json", data=report(api_key=done.stdout.strip()))
    assert r.status_code == 403 and r.json()[0]["code"] == 403
    # Its transfers stay out of Open311 although its account now holds a key: only web tickets are shown.
    transfer = await api.create("integration-12345", channel="12345", external_ref=uuid.uuid4().hex)
    assert (await o311.get(f"{BASE}/requests/{transfer['number']}.json")).status_code == 404
    listed = await o311.get(f"{BASE}/requests.json", params={"service_request_id": transfer["number"]})
    assert listed.status_code == 200 and listed.json() == []
    await runtime.pool.execute(
        "UPDATE api_keys SET revoked_at = now() WHERE key_hash = $1",
        hashlib.sha256(done.stdout.strip().encode()).hexdigest(),
    )
