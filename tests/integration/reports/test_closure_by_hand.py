"""Every metric of every group of the closure report against the week of conftest.py, worked out by hand."""

from __future__ import annotations

import csv
import io

import pytest

from tests.integration.reports.conftest import A, B, C

PERIOD = {"from": "2033-05-09", "to": "2033-05-14"}
AS_OF = "2033-06-05T12:00:00+08:00"  # Sun: A's T2 (due 05-30) and T6 reopen (due 06-03) are due; B's T2 (06-08) not
NONE = {
    "on_time_sign_rate": None,
    "on_time_reply_rate": None,
    "satisfaction_rate": None,
    "resolution_rate": None,
    "return_rate": None,
    "p50_working_hours": None,
    "p90_working_hours": None,
}


def row(
    received=0,
    closed=0,
    dispatched=0,
    signed_on_time=0,
    due=0,
    replied_on_time=0,
    callbacks=0,
    satisfied=0,
    resolved=0,
    returned=0,
    extensions=0,
    urges=0,
    overdue_open=0,
    p50=None,
    p90=None,
):
    rate = lambda a, b: a / b if b else None  # noqa: E731
    return {
        "received": received,
        "dispatched": dispatched,
        "signed_on_time": signed_on_time,
        "on_time_sign_rate": rate(signed_on_time, dispatched),
        "due": due,
        "replied_on_time": replied_on_time,
        "on_time_reply_rate": rate(replied_on_time, due),
        "closed": closed,
        "closure_rate": rate(closed, received),
        "callbacks": callbacks,
        "satisfaction_rate": rate(satisfied, callbacks),
        "resolution_rate": rate(resolved, callbacks),
        "returned": returned,
        "return_rate": rate(returned, dispatched),
        "extensions": extensions,
        "urges": urges,
        "overdue_open": overdue_open,
        "p50_working_hours": p50,
        "p90_working_hours": p90,
    }


# A: received T1 T6 T7 T8; closed T1 T7 T8; charged assignments T1, T2(A), T6, T6-reopen (T7, T8 not charged);
# signed on time all but T2(A); due: T1, T6 replied + T2(A) (05-30) + T6-reopen (06-03); on time T1, T6;
# answered callbacks T1 (satisfied, resolved), T6 (dissatisfied, unresolved); returned T2(A); overdue open: T6-reopen.
# Hours 8.5 and 16: p50 = (8.5 + 16) / 2 = 12.25, p90 = 8.5 + 0.9 * 7.5 = 15.25.
UNIT_A = row(
    received=4,
    closed=3,
    dispatched=4,
    signed_on_time=3,
    due=4,
    replied_on_time=2,
    callbacks=2,
    satisfied=1,
    resolved=1,
    returned=1,
    overdue_open=1,
    p50=12.25,
    p90=15.25,
)
# B: received T2 (now at B), T5; closed T5; charged T2(B), T5, both signed on time; due: T5 (replied late);
# callback T5: basically satisfied, partly resolved (not 'resolved'); extension approved on T2(B); urge on T2(B).
UNIT_B = row(
    received=2,
    closed=1,
    dispatched=2,
    signed_on_time=2,
    due=1,
    replied_on_time=0,
    callbacks=1,
    satisfied=1,
    resolved=0,
    extensions=1,
    urges=1,
    p50=8.0,
    p90=8.0,
)
UNIT_C = row(received=1, closed=1)  # T3, answered on the phone: its assignment is not charged
PENDING = row(received=1)  # T4
# Hours 8, 8.5, 16: p50 = 8.5, p90 = 8.5 + 0.8 * 7.5 = 14.5 (position 0.9 * 2 = 1.8).
TOTAL = row(
    received=8,
    closed=5,
    dispatched=6,
    signed_on_time=5,
    due=5,
    replied_on_time=2,
    callbacks=3,
    satisfied=2,
    resolved=1,
    returned=1,
    extensions=1,
    urges=1,
    overdue_open=1,
    p50=8.5,
    p90=14.5,
)

