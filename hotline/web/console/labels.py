"""The console's words: Chinese labels for codes, and plain-Chinese accounts of routing, deadlines and durations.

The API speaks codes and English; everything a console user reads goes through here, so one file holds the wording.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from hotline.reports.metrics import GROUP_COLUMN, GROUP_LABELS
from hotline.reports.metrics import LABELS as METRIC_LABELS
from hotline.vocab import ADMIN, AGENT, DISPATCHING_ROLES, HANDLER, STAFF_ROLES

ROLE = {
    "agent": "坐席",
    "handler": "承办单位",
    "dispatcher": "派单员",
    "manager": "管理",
    "admin": "系统管理员",
    "integration": "接口",
    "system": "系统",
}
HOME = {"agent": "/agent", "handler": "/handler", "dispatcher": "/dispatcher", "manager": "/manager", "admin": "/admin"}
# Which roles may open which page; admin sees every page that needs no unit of its own.
PAGE_ROLES = {
    "agent": {AGENT, ADMIN},
    "handler": {HANDLER},
    "dispatcher": set(DISPATCHING_ROLES),
    "manager": set(DISPATCHING_ROLES),
    "ticket": set(STAFF_ROLES),
    "admin": {ADMIN},
}
NAV = [
    ("agent", "受理与回访"),
    ("handler", "承办工作台"),
    ("dispatcher", "派单调度"),
    ("manager", "监管看板"),
    ("admin", "系统管理"),
]

STATUS = {
    "pending_dispatch": "待派单",
    "dispatched": "待签收",
    "in_progress": "办理中",
    "return_requested": "退单待审",
    "replied": "已答复待回访",
    "closed": "已办结",
}
CLOSURE = {
    "answered": "直接答复",
    "callback_done": "回访办结",
    "merged": "重复件合并",
    "rejected": "不予受理",
    "withdrawn": "上级平台撤回",
}
OUTCOME = {"resolved": "已解决", "partly_resolved": "部分解决", "unresolved": "未解决", "explained": "已解释说明"}
SATISFACTION = {"satisfied": "满意", "basically_satisfied": "基本满意", "dissatisfied": "不满意", "no_answer": "未接通"}
RESOLVED = {"resolved": "已解决", "partly": "部分解决", "unresolved": "未解决"}
CLOCK = {"sign": "签收", "reply": "办结", "callback": "回访", "dispatch": "派单"}
STEP = {"warning": "预警", "overdue": "超期", "supervision": "督办"}
ORIGIN = {"route": "自动派单", "dispatch": "人工派单", "redispatch": "改派", "reopen": "重办"}
END_REASON = {
    "replied": "已答复",
    "returned": "已退回",
    "withdrawn": "已撤回",
    "merged": "已合并",
    "rejected": "不予受理",
    "closed": "已办结",
}
ACTION = {
    "create": "受理登记",
    "route": "自动派单",
    "dispatch": "派单",
    "sign": "签收",
    "return": "申请退单",
    "decide-return": "退单审核",
    "note": "办理记录",
    "request-extension": "申请延期",
    "decide-extension": "延期审批",
    "reply": "答复",
    "callback": "回访",
    "urge": "催办",
    "recall": "上级平台撤回",
    "supplement": "补充材料",
    "close": "直接答复办结",
    "reject": "不予受理",
    "merge": "合并为重复件",
    "merged_from": "并入重复件",
    "reclassify": "更正属地与类别",
}
UNIT_TEXT = {"working_days": "个工作日", "working_hours": "个工作小时", "hours": "小时（自然时间）"}
GROUP_BY = GROUP_LABELS
# The closure report's column headers, the same words as its exported files (hotline.reports.metrics.LABELS).
REPORT_COLUMN = {"group": GROUP_COLUMN, **METRIC_LABELS}

_WEEKDAYS = "一二三四五六日"


def local(value: str | datetime | None, tz: ZoneInfo, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(tz).strftime(fmt)


def local_with_weekday(value: str | datetime | None, tz: ZoneInfo) -> str:
    if not value:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    at = value.astimezone(tz)
    return f"{at:%Y-%m-%d}（周{_WEEKDAYS[at.weekday()]}）{at:%H:%M}"


def duration(seconds: float | None, *, working: bool, day_seconds: int) -> str:
    """'2个工作日3小时' for working time, '5小时20分' for natural time; the sign is the caller's concern."""
    if seconds is None:
        return ""
    s = int(abs(seconds))
    if working and s >= day_seconds:
        days, rest = divmod(s, day_seconds)
        hours = rest // 3600
        return f"{days}个工作日" + (f"{hours}小时" if hours else "")
    if not working and s >= 86400:
        days, rest = divmod(s, 86400)
        return f"{days}天{rest // 3600}小时"
    hours, rest = divmod(s, 3600)
    minutes = rest // 60
    if hours:
        return f"{hours}小时{minutes}分"
    return f"{minutes}分钟" if minutes else "不足1分钟"


