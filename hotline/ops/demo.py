"""Demo tickets: twelve weeks of plausible history for the console to show (`make run`, `hotline seed --demo-tickets
N`) and for the browser tests to be timed on.

Runs the real service functions (intake and lifecycle with `now=` in the past), so every ticket has its assignments,
clocks and events exactly as the service would have written them: some closed, some late, some returned, some
waiting for an extension decision, some dissatisfied and reopened, some still open past their deadline.

    hotline seed --demo --demo-tickets 1200      (HOTLINE_DATABASE_URL / HOTLINE_REDIS_URL from the environment)
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import msgspec

import sla
from hotline.auth.tokens import Principal
from hotline.errors import DomainError
from hotline.escalation import clocks
from hotline.infra import queue as jobs
from hotline.infra.runtime import Runtime
from hotline.tickets import intake, lifecycle, routing

STORIES = {
    "taxi": [
        ("出租车拒载", "在{place}打车，司机以交班为由拒载，车牌苏F{plate}。"),
        ("出租车绕路多收费", "从{place}到火车站，司机绕路，多收费约二十元，车牌苏F{plate}。"),
        ("出租车不打表", "乘坐苏F{plate}出租车，司机不打表一口价。"),
    ],
    "ride_hailing": [
        ("网约车司机态度恶劣", "网约车订单在{place}上车，司机辱骂乘客。"),
        ("网约车车辆与登记不符", "网约车实际车辆与平台显示不一致，车牌苏F{plate}。"),
    ],
    "bus": [
        ("公交车不进站停靠", "{place}站台，公交车未进站直接开走。"),
        ("公交车发车间隔过长", "{place}附近线路晚高峰等车超过四十分钟。"),
        ("建议增设公交站点", "{place}新小区入住多，建议增设公交站点。"),
    ],
    "road": [
        ("道路坑洼影响通行", "{place}路段出现多处坑洼，雨天积水，电动车易摔倒。"),
        ("路灯损坏", "{place}段路灯连续多盏不亮，夜间通行不安全。"),
    ],
    "road_admin": [("货车超限超载", "{place}附近经常有超载货车通行，路面损坏严重。")],
    "coach": [("客运班车超员", "{place}发往上海的班车超员，过道站人。")],
    "freight": [("货车乱停放", "{place}附近货车长期占道停放。")],
    "vehicle_repair": [("维修厂乱收费", "{place}一家维修厂更换配件未经同意，收费过高。")],
    "driving_school": [("驾校退费纠纷", "报名驾校后因搬家申请退费，驾校拒绝退还。")],
    "highway": [("高速服务区卫生差", "沈海高速{place}服务区卫生间卫生差。")],
    "toll": [("ETC重复扣费", "通过{place}收费站ETC被重复扣费。")],
    "waterway": [("渡口安全隐患", "{place}渡口救生设施不全。")],
    "construction": [("施工围挡占道", "{place}交通工程施工围挡占用非机动车道，无警示标志。")],
    "other": [("咨询交通政策", "咨询老年人乘车优惠办理条件。")],
}
PLACES = [
    "万达广场",
    "南大街",
    "火车站",
    "金沙镇",
    "世纪大道",
    "濠河风景区",
    "汽车客运站",
    "人民医院",
    "工业园区",
    "文峰大世界",
]
TERRITORIES = ["320612", "320613", "320614", "320623", "320681", "320682", "320685", "320600"]
KINDS = ["complaint"] * 5 + ["consultation", "help", "help", "report", "suggestion", "praise"]
REPLIES = [
    "经核查情况属实，已约谈驾驶员并依法处理，向来电人致歉。",
    "已安排养护单位现场处置，预计三日内修复完毕。",
    "已转告企业整改，并加强日常巡查。",
    "经调查，相关情况已向来电人解释说明。",
]


def _working_moment(rng: random.Random, day: datetime) -> datetime:
    minute = rng.choice([rng.randint(8 * 60 + 35, 11 * 60 + 50), rng.randint(13 * 60 + 35, 17 * 60 + 20)])
    return day.replace(hour=minute // 60, minute=minute % 60, second=rng.randint(0, 59))


LADDER = {
    "warning": "出租车拒载（时限演示：预警）",
    "overdue": "出租车绕路多收费（时限演示：超期）",
    "supervision": "出租车不打表（时限演示：督办）",
}


async def ladder(rt: Runtime, agent: Principal, handler: Principal, now: datetime) -> list[str]:
    """One signed complaint at 通州区交通运输局 for each escalation step, whatever day the tests run on."""
    policies = await rt.current_policies()
    tz = rt.calendar.tz
    numbers = []
    for step, title in LADDER.items():
        day = now.astimezone(tz).date()
        for _ in range(80):
            day -= timedelta(days=1)
            if not rt.calendar.is_working_day(day):
                continue
            at = datetime.combine(day, time(10), tz)
            d = clocks.compute(
                policies, rt.calendar, clock="reply", start=at, channel="96196", kind="complaint", urgent=False
            ).deadline
            if sla.step_due(d, now) == step:
                break
        data = intake.TicketIn(
            channel="96196",
            kind="complaint",
            category="taxi",
            territory="320612",
            title=title,
            content="乘客在通州区万达广场乘坐出租车，" + title + "。",
            caller=intake.Caller(name="时限演示", phone="13700000000"),
        )
        result = await intake.create_ticket(rt, agent, data, idempotency_key=None, now=at)
        number = await rt.pool.fetchval("SELECT number FROM tickets WHERE id = $1", result.ticket_id)
        await lifecycle.perform(rt, handler, number, "sign", b"{}", now=at + timedelta(minutes=20))
        numbers.append(number)
    return numbers


async def _not_armed(redis: object, steps: object) -> None:
    return None


async def populate(rt: Runtime, count: int, seed: int = 7, weeks: int = 12) -> dict[str, int]:
    """Write `count` tickets' histories through the real intake and lifecycle. History arms no exact-time jobs
    (their instants are mostly past): the worker's catch-up sweep records what is due from PostgreSQL, as it would
    after any outage."""
    saved = jobs.arm
    jobs.arm = _not_armed
    try:
        return await _populate(rt, count, seed, weeks)
    finally:
        jobs.arm = saved


async def _populate(rt: Runtime, count: int, seed: int, weeks: int) -> dict[str, int]:
    now = datetime.now(UTC)
    users = {
        r["username"]: Principal(r["id"], r["username"], r["role"], r["display_name"], r["unit"], r["channel"])
        for r in await rt.pool.fetch("SELECT id, username, role, display_name, unit, channel FROM users")
    }
    history = _History(rt, random.Random(seed), now, users)
    first_day = (now.astimezone(rt.calendar.tz) - timedelta(weeks=weeks)).date()
    days = [first_day + timedelta(days=i) for i in range(weeks * 7)]
    history.counts["ladder"] = len(await ladder(rt, history.agent, users["handler-320612-bureau"], now))
    for i in range(count):
        await history.ticket(i, days)
    return history.counts


class _History:
    """One seeded run of demo history: each ticket's story drawn from the random source in a fixed order (the same
    seed gives the same tickets), acted out through the real lifecycle. An action that falls after `now` or that
    the service refuses ends the story there."""

    def __init__(self, rt: Runtime, rng: random.Random, now: datetime, users: dict[str, Principal]) -> None:
        self.rt, self.rng, self.now, self.users = rt, rng, now, users
        self.agent, self.dispatcher, self.manager = users["agent"], users["dispatcher"], users["manager"]
        self.counts = {"tickets": 0, "actions": 0}

    async def act(self, p: Principal, number: str, name: str, at: datetime, **body: object) -> dict[str, Any] | None:
        if at >= self.now:
            return None
        try:
            result = await lifecycle.perform(self.rt, p, number, name, msgspec.json.encode(body), now=at)
        except DomainError:
            return None
        self.counts["actions"] += 1
        return result

    async def ticket(self, i: int, days: list[date]) -> None:
        """The `i`th ticket: its call, then as far through dispatch, handling, reply and callback as its story goes."""
        number, kind, category, unit, t = await self._call(i, days)
        if unit is None:
            dispatched = await self._dispatch(number, category, t)
            if dispatched is None:
                return
            unit, t = dispatched
        if kind == "consultation" and self.rng.random() < 0.5:
            await self.act(self.agent, number, "close", t + timedelta(minutes=3), answer="已当场解答来电人咨询。")
            return
        handler = self.users[f"handler-{unit}"]
        t += timedelta(hours=self.rng.choice([0.3, 1, 2, 5, 20, 30]))
        if self.rng.random() < 0.04:
            returned = await self._return(handler, number, unit, t)
            if returned is None:
                return
            handler, t = returned
        if await self.act(handler, number, "sign", t) is None:
            return
        handled = await self._handle(handler, number, t)
        if handled is not None:
            await self._reply_and_call_back(handler, number, handled)

    async def _call(self, i: int, days: list[date]) -> tuple[str, str, str, str | None, datetime]:
        """The call (or transfer) taken: (number, kind, category, unit routed to or None, instant)."""
        rng, now = self.rng, self.now
        day = rng.choice(days)
        if day.weekday() >= 5 and rng.random() < 0.6:
            day = day - timedelta(days=day.weekday() - 4)
        at = _working_moment(rng, datetime.combine(day, time(9), self.rt.calendar.tz))
        if i % 60 == 0:
            at = now - timedelta(minutes=rng.randint(5, 180))  # a few calls earlier today
        if at >= now:
            at = now - timedelta(hours=rng.randint(1, 48))
        category = rng.choice(list(STORIES))
        title, content = rng.choice(STORIES[category])
        place, plate = rng.choice(PLACES), f"{rng.randint(10000, 99999)}"
        territory: str | None = rng.choice(TERRITORIES)
        kind = rng.choice(KINDS)
        principal, channel, ext = self.agent, "96196", None
        if rng.random() > 0.72:
            channel = rng.choice(["12345", "12328", "12319"])
            principal, ext = self.users[f"integration-{channel}"], f"{channel}-{day:%Y%m%d}-{i:05d}"
        if rng.random() < 0.04:
            territory = None  # unrouted: waits for a dispatcher
        data = intake.TicketIn(
            channel=channel,
            kind=kind,
            category=category,
            territory=territory,
            title=title,
            content=content.format(place=place, plate=plate),
            caller=intake.Caller(
                name=rng.choice(["张先生", "李女士", "王先生", "陈女士", "刘先生", "周女士"]),
                phone=f"13{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}",
            ),
            urgent=rng.random() < 0.05,
            external_ref=ext,
        )
        result = await intake.create_ticket(self.rt, principal, data, idempotency_key=None, now=at)
        self.counts["tickets"] += 1
        number = await self.rt.pool.fetchval("SELECT number FROM tickets WHERE id = $1", result.ticket_id)
        return number, kind, category, result.unit, at

    async def _dispatch(self, number: str, category: str, t: datetime) -> tuple[str, datetime] | None:
        """An unrouted ticket dispatched by hand: (unit, instant), or None while it still waits."""
        t += timedelta(minutes=self.rng.randint(20, 240))
        if self.rng.random() < 0.3:
            return None  # still waiting for a dispatcher
        unit = routing.router(self.rt).resolve(category, self.rng.choice(TERRITORIES[:-1])).unit or "city-office"
        if await self.act(self.dispatcher, number, "dispatch", t, unit=unit, note="人工派单") is None:
            return None
        return unit, t

    async def _return(
        self, handler: Principal, number: str, unit: str, t: datetime
    ) -> tuple[Principal, datetime] | None:
        """The unit returns the ticket and a dispatcher sends it on: (the new unit's handler, instant), or None
        while the return waits for a decision."""
        if await self.act(handler, number, "return", t, reason="该事项不属于本单位职责范围，请改派。") is None:
            return None
        if self.rng.random() < 0.5:
            return None  # the return waits for a decision
        unit = "city-office" if unit != "city-office" else "city-taxi"
        t += timedelta(hours=3)
        proper = self.rng.random() < 0.5
        if (
            await self.act(
                self.dispatcher, number, "decide-return", t, accept=True, unit=unit, proper=proper, note="同意改派"
            )
            is None
        ):
            return None
        return self.users[f"handler-{unit}"], t + timedelta(hours=self.rng.choice([0.5, 2, 6]))

    async def _handle(self, handler: Principal, number: str, t: datetime) -> datetime | None:
        """Notes, an extension request and an urge while the unit works: the instant it got to, or None while an
        extension request waits for a decision."""
        rng = self.rng
        if rng.random() < 0.3:
            t += timedelta(hours=rng.randint(1, 30))
            await self.act(handler, number, "note", t, text="已联系来电人了解情况，正在调查核实。")
        if rng.random() < 0.05:
            t += timedelta(hours=2)
            if await self.act(
                handler, number, "request-extension", t, working_days=5, reason="需协调多个部门现场核查。"
            ):
                if rng.random() < 0.5:
                    return None  # the request waits for a decision
                approve = rng.random() < 0.8
                note = "同意" if rng.random() < 0.8 else "理由不充分"
                await self.act(
                    self.dispatcher, number, "decide-extension", t + timedelta(hours=4), approve=approve, note=note
                )
        if rng.random() < 0.06:
            await self.act(self.manager, number, "urge", t + timedelta(days=rng.randint(1, 12)), note="请抓紧办理。")
        return t

    async def _reply_and_call_back(self, handler: Principal, number: str, t: datetime) -> None:
        """A reply and its callback; a dissatisfied caller may send it back for one more round."""
        rng = self.rng
        for _ in range(2):
            days_ = rng.choice([0.2, 0.5, 1, 2, 3, 5, 7, 9, 12]) if rng.random() < 0.9 else rng.choice([16, 20, 26])
            t += timedelta(days=days_)
            content = rng.choice(REPLIES)
            outcome = rng.choice(["resolved", "resolved", "partly_resolved", "explained"])
            if await self.act(handler, number, "reply", t, content=content, outcome=outcome) is None:
                break
            t += timedelta(hours=rng.choice([2, 5, 20, 40]))
            satisfaction = rng.choice(["satisfied"] * 6 + ["basically_satisfied"] * 3 + ["dissatisfied"])
            resolved = (
                "unresolved" if satisfaction == "dissatisfied" else rng.choice(["resolved", "resolved", "partly"])
            )
            done = await self.act(
                self.agent,
                number,
                "callback",
                t,
                contacted=True,
                resolved=resolved,
                satisfaction=satisfaction,
                note="已电话回访。",
            )
            if done is None or done["status"] == "closed" or rng.random() < 0.5:
                break