BY = {
    "unit": {A: UNIT_A, B: UNIT_B, C: UNIT_C, None: PENDING},
    # 320681: T1 T2 T4 T6 T7 T8 with both of T2's assignments; 320613: T3, T5.
    "territory": {
        "320681": row(
            received=6,
            closed=3,
            dispatched=5,
            signed_on_time=4,
            due=4,
            replied_on_time=2,
            callbacks=2,
            satisfied=1,
            resolved=1,
            returned=1,
            extensions=1,
            urges=1,
            overdue_open=1,
            p50=12.25,
            p90=15.25,
        ),
        "320613": row(
            received=2, closed=2, dispatched=1, signed_on_time=1, due=1, callbacks=1, satisfied=1, p50=8.0, p90=8.0
        ),
    },
    "channel": {
        "12345": row(
            received=1, closed=1, dispatched=1, signed_on_time=1, due=1, callbacks=1, satisfied=1, p50=8.0, p90=8.0
        ),
        "96196": row(
            received=7,
            closed=4,
            dispatched=5,
            signed_on_time=4,
            due=4,
            replied_on_time=2,
            callbacks=2,
            satisfied=1,
            resolved=1,
            returned=1,
            extensions=1,
            urges=1,
            overdue_open=1,
            p50=12.25,
            p90=15.25,
        ),
    },
    "category": {
        "taxi": row(
            received=6,
            closed=4,
            dispatched=6,
            signed_on_time=5,
            due=5,
            replied_on_time=2,
            callbacks=3,
            satisfied=2,
            resolved=1,
            returned=1,
            extensions=1,
            urges=1,
            overdue_open=1,
            p50=8.5,
            p90=14.5,
        ),
        "bus": row(received=1, closed=1),
        None: row(received=1),
    },
    "kind": {
        "complaint": row(
            received=5,
            closed=3,
            dispatched=5,
            signed_on_time=4,
            due=4,
            replied_on_time=2,
            callbacks=2,
            satisfied=1,
            resolved=1,
            returned=1,
            extensions=1,
            urges=1,
            overdue_open=1,
            p50=12.25,
            p90=15.25,
        ),
        "report": row(
            received=1, closed=1, dispatched=1, signed_on_time=1, due=1, callbacks=1, satisfied=1, p50=8.0, p90=8.0
        ),
        "consultation": row(received=1, closed=1),
        "help": row(received=1),
    },
}


async def _report(api, user="manager", expect=200, **params):
    r = await api.get(user, "/api/reports/closure", params={**PERIOD, "as_of": AS_OF, **params})
    assert r.status_code == expect, r.text
    return r.json() if expect == 200 else r


@pytest.mark.parametrize("group_by", sorted(BY))
async def test_every_metric_of_every_group_matches_the_hand_count(api, week, group_by):
    body = await _report(api, group_by=group_by)
    got = {r["group"]: {k: v for k, v in r.items() if k not in ("group", "group_name")} for r in body["rows"]}
    assert got == BY[group_by]
    assert body["totals"] == TOTAL
    assert list(body["rows"][0]) == ["group", "group_name", *body["metrics"]]


async def test_as_of_moves_only_due_and_overdue(api, week):
    # 05-20 noon: only replied assignments are due (A: T1, T6; B: T5); nothing open is overdue.
    body = await _report(api, as_of="2033-05-20T12:00:00+08:00")
    rows = {r["group"]: r for r in body["rows"]}
    assert (rows[A]["due"], rows[A]["overdue_open"], rows[A]["on_time_reply_rate"]) == (2, 0, 1.0)
    assert (rows[B]["due"], rows[B]["overdue_open"]) == (1, 0)
    assert {k: v for k, v in rows[A].items() if k not in ("due", "overdue_open", "on_time_reply_rate")} == {
        k: v
        for k, v in {"group": A, "group_name": rows[A]["group_name"], **UNIT_A}.items()
        if k not in ("due", "overdue_open", "on_time_reply_rate")
    }
    # B's extended deadline is 06-08 17:30: due at that very second (<=), not one second before.
    before = {r["group"]: r for r in (await _report(api, as_of="2033-06-08T17:29:59+08:00"))["rows"]}
    on = {r["group"]: r for r in (await _report(api, as_of="2033-06-08T17:30:00+08:00"))["rows"]}
    assert (before[B]["due"], before[B]["overdue_open"]) == (1, 0)
    assert (on[B]["due"], on[B]["overdue_open"], on[B]["on_time_reply_rate"]) == (2, 1, 0.0)
    # A date as_of means the end of that local day.
    assert {r["group"]: r for r in (await _report(api, as_of="2033-06-08"))["rows"]}[B]["overdue_open"] == 1


