"""The administrator's SLA policy acts: a preview (diff and how many running clocks a recomputation would move)
that saves nothing, a new version with its reason, past versions, and an admin event for each version."""

from __future__ import annotations

from datetime import UTC, datetime

from hotline.policies import recompute

PATH = "/api/admin/sla-policies"


async def test_the_preview_counts_the_clocks_the_recomputation_then_moves_and_the_version_keeps_its_reason(
    api, runtime
):
    before = (await api.get("admin", PATH)).json()
    rows = [dict(r) for r in before["policy"]]
    t = await api.create("agent", kind="help")  # a running reply clock under reply-help at least
    shorter = [{**r, "limit": 4} if r["id"] == "reply-help" else r for r in rows]
    doc = {"defaults": before["defaults"], "policy": shorter}
    versions_before = await runtime.pool.fetchval("SELECT count(*) FROM sla_policy_versions")
    r = await api.post("admin", f"{PATH}/preview", json=doc)
    assert r.status_code == 200, r.text
    preview = r.json()
    assert [(d["id"], d["change"], d["before"]["limit"], d["after"]["limit"]) for d in preview["diff"]] == [
        ("reply-help", "changed", next(x["limit"] for x in rows if x["id"] == "reply-help"), 4)
    ]
    assert preview["would_move"] >= 1 and preview["open_clocks"] >= preview["would_move"] + preview["would_skip"]
    assert await runtime.pool.fetchval("SELECT count(*) FROM sla_policy_versions") == versions_before  # nothing saved
    try:
        r = await api.request("admin", "PUT", PATH, json={**doc, "reason": "台风季临时压缩求助件时限"})
        assert r.status_code == 200, r.text
        version = r.json()["version"]
        assert r.json()["reason"] == "台风季临时压缩求助件时限"
        progress = await recompute.recompute_open(
            runtime, version=version, after_id=0, now_fn=lambda: datetime.now(UTC), pause_seconds=0
        )
        assert progress.moved == preview["would_move"]
        listed = (await api.get("admin", f"{PATH}/versions")).json()["items"]
        assert listed[0]["version"] == version and listed[0]["reason"] == "台风季临时压缩求助件时限"
        assert listed[0]["created_by"] == "admin" and listed[1]["version"] == before["version"]
        old = (await api.get("admin", f"{PATH}/versions/{before['version']}")).json()
        assert old["policy"] == before["policy"]
        event = await runtime.pool.fetchrow(
            "SELECT e.before, e.after, u.username FROM admin_events e JOIN users u ON u.id = e.actor "
            "WHERE e.what = 'sla_policy.version' AND e.subject = $1",
            str(version),
        )
        after = event["after"]
        assert event["username"] == "admin" and event["before"] == {"version": before["version"]}
        assert after["reason"] == "台风季临时压缩求助件时限" and [d["id"] for d in after["diff"]] == ["reply-help"]
    finally:
        r = await api.request("admin", "PUT", PATH, json={"defaults": before["defaults"], "policy": rows})
        await recompute.recompute_open(
            runtime, version=r.json()["version"], after_id=0, now_fn=lambda: datetime.now(UTC), pause_seconds=0
        )
    assert t["number"]


async def test_a_bad_preview_names_the_row_and_only_an_admin_previews(api):
    before = (await api.get("admin", PATH)).json()
    bad = [{**r, "limit": -1} if i == 0 else r for i, r in enumerate(before["policy"])]
    r = await api.post("admin", f"{PATH}/preview", json={"defaults": before["defaults"], "policy": bad})
    assert r.status_code == 422 and "policy[0]" in r.json()["fields"]
    assert (await api.post("manager", f"{PATH}/preview", json=before)).status_code == 403
    assert (await api.get("manager", f"{PATH}/versions")).status_code == 403
    assert (await api.get("admin", f"{PATH}/versions/999999")).status_code == 404
    r = await api.request(
        "admin", "PUT", PATH, json={"defaults": before["defaults"], "policy": before["policy"], "reason": "x" * 501}
    )
    assert r.status_code == 422 and "reason" in r.json()["fields"]


async def test_a_version_number_past_what_can_exist_is_not_found(api):
    # The fuzz test found 86518316171 answering 500: versions are int4 and the number did not bind.
    for number in (0, 2**31, 86518316171, 2**63 + 5):
        r = await api.get("admin", f"/api/admin/sla-policies/versions/{number}")
        assert r.status_code in (400, 404), (number, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    assert (await api.get("admin", "/api/admin/sla-policies/versions/1")).status_code == 200