def countdown(seconds: float | None, *, working: bool, day_seconds: int, past_due: bool | None = None) -> str:
    """'剩余…' or '已超时…'. Past the due instant outside office hours no working time has run yet, so the
    caller says whether the deadline has passed rather than trusting the sign of a zero."""
    if seconds is None:
        return ""
    text = duration(seconds, working=working, day_seconds=day_seconds)
    if past_due and abs(seconds) < 60:
        return "已超时"  # due at the close of the last working day; no working time has run since
    if past_due or (past_due is None and seconds < 0):
        return f"已超时{text}"
    return f"剩余{text}"


def routing_text(
    routing: dict[str, Any] | None, rule: dict[str, Any] | None, names: Any, category: str | None, territory: str | None
) -> str:
    """Why the ticket went where it went (or why it waits for a dispatcher), in the terms of the rule table."""
    routing = routing or {}
    cat = names.categories.get(category or "", category or "")
    ter = names.territories.get(territory or "", territory or "")
    unit = routing.get("unit")
    if unit:
        unit_name = names.units.get(unit, unit)
        if rule is not None:
            scope = (
                names.territories.get(rule["territory"], rule["territory"])
                if rule["territory"] != "*"
                else "全市任意属地"
            )
            if rule["unit"] == "{territory}-bureau":
                return f"按规则#{rule['id']}：「{cat}」类诉求由属地交通运输局承办，属地为{ter}，派至{unit_name}。"
            return f"按规则#{rule['id']}：「{cat}」类诉求在{scope}由{unit_name}承办。"
        return f"派至{unit_name}。"
    if not category:
        return "未选择业务类别，无法按规则自动派单，需人工派单。"
    if territory and territory not in names.territories:
        return f"属地代码{territory}不在本市辖区内，需人工派单。"
    if routing.get("rule_id") is not None and not territory:
        return f"规则#{routing['rule_id']}：「{cat}」类诉求由属地交通运输局承办，但未填写属地，需人工派单。"
    if routing.get("rule_id") is not None:
        return f"规则#{routing['rule_id']}指向{ter}属地交通运输局，但该单位不存在，需人工派单。"
    return f"没有「{cat}」类诉求在{ter or '未知属地'}的派单规则，需人工派单。"


def policy_text(policy: dict[str, Any], kinds: Mapping[str, str]) -> str:
    """A policy row's match in words: which clock, for which channel, kind and urgency."""

    def given(value: Any) -> Any:  # "*" (and None) match anything
        return None if value in (None, "*") else value

    channel, kind, urgent = given(policy.get("channel")), given(policy.get("kind")), given(policy.get("urgent"))
    return "，".join(
        [
            f"{CLOCK.get(policy.get('clock') or '', '')}时限",
            f"{channel}渠道" if channel else "各渠道",
            f"{kinds.get(kind, kind)}类" if kind else "各类诉求",
            {True: "紧急件", False: "非紧急件"}.get(urgent, "不分缓急"),
        ]
    )