async def test_datetime_bounds_cut_inside_days(api, week):
    # [Mon 12:00, Thu 09:00): T2, T3, T4, T5; T1 (Mon 09:00) before, T6 (Thu 09:00) at the exclusive end.
    body = await _report(api, **{"from": "2033-05-09T12:00:00+08:00", "to": "2033-05-12T01:00:00Z"})
    assert body["totals"]["received"] == 4
    rows = {r["group"]: r for r in body["rows"]}
    assert set(rows) == {A, B, C, None}
    assert rows[A]["received"] == 0 and rows[A]["dispatched"] == 1 and rows[A]["returned"] == 1  # T2's first stop
    assert rows[B]["received"] == 2 and rows[B]["urges"] == 1 and rows[B]["extensions"] == 1
    # An unencoded '+' arrives as a space and is still read as an offset.
    same = await api.get(
        "manager",
        "/api/reports/closure?from=2033-05-09T12:00:00+08:00&to=2033-05-12T09:00:00+08:00"
        "&as_of=2033-06-05T12:00:00%2B08:00",
    )
    assert same.status_code == 200 and same.json()["totals"] == body["totals"]


async def test_a_handler_gets_its_own_unit_only(api, week):
    body = await _report(api, user="handler-320681-bureau")
    assert [r["group"] for r in body["rows"]] == [A]
    assert body["totals"] == UNIT_A
    by_territory = await _report(api, user="handler-320681-bureau", group_by="territory")
    assert [r["group"] for r in by_territory["rows"]] == ["320681"] and by_territory["totals"] == UNIT_A
    for user in ("dispatcher", "admin"):
        assert (await _report(api, user=user))["totals"] == TOTAL


@pytest.mark.parametrize("user", ["agent", "integration-12345"])
async def test_agents_and_integrations_are_refused(api, week, user):
    r = await _report(api, user=user, expect=403)
    assert r.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": None}, "from"),
        ({"to": None}, "to"),
        ({"from": "2033-05-32"}, "from"),
        ({"from": "last week"}, "from"),
        ({"to": "2033-05-14T00:00:00"}, "to"),  # no offset
        ({"to": "2033-05-01"}, "to"),  # before from
        ({"as_of": "tomorrow"}, "as_of"),
        ({"group_by": "street"}, "group_by"),
        ({"format": "pdf"}, "format"),
        ({"format": "csv", "columns": "english"}, "columns"),
    ],
)
async def test_bad_input_is_a_422_naming_the_field(api, params, field):
    query = {**PERIOD, **params}
    r = await api.get("manager", "/api/reports/closure", params={k: v for k, v in query.items() if v is not None})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert field in r.json()["fields"]


async def test_csv_with_codes_has_a_bom_metric_headers_names_and_totals(api, week, runtime):
    r = await api.get(
        "manager", "/api/reports/closure", params={**PERIOD, "as_of": AS_OF, "format": "csv", "columns": "codes"}
    )
    assert r.status_code == 200 and r.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in r.headers["content-disposition"]
    assert r.content.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert table[0][:3] == ["group", "group_name", "received"] and "p90_working_hours" in table[0]
    rows = {line[0]: dict(zip(table[0], line, strict=True)) for line in table[1:]}
    assert rows[A]["group_name"] == runtime.names.units[A] == "启东市交通运输局"
    assert rows[A]["closure_rate"] == "0.75" and rows[A]["p50_working_hours"] == "12.25"
    assert rows[C]["on_time_sign_rate"] == ""  # null rate
    assert rows[""]["group_name"] == "未派单" and rows["total"]["received"] == "8"


async def test_xlsx_with_codes_opens_with_the_same_figures(api, week):
    from openpyxl import load_workbook

    query = {**PERIOD, "as_of": AS_OF, "format": "xlsx", "group_by": "channel", "columns": "codes"}
    r = await api.get("manager", "/api/reports/closure", params=query)
    assert r.status_code == 200 and "spreadsheetml" in r.headers["content-type"]
    ws = load_workbook(io.BytesIO(r.content)).worksheets[0]
    values = list(ws.iter_rows(values_only=True))
    header = list(values[0])
    rows = {v[0]: dict(zip(header, v, strict=True)) for v in values[1:]}
    assert rows["12345"]["received"] == 1 and rows["12345"]["on_time_reply_rate"] == 0
    assert rows["96196"]["p90_working_hours"] == 15.25 and rows["total"]["closed"] == 5
    assert rows["total"]["group_name"] == "合计"
