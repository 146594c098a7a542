"""The export audit: every CSV/XLSX file of figures is recorded with who asked for it, and the record stays."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import pytest

TODAY = datetime.now(ZoneInfo("Asia/Shanghai")).date()
PERIOD = {"from": (TODAY - timedelta(days=7)).isoformat(), "to": (TODAY + timedelta(days=1)).isoformat()}


async def _exports_by(api, actor: str) -> list[dict]:
    r = await api.get("admin", "/api/reports/exports", params={"actor": actor, "limit": 500})
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def test_every_file_export_is_recorded_with_who_and_what(api):
    await api.create("agent", territory="320612", category="road")
    handler = "handler-320612-bureau"
    before = len(await _exports_by(api, handler))
    for fmt in ("csv", "xlsx"):
        r = await api.get(handler, "/api/reports/closure", params={**PERIOD, "group_by": "kind", "format": fmt})
        assert r.status_code == 200
    # Reading the figures on screen is not an export.
    assert (await api.get(handler, "/api/reports/closure", params=PERIOD)).status_code == 200
    entries = await _exports_by(api, handler)
    assert len(entries) == before + 2
    newest = entries[:2]
    assert [e["format"] for e in newest] == ["xlsx", "csv"]
    for e in newest:
        assert e["actor"] == handler and e["role"] == "handler" and e["unit"] == "320612-bureau"
        assert e["report"] == "closure" and e["query"]["group_by"] == "kind"
        assert e["query"]["unit"] == "320612-bureau" and e["row_count"] >= 1


async def test_only_managers_and_admins_read_the_audit(api):
    for who in ("agent", "dispatcher", "handler-320612-bureau", "integration-12345"):
        r = await api.get(who, "/api/reports/exports")
        assert r.status_code == 403 and r.headers["content-type"].startswith("application/problem+json")
    assert (await api.get("manager", "/api/reports/exports")).status_code == 200
    r = await api.get("manager", "/api/reports/exports", params={"limit": 0, "cursor": "x"})
    assert r.status_code == 422 and set(r.json()["fields"]) == {"limit", "cursor"}


async def test_the_audit_pages_newest_first(api):
    for _ in range(3):
        r = await api.get("manager", "/api/reports/closure", params={**PERIOD, "format": "csv"})
        assert r.status_code == 200
    first = (await api.get("admin", "/api/reports/exports", params={"actor": "manager", "limit": 2})).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = (
        await api.get(
            "admin", "/api/reports/exports", params={"actor": "manager", "limit": 2, "cursor": first["next_cursor"]}
        )
    ).json()
    ids = [e["id"] for e in first["items"] + rest["items"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids)


async def test_the_record_cannot_be_rewritten(runtime):
    assert await runtime.pool.fetchval("SELECT count(*) FROM export_audit") > 0
    for statement in ("UPDATE export_audit SET actor = 'nobody'", "DELETE FROM export_audit", "TRUNCATE export_audit"):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await runtime.pool.execute(statement)