def deadline_text(explanation: dict[str, Any] | None, tz: ZoneInfo, kinds: Mapping[str, str]) -> dict[str, Any]:
    """The deadline explanation of a clock, in Chinese sentences plus the facts behind them."""
    if not explanation:
        return {"rule": "", "facts": []}
    hours = explanation.get("calendar", {}).get("office_hours") or []
    office = "、".join(f"{a}–{b}" for a, b in hours)
    facts = [
        *_calendar_facts(explanation, office),
        *_ladder_facts(explanation, tz),
        *(_adjustment_fact(adj, tz) for adj in explanation.get("adjustments") or []),
        *_policy_facts(explanation, kinds),
    ]
    return {"rule": _rule_text(explanation, tz, office), "facts": [f for f in facts if f]}


def _rule_text(explanation: dict[str, Any], tz: ZoneInfo, office: str) -> str:
    """How the limit is counted, from the start to the due instant."""
    limit = explanation.get("limit")
    if isinstance(limit, float) and limit.is_integer():
        limit = int(limit)
    start = local_with_weekday(explanation.get("start"), tz)
    due = local_with_weekday(explanation.get("due_at"), tz)
    unit = explanation.get("unit")
    if unit == "working_days":
        return (
            f"时限{limit}个工作日：受理当日（{start}）不计入，自次日起算，至第{limit}个工作日办公时间结束"
            f"（{due}）截止。"
        )
    if unit == "working_hours":
        return f"时限{limit}个工作小时：只计工作日的办公时间（{office}），自{start}起算，至{due}截止。"
    return f"时限{limit}小时（自然时间，夜间、周末、节假日照常计时）：自{start}起算，至{due}截止。"


def _calendar_facts(explanation: dict[str, Any], office: str) -> list[str]:
    facts: list[str] = []
    if office:
        facts.append(f"办公时间：{office}（{explanation.get('calendar', {}).get('tz') or ''}）")
    if explanation.get("holidays_skipped"):
        facts.append("跳过的法定节假日：" + "、".join(explanation["holidays_skipped"]))
    if explanation.get("makeup_workdays_counted"):
        facts.append("计入的调休工作日：" + "、".join(explanation["makeup_workdays_counted"]))
    return facts


def _ladder_facts(explanation: dict[str, Any], tz: ZoneInfo) -> list[str]:
    """Warning and supervision instants, an upstream cap, a provisional calendar."""
    facts: list[str] = []
    ratio = explanation.get("warning_ratio")
    if ratio is not None and explanation.get("warning_at"):
        facts.append(f"预警：用去{round(ratio * 100)}%时限时（{local_with_weekday(explanation['warning_at'], tz)}）")
    if explanation.get("supervision_at"):
        days = explanation.get("supervision_after_working_days")
        facts.append(f"督办：超期{days}个工作日仍未办结（{local_with_weekday(explanation['supervision_at'], tz)}）")
    if explanation.get("capped"):
        facts.append(f"上级平台时限更早，按其截止：{local_with_weekday(explanation.get('cap'), tz)}")
    if explanation.get("provisional"):
        facts.append("暂定时限：该年度法定节假日安排尚未公布，暂按周一至周五计算，公布后自动重算。")
    return facts


def _adjustment_fact(adj: dict[str, Any], tz: ZoneInfo) -> str | None:
    """An approved extension, a suspension or a resumption; None for any other kind."""
    kind = adj.get("kind")
    if kind == "extension":
        how = f"延长{adj['working_days']}个工作日" if adj.get("working_days") else f"延至{adj.get('until')}"
        return (
            f"已批准延期（{how}）：原截止{local_with_weekday(adj.get('old_due_at'), tz)}，"
            f"新截止{local_with_weekday(adj.get('new_due_at'), tz)}"
        )
    if kind == "suspension":
        return f"暂停计时：{local_with_weekday(adj.get('at'), tz)}"
    if kind == "resume":
        return f"恢复计时：{local_with_weekday(adj.get('at'), tz)}"
    return None


def _policy_facts(explanation: dict[str, Any], kinds: Mapping[str, str]) -> list[str]:
    policy = explanation.get("policy") or {}
    if not policy.get("id"):
        return []
    number = f"规则编号{policy['id']}，版本{explanation.get('policy_version')}"
    return [f"适用时限规则：{policy_text(policy, kinds)}（{number}）"]
