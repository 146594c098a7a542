"""GET /api/sla/deadlines: what a ticket received at an instant would be given."""


async def test_deadlines_for_a_consultation_received_before_national_day(api):
    # Received Wed 2026-09-30 10:00 +08: Oct 1-7 are holidays. Sign (1 working day): Thu Oct 8 17:30.
    # Reply (consultation, 2 working days): Oct 8 (1), Fri Oct 9 (2) -> 2026-10-09 17:30 +08:00 = 09:30 UTC.
    r = await api.get(
        "agent",
        "/api/sla/deadlines",
        params={
            "received_at": "2026-09-30T10:00:00+08:00",
            "channel": "96196",
            "kind": "consultation",
            "urgent": "false",
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["sign"] == "2026-10-08T09:30:00+00:00"
    assert body["reply"] == "2026-10-09T09:30:00+00:00"
    assert body["provisional"] is False and body["explanation"]["reply"]


async def test_urgent_uses_natural_time_and_unknown_years_are_provisional(api):
    r = await api.get(
        "agent",
        "/api/sla/deadlines",
        params={"received_at": "2026-10-01T23:00:00+08:00", "kind": "complaint", "urgent": "true"},
    )
    body = r.json()
    assert body["sign"] == "2026-10-01T15:30:00+00:00"  # 30 natural minutes, holiday or not
    assert body["reply"] == "2026-10-02T15:00:00+00:00"  # 24 natural hours
    r = await api.get("agent", "/api/sla/deadlines", params={"received_at": "2031-03-03T10:00:00+08:00"})
    assert r.status_code == 200 and r.json()["provisional"] is True


async def test_bad_parameters(api):
    r = await api.get("agent", "/api/sla/deadlines", params={"received_at": "2026-09-30T10:00:00", "kind": "x"})
    assert r.status_code == 422 and {"received_at", "kind"} <= set(r.json()["fields"])
