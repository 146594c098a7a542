"""The action table: each action declared once (who may do it, from which statuses, its body), and the context
an action's handler works in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg

from hotline.auth.tokens import Principal
from hotline.infra import queue as jobs
from hotline.infra.db import Conn
from hotline.infra.runtime import Runtime
from hotline.tickets.bodies import Body

MAX_UNANSWERED_CALLBACKS = 3


@dataclass
class Ctx:
    rt: Runtime
    conn: Conn
    principal: Principal
    now: datetime
    ticket: asyncpg.Record
    assignment: asyncpg.Record | None
    body: Any
    # filled by the action
    status_after: str = ""
    updates: dict[str, Any] = field(default_factory=dict)
    payload: dict[str, Any] = field(default_factory=dict)
    armed: list[jobs.ArmedStep] = field(default_factory=list)
    units: set[str] = field(default_factory=set)
    event_assignment_id: int | None = None
    also_changed: list[dict[str, Any]] = field(default_factory=list)  # other tickets' live-feed messages


Handler = Callable[[Ctx], Awaitable[None]]


@dataclass(frozen=True)
class Action:
    name: str
    roles: frozenset[str]
    statuses: frozenset[str]
    body: type[Body]
    run: Handler


ACTIONS: dict[str, Action] = {}


def action(
    name: str, roles: Collection[str], statuses: Collection[str], body: type[Body]
) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        ACTIONS[name] = Action(name, frozenset(roles), frozenset(statuses), body, fn)
        return fn

    return register


def allowed_actions(role: str, status: str) -> list[str]:
    return [a.name for a in ACTIONS.values() if role in a.roles and status in a.statuses]
