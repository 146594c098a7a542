"""A week of tickets with figures worked out by hand (received Mon 2033-05-09 .. Fri 2033-05-13, +08:00).

2033 has no official calendar data: working days are Mon-Fri, office hours 08:30-12:00 and 13:30-17:30 (7.5 h a
day), deadlines are provisional. Reply limits: complaint 15 working days, urgent 24 natural hours; sign: 1 working
day, urgent 30 natural minutes. Units: taxi in 320681 -> 320681-bureau (A), taxi in 320613 -> city-taxi (B),
bus in 320613 -> city-bus (C). (A is 启东市's bureau rather than 通州区's, which other tests' handler lists assume
no ticket ever left.)

T0  Sun 05-08 23:30 taxi/320681 complaint: before the period.
T1  Mon 05-09 09:00 taxi/320681 complaint -> A. Signed Mon 10:00 (sign due Tue 05-10 17:30: on time). Replied
    Wed 05-11 10:00; reply due 15 working days after Mon = Mon 05-30 17:30: on time. Working hours Mon 09:00-12:00
    (3) + 13:30-17:30 (4) + Tue (7.5) + Wed 08:30-10:00 (1.5) = 16 h. Callback Thu 08:50 not answered, then Thu 09:00
    answered: resolved, satisfied -> closed.
T2  Mon 05-09 14:00 taxi/320681 complaint -> A. A signs Wed 05-11 09:00 (sign due Tue 17:30: late), returns it Wed
    09:30; the dispatcher accepts Wed 10:00, not proper, re-dispatching to B: A's assignment stays charged, its
    reply deadline stays Mon 05-30 17:30, never replied. B signs Wed 11:00 (due Thu 05-12 17:30: on time); reply due
    15 working days after Wed 05-11 = Wed 06-01 17:30; B asks Thu 09:00 for 5 more working days, approved Thu 10:00:
    Thu 06-02, Fri 06-03, Mon 06-06, Tue 06-07, Wed 06-08 -> 2033-06-08 17:30. Urged Fri 05-13 09:00 (B holds it).
    Open at B.
T3  Tue 05-10 09:00 bus/320613 consultation -> C; answered on the phone Tue 09:05 (close): assignment withdrawn, not
    charged; the ticket keeps C as its unit.
T4  Tue 05-10 10:00 help, no category, 320681: waits for dispatch (unit null).
T5  Wed 05-11 08:00 via 12345, taxi/320613 report, urgent -> B. Sign due 08:30, signed 08:20: on time. Reply due
    Thu 05-12 08:00, replied Thu 09:00: late. Working hours Wed 7.5 + Thu 08:30-09:00 0.5 = 8 h. Callback Thu 15:00:
    partly resolved, basically satisfied -> closed.
T6  Thu 05-12 09:00 taxi/320681 complaint -> A. Signed Thu 10:00 (on time). Asks 3 more days Thu 11:00, denied Thu
    11:30. Replied Fri 05-13 10:00 (on time): Thu 3 + 4 + Fri 1.5 = 8.5 h. Callback Fri 14:00: unresolved,
    dissatisfied -> reopened at A (origin reopen, signed at once, no sign clock); reply due 15 working days after
    Fri 05-13 = Fri 06-03 17:30. Open.
T7  Fri 05-13 09:00 taxi/320681 complaint -> A; merged into T6 Fri 09:30: closed, assignment not charged.
T8  Fri 05-13 11:00 taxi/320681 complaint -> A; rejected Fri 11:10: closed, assignment not charged.
T9  Sat 05-14 00:00 taxi/320681 complaint: at `to`, outside [from, to).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import msgspec
import pytest

from tests.conftest import principal

TZ = timezone(timedelta(hours=8))
A, B, C = "320681-bureau", "city-taxi", "city-bus"


def at(month: int, day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2033, month, day, hour, minute, second, tzinfo=TZ)


class Desk:
    """Drives intake and lifecycle at chosen instants as the real roles."""

    def __init__(self, rt: Any) -> None:
        self.rt = rt
        self.people: dict[str, Any] = {}

    async def who(self, username: str) -> Any:
        if username not in self.people:
            self.people[username] = await principal(self.rt, username)
        return self.people[username]

    async def create(self, when: datetime, user: str = "agent", **fields: Any) -> str:
        from hotline.tickets import intake

        body = {
            "channel": "96196",
            "kind": "complaint",
            "category": "taxi",
            "territory": "320681",
            "title": "报表测试",
            "content": "报表测试工单",
        }
        body.update(fields)
        result = await intake.create_ticket(
            self.rt, await self.who(user), msgspec.convert(body, intake.TicketIn), idempotency_key=None, now=when
        )
        return await self.rt.pool.fetchval("SELECT number FROM tickets WHERE id = $1", result.ticket_id)

    async def act(self, user: str, number: str, action: str, when: datetime, **body: Any) -> dict[str, Any]:
        from hotline.tickets import lifecycle

        return await lifecycle.perform(
            self.rt, await self.who(user), number, action, msgspec.json.encode(body), now=when
        )


@pytest.fixture(scope="session")
async def desk(runtime: Any) -> Desk:
    return Desk(runtime)


@pytest.fixture(scope="session")
async def week(desk: Desk) -> dict[str, str]:
    """Build the week described above once; returns ticket numbers by name."""
    d = desk
    HA, HB = "handler-320681-bureau", "handler-city-taxi"
    n: dict[str, str] = {}
    n["T0"] = await d.create(at(5, 8, 23, 30))

    n["T1"] = await d.create(at(5, 9, 9))
    await d.act(HA, n["T1"], "sign", at(5, 9, 10))
    await d.act(HA, n["T1"], "reply", at(5, 11, 10), content="已处理", outcome="resolved")
    await d.act("agent", n["T1"], "callback", at(5, 12, 8, 50), contacted=False, satisfaction="no_answer")
    t = await d.act(
        "agent", n["T1"], "callback", at(5, 12, 9), contacted=True, resolved="resolved", satisfaction="satisfied"
    )
    assert t["closure"] == "callback_done"

    n["T2"] = await d.create(at(5, 9, 14))
    await d.act(HA, n["T2"], "sign", at(5, 11, 9))
    await d.act(HA, n["T2"], "return", at(5, 11, 9, 30), reason="属市区出租车管辖")
    await d.act("dispatcher", n["T2"], "decide-return", at(5, 11, 10), accept=True, unit=B, proper=False)
    await d.act(HB, n["T2"], "sign", at(5, 11, 11))
    await d.act(HB, n["T2"], "request-extension", at(5, 12, 9), working_days=5, reason="需调取监控")
    t = await d.act("dispatcher", n["T2"], "decide-extension", at(5, 12, 10), approve=True)
    assert datetime.fromisoformat(t["deadlines"]["reply"]) == at(6, 8, 17, 30)
    await d.act("manager", n["T2"], "urge", at(5, 13, 9), note="请加快办理")

    n["T3"] = await d.create(at(5, 10, 9), kind="consultation", category="bus", territory="320613")
    await d.act("agent", n["T3"], "close", at(5, 10, 9, 5), answer="已电话答复")

    n["T4"] = await d.create(at(5, 10, 10), kind="help", category=None)

    n["T5"] = await d.create(
        at(5, 11, 8),
        user="integration-12345",
        channel="12345",
        kind="report",
        territory="320613",
        urgent=True,
        external_ref="RPT-2033-0001",
    )
    await d.act(HB, n["T5"], "sign", at(5, 11, 8, 20))
    t = await d.act(HB, n["T5"], "reply", at(5, 12, 9), content="已查处", outcome="partly_resolved")
    await d.act(
        "agent",
        n["T5"],
        "callback",
        at(5, 12, 15),
        contacted=True,
        resolved="partly",
        satisfaction="basically_satisfied",
    )

    n["T6"] = await d.create(at(5, 12, 9))
    await d.act(HA, n["T6"], "sign", at(5, 12, 10))
    await d.act(HA, n["T6"], "request-extension", at(5, 12, 11), working_days=3, reason="需要更多时间")
    await d.act("dispatcher", n["T6"], "decide-extension", at(5, 12, 11, 30), approve=False)
    await d.act(HA, n["T6"], "reply", at(5, 13, 10), content="已处理", outcome="explained")
    t = await d.act(
        "agent", n["T6"], "callback", at(5, 13, 14), contacted=True, resolved="unresolved", satisfaction="dissatisfied"
    )
    assert t["status"] == "in_progress" and datetime.fromisoformat(t["deadlines"]["reply"]) == at(6, 3, 17, 30)

    n["T7"] = await d.create(at(5, 13, 9))
    await d.act("agent", n["T7"], "merge", at(5, 13, 9, 30), into=n["T6"])
    n["T8"] = await d.create(at(5, 13, 11))
    await d.act("dispatcher", n["T8"], "reject", at(5, 13, 11, 10), reason="非交通运输职责")
    n["T9"] = await d.create(at(5, 14, 0))
    return n
