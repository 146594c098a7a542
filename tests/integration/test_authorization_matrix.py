"""The authorization matrix: every operation × every role × own/other unit or channel, with the expected outcome.

Each row names an operation, who asks, whose ticket it is, and the status the service must answer. A handler of
another unit and an integration of another channel get 404 for a ticket (they must not learn it exists); a role
that may never do the operation gets 403 whatever the ticket; nobody signed in gets 401.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import Api

OWN_UNIT = "320612-bureau"
H_OWN = f"handler-{OWN_UNIT}"
H_OTHER = "handler-320614-bureau"
I_OWN = "integration-12345"
I_OTHER = "integration-12328"
STAFF = ("agent", "dispatcher", "manager", "admin")


@pytest.fixture(scope="module")
async def tickets(api: Api) -> dict[str, dict[str, Any]]:
    """A phone ticket and a 12345 transfer, both held by 通州区交通运输局 (320612-bureau), still dispatched."""
    phone = await api.create("agent", territory="320612", category="road")
    transfer = await api.create(
        I_OWN, channel="12345", territory="320612", category="road", external_ref="MATRIX-12345-0001"
    )
    assert phone["unit"] == transfer["unit"] == OWN_UNIT
    assert phone["status"] == transfer["status"] == "dispatched"
    return {"phone": phone, "transfer": transfer}


def _read_rows() -> list[tuple[str, str | None, str, int]]:
    """(path template, who, which ticket, expected status) for the read operations on one ticket."""
    rows: list[tuple[str, str | None, str, int]] = []
    for path in ("/api/tickets/{n}", "/api/tickets/{n}/routing"):
        rows.append((path, None, "phone", 401))
        rows += [(path, who, "phone", 200) for who in STAFF]
        rows += [(path, H_OWN, "phone", 200), (path, H_OTHER, "phone", 404)]
        rows += [(path, I_OWN, "transfer", 200), (path, I_OWN, "phone", 404), (path, I_OTHER, "transfer", 404)]
    return rows


@pytest.mark.parametrize(("path", "who", "which", "expected"), _read_rows())
async def test_reading_one_ticket(
    api: Api, tickets: dict[str, Any], path: str, who: str | None, which: str, expected: int
) -> None:
    r = await api.get(who, path.format(n=tickets[which]["number"]))
    assert r.status_code == expected, r.text
    if expected >= 400:
        assert r.headers["content-type"].startswith("application/problem+json")
    if expected == 404:  # the same answer as for a number that never existed: nothing learnt
        absent = "96196-20000101-999999"
        other = await api.get(who, path.format(n=absent))
        assert other.status_code == 404
        assert r.json()["detail"].replace(tickets[which]["number"], absent) == other.json()["detail"]


@pytest.mark.parametrize(
    ("who", "which", "listed"),
    [
        *[(who, which, True) for who in STAFF for which in ("phone", "transfer")],
        (H_OWN, "phone", True),
        (H_OWN, "transfer", True),
        (H_OTHER, "phone", False),
        (H_OTHER, "transfer", False),
        (I_OWN, "transfer", True),
        (I_OWN, "phone", False),
        (I_OTHER, "transfer", False),
    ],
)
async def test_listing(api: Api, tickets: dict[str, Any], who: str, which: str, listed: bool) -> None:
    number = tickets[which]["number"]
    # Asking for the ticket's own unit and channel explicitly must not widen a scope either.
    for params in (
        {"q": tickets[which]["title"], "limit": 200},
        {"unit": OWN_UNIT, "channel": tickets[which]["channel"], "limit": 200},
    ):
        r = await api.get(who, "/api/tickets", params=params)
        assert r.status_code == 200, r.text
        numbers = {t["number"] for t in r.json()["items"]}
        assert (number in numbers) is listed, (who, params)


# Actions on a dispatched ticket by who may never do them (403, whatever the ticket) and by who may but does not
# hold it (404). Nothing here changes the ticket: the last test proves it still stands where it was.
ACTION_ROWS: list[tuple[str, dict[str, Any], str | None, str, int]] = [
    ("sign", {}, None, "phone", 401),
    *[("sign", {}, who, "phone", 403) for who in (*STAFF, I_OWN)],
    ("sign", {}, H_OTHER, "phone", 404),
    ("return", {"reason": "非本单位职责"}, H_OTHER, "phone", 404),
    ("return", {"reason": "非本单位职责"}, "agent", "phone", 403),
    ("note", {"text": "越权备注"}, H_OTHER, "phone", 404),
    ("note", {"text": "越权备注"}, I_OWN, "transfer", 403),
    ("urge", {"note": "越权催办"}, "agent", "phone", 403),
    ("urge", {"note": "越权催办"}, H_OWN, "phone", 403),
    ("urge", {"note": "越权催办"}, I_OWN, "transfer", 403),
    ("dispatch", {"unit": "320614-bureau"}, H_OWN, "phone", 403),
    ("dispatch", {"unit": "320614-bureau"}, "agent", "phone", 403),
    ("close", {"answer": "已答复"}, H_OWN, "phone", 403),
    ("close", {"answer": "已答复"}, I_OWN, "transfer", 403),
    ("reject", {"reason": "不予受理"}, H_OTHER, "phone", 403),
    ("decide-return", {"accept": True, "unit": OWN_UNIT, "proper": True}, H_OWN, "phone", 403),
    ("decide-extension", {"approve": True}, H_OWN, "phone", 403),
    ("reply", {"content": "已处理", "outcome": "resolved"}, H_OTHER, "phone", 404),
    ("reply", {"content": "已处理", "outcome": "resolved"}, "manager", "phone", 403),
    *[("reclassify", {"territory": "320614"}, who, "phone", 403) for who in (H_OWN, "agent")],
    ("reclassify", {"territory": "320614"}, I_OWN, "transfer", 403),
    ("reclassify", {"territory": "320614"}, "dispatcher", "phone", 409),  # dispatched: no longer waiting
]


@pytest.mark.parametrize(("action", "body", "who", "which", "expected"), ACTION_ROWS)
async def test_acting_on_a_ticket(
    api: Api, tickets: dict[str, Any], action: str, body: dict[str, Any], who: str | None, which: str, expected: int
) -> None:
    r = await api.post(who, f"/api/tickets/{tickets[which]['number']}/{action}", json=body)
    assert r.status_code == expected, r.text
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_refused_actions_changed_nothing(api: Api, tickets: dict[str, Any]) -> None:
    for which, ticket in tickets.items():
        now = (await api.get("manager", f"/api/tickets/{ticket['number']}")).json()
        assert now["status"] == "dispatched" and now["unit"] == OWN_UNIT, which
        actions = [e["action"] for e in now["events"]]
        assert not {"sign", "return", "urge", "note", "close", "reject", "reply", "reclassify"} & set(actions), actions
        assert now["territory"] == "320612", which


@pytest.mark.parametrize(
    ("who", "channel", "expected"),
    [
        ("agent", "96196", 201),
        ("agent", "12345", 403),
        (I_OWN, "12345", 201),
        (I_OWN, "12328", 403),
        (I_OTHER, "12345", 403),
        (H_OWN, "96196", 403),
        ("dispatcher", "96196", 403),
        ("manager", "96196", 403),
        (None, "96196", 401),
    ],
)
async def test_intake_by_role_and_channel(api: Api, who: str | None, channel: str, expected: int) -> None:
    body: dict[str, Any] = {
        "channel": channel,
        "kind": "complaint",
        "category": "taxi",
        "territory": "320612",
        "title": "权限矩阵",
        "content": "测试",
        "caller": {"name": "王", "phone": "13900001111"},
        "urgent": False,
    }
    if channel != "96196":
        body["external_ref"] = f"MATRIX-{who}-{channel}"
    r = await api.post(who, "/api/tickets", json=body)
    assert r.status_code == expected, r.text


_TODAY = datetime.now(ZoneInfo("Asia/Shanghai")).date()
FROM, TO = (_TODAY - timedelta(days=1)).isoformat(), (_TODAY + timedelta(days=2)).isoformat()
PERIOD = f"from={FROM}&to={TO}"


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        (f"/api/reports/closure?{PERIOD}", {"dispatcher", "manager", "admin", H_OWN, H_OTHER}),
        (f"/api/reports/closure?{PERIOD}&format=csv", {"dispatcher", "manager", "admin", H_OWN, H_OTHER}),
        (f"/api/reports/closure?{PERIOD}&format=xlsx", {"dispatcher", "manager", "admin", H_OWN, H_OTHER}),
        ("/api/admin/sla-policies", {"admin"}),
        ("/api/escalations", {*STAFF, H_OWN, H_OTHER}),
        ("/api/outbox", {"manager", "admin"}),
    ],
)
async def test_reports_exports_and_admin(api: Api, path: str, allowed: set[str]) -> None:
    for who in (*STAFF, H_OWN, H_OTHER, I_OWN):
        r = await api.get(who, path)
        assert r.status_code == (200 if who in allowed else 403), (who, path, r.text)
    assert (await api.get(None, path)).status_code == 401


async def test_a_handlers_report_and_export_cover_its_own_unit_only(api: Api, tickets: dict[str, Any]) -> None:
    period = {"from": FROM, "to": TO, "group_by": "unit"}
    mine = await api.get(H_OWN, "/api/reports/closure", params=period)
    assert mine.status_code == 200 and {row["group"] for row in mine.json()["rows"]} == {OWN_UNIT}
    r = await api.get(H_OTHER, "/api/reports/closure", params=period)
    assert r.status_code == 200
    assert {row["group"] for row in r.json()["rows"]} <= {"320614-bureau"}
    r = await api.get(H_OTHER, "/api/reports/closure", params={**period, "format": "csv", "columns": "codes"})
    assert r.status_code == 200 and OWN_UNIT not in r.text
    r = await api.get(H_OTHER, "/api/escalations", params={"unit": OWN_UNIT, "limit": 200})
    assert r.status_code == 200 and r.json()["items"] == []


async def test_public_progress_leaks_nothing_and_answers_alike(api: Api, tickets: dict[str, Any]) -> None:
    number = tickets["phone"]["number"]
    r = await api.get(None, f"/public/tickets/{number}", params={"phone_tail": "5678"})
    assert r.status_code == 200, r.text
    text = r.text
    assert "13812345678" not in text and "张先生" not in text
    assert "caller" not in r.json() and "events" not in r.json()
    wrong_tail = await api.get(None, f"/public/tickets/{number}", params={"phone_tail": "0000"})
    no_ticket = await api.get(None, "/public/tickets/96196-20000101-999999", params={"phone_tail": "5678"})
    assert wrong_tail.status_code == no_ticket.status_code == 404
    assert wrong_tail.json()["detail"] == no_ticket.json()["detail"]


@pytest.mark.parametrize("action", ["urge", "supplement"])
async def test_only_the_transferring_platform_acts_on_its_transfer(
    api: Api, tickets: dict[str, Any], action: str
) -> None:
    ref = tickets["transfer"]["external_ref"]
    body = {"note": "请尽快办理"} if action == "urge" else {"text": "补充材料"}
    expected = {None: 401, I_OTHER: 404, I_OWN: 200} | {who: 403 for who in (*STAFF, H_OWN, H_OTHER)}
    for who, status in expected.items():
        key = f"matrix-{action}-{who}"
        r = await api.post(who, f"/api/transfers/12345/{ref}/{action}", json=body, headers={"Idempotency-Key": key})
        assert r.status_code == status, (who, action, r.text)
    r = await api.post(I_OTHER, f"/api/transfers/12328/{ref}/{action}", json=body, headers={"Idempotency-Key": "m2"})
    assert r.status_code == 404, r.text
