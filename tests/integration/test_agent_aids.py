"""Agent aids: the caller's earlier tickets and likely duplicates, on Chinese text."""

from __future__ import annotations

import random


def _phone() -> str:
    return "13" + "".join(random.choice("0123456789") for _ in range(9))


async def test_rephrased_complaint_about_the_same_plate_is_found_and_unrelated_is_not(api):
    plate = "苏F" + "".join(random.choice("0123456789") for _ in range(5))
    original = await api.create(
        "agent",
        category="taxi",
        territory="320612",
        caller={"name": "张", "phone": _phone()},
        title="出租车拒载",
        content=f"乘客在通州区万达广场打车，车牌{plate}的出租车拒载，司机态度恶劣。",
    )
    unrelated = await api.create(
        "agent",
        category="bus",
        territory="320612",
        caller={"name": "李", "phone": _phone()},
        title="公交晚点",
        content="通州区12路公交车早高峰晚点半小时，站台拥挤。",
    )
    r = await api.get(
        "agent",
        "/api/tickets/hints",
        params={
            "phone": _phone(),
            "category": "taxi",
            "territory": "320612",
            "text": f"{plate.lower()}司机在万达附近不肯载客，还骂人",
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    numbers = [t["number"] for t in body["duplicates"]]
    assert original["number"] in numbers and unrelated["number"] not in numbers
    hit = body["duplicates"][numbers.index(original["number"])]
    assert "same_plate" in hit["reasons"] and body["plates"] == [plate]


async def test_similar_text_without_plate_in_same_category_and_territory(api):
    tag = "".join(random.choice("甲乙丙丁戊己庚辛") for _ in range(4))
    original = await api.create(
        "agent",
        category="road",
        territory="320681",
        title=f"道路坑洼{tag}",
        content=f"启东市{tag}路与人民路交叉口路面坑洼严重，雨天积水，电动车容易摔倒。",
    )
    other_territory = await api.create(
        "agent",
        category="road",
        territory="320682",
        title=f"道路坑洼{tag}",
        content=f"启东市{tag}路与人民路交叉口路面坑洼严重，雨天积水。",
    )
    r = await api.get(
        "agent",
        "/api/tickets/hints",
        params={"category": "road", "territory": "320681", "text": f"{tag}路人民路路口坑洼积水，电动车摔倒了"},
    )
    numbers = [t["number"] for t in r.json()["duplicates"]]
    assert original["number"] in numbers
    assert other_territory["number"] not in numbers  # same words, another territory: another case


async def test_earlier_tickets_of_the_caller(api):
    phone = _phone()
    first = await api.create("agent", caller={"name": "王", "phone": phone})
    second = await api.create(
        "agent", caller={"name": "王", "phone": phone}, category="bus", title="公交", content="公交问题"
    )
    body = (await api.get("agent", "/api/tickets/hints", params={"phone": phone})).json()
    assert [t["number"] for t in body["earlier"]] == [second["number"], first["number"]]
    assert all("same_phone" in t["reasons"] for t in body["duplicates"])
    assert (await api.get("agent", "/api/tickets/hints", params={"phone": "abc"})).status_code == 422
    assert (await api.get("handler-320612-bureau", "/api/tickets/hints", params={"phone": phone})).status_code == 403


async def test_reference_data_for_pickers(api):
    body = (await api.get("agent", "/api/reference")).json()
    assert {c["code"] for c in body["channels"]} == {"96196", "12345", "12328", "12319", "web"}
    assert {"code": "320612", "name": "通州区"} in body["territories"]
    assert any(u["code"] == "city-taxi" for u in body["units"])
