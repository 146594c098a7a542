"""POST /api/tickets/{number}/{action}: one documented operation per lifecycle action (hotline.tickets.lifecycle).

Each route takes its action's body Struct, which Litestar decodes and validates (a 422 naming the field); the
route's guard admits the action's roles (401/403 before the body is read); the state machine does the rest.

No `from __future__ import annotations` here: the routes are made in a loop, and Litestar reads each handler's
`data` annotation at runtime, so it must be the real body type.
"""

from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any, NamedTuple

from litestar import Request, Response, post
from litestar.di import NamedDependency
from litestar.exceptions import ClientException, HTTPException
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.spec import Example
from litestar.params import Body, FromPath

from hotline.auth.tokens import Principal
from hotline.errors import NotFound
from hotline.infra.runtime import Runtime
from hotline.tickets import lifecycle
from hotline.tickets.actions import Action
from hotline.tickets.shapes import Ticket
from hotline.web import examples, problems
from hotline.web.contract import documented, operation, signed_in


class Doc(NamedTuple):
    operation_id: str
    summary: str
    example: dict[str, Any] | None = None
    example_summary: str = ""
    answers: Sequence[Example] | None = None  # examples of the ticket it answers


# Bodies of the examples are from the demo data (hotline/ops/demo.py).
DOCS: dict[str, Doc] = {
    "dispatch": Doc(
        "dispatchTicket",
        "Dispatch (派单 / 改派): send the ticket to a unit",
        {"unit": "320612-bureau", "note": "人工派单", "expected_version": 2},
        "A dispatcher dispatches a waiting ticket by hand",
    ),
    "sign": Doc("signTicket", "Sign for the ticket (签收): the unit holding it takes it on"),
    "return": Doc(
        "returnTicket",
        "Return the ticket (退单): not this unit's to handle",
        {"reason": "该路段属海门区管辖", "expected_version": 3},
        "The unit returns a ticket of another district",
    ),
    "decide-return": Doc(
        "decideReturn",
        "Decide a return (退单审核): re-dispatch, or send it back to the unit",
        {"accept": False, "proper": False, "note": "属地管理，请继续办理", "expected_version": 4},
        "The dispatcher refuses the return",
    ),
    "note": Doc("addNote", "Add a note (备注) to the timeline", {"text": "已联系驾驶员核实"}, "An internal note"),
    "request-extension": Doc(
        "requestExtension",
        "Request an extension (延期申请) of the reply deadline",
        {"working_days": 5, "reason": "需协调多个部门现场核查。", "expected_version": 3},
        "Five more working days",
    ),
    "decide-extension": Doc(
        "decideExtension",
        "Decide an extension request (延期审批)",
        {"approve": True, "note": "同意", "expected_version": 4},
        "The dispatcher approves",
    ),
    "reply": Doc(
        "replyToTicket",
        "Reply (答复): the unit's answer to the citizen",
        examples.REPLY,
        "The unit replies: resolved",
        examples.REPLIED_EXAMPLES,
    ),
    "callback": Doc(
        "recordCallback",
        "Record the callback (回访) to the citizen",
        examples.CALLBACK,
        "The agent called back: resolved, satisfied",
        examples.CALLED_BACK_EXAMPLES,
    ),
    "urge": Doc("urgeTicket", "Urge (催办) the unit holding the ticket", {"note": "请抓紧办理。"}, "A manager urges"),
    "close": Doc(
        "closeTicket",
        "Close at once (直接办结): a consultation answered by the agent",
        {"answer": "已电话答复公交线路时刻"},
        "Answered on the call",
    ),
    "reject": Doc(
        "rejectTicket",
        "Reject (不予受理): outside the transport authorities' remit",
        {"reason": "不属于交通运输部门职责"},
        "Not a transport matter",
    ),
    "merge": Doc(
        "mergeTicket",
        "Merge (合并重复件) into another open ticket",
        {"into": "96196-20261201-000042"},
        "A repeated call merged into the first ticket",
    ),
    "suspend": Doc(
        "suspendTicket",
        "Suspend (挂起) the reply clock",
        {"reason": "等待公安部门调查结论"},
        "Waiting on the police",
    ),
    "reclassify": Doc(
        "reclassifyTicket",
        "Correct the territory or category (更正属地与类别) of a ticket waiting for dispatch",
        {"territory": "320612", "expected_version": 1},
        "The dispatcher fills in the missing territory",
    ),
    "resume": Doc("resumeTicket", "Resume (恢复) the suspended reply clock", {"text": "恢复办理"}, "Resumed"),
}


def invalid_json_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """A body that is not JSON at all is bad input (422 naming `body`), as a body of the wrong shape is; any other
    client error is answered as everywhere else."""
    if type(exc) is ClientException and exc.status_code == 400:
        return problems.problem(
            422, "Invalid input", f"the body is not valid JSON: {exc.detail}", fields={"body": "invalid JSON"}
        )
    return problems.http_error_handler(request, exc)


def _route(name: str, action: Action, doc: Doc) -> HTTPRouteHandler:
    body_type = action.body
    empty = not (set(body_type.__struct_fields__) - {"expected_version"})
    examples = [Example(summary=doc.example_summary, value=doc.example)] if doc.example is not None else None

    handler: Callable[..., Awaitable[Ticket]]
    if empty:
        # No fields of its own: `{}`, only `expected_version`, or no body at all.
        async def optional_body(
            number: FromPath[str], rt: NamedDependency[Runtime], principal: NamedDependency[Principal], data: Any = None
        ) -> Ticket:
            return await lifecycle.act(rt, principal, number, name, data if data is not None else body_type())

        optional_body.__annotations__["data"] = Annotated[body_type | None, Body(description=body_type.__doc__)]
        handler = optional_body
    else:

        async def with_body(
            number: FromPath[str], rt: NamedDependency[Runtime], principal: NamedDependency[Principal], data: Any
        ) -> Ticket:
            return await lifecycle.act(rt, principal, number, name, data)

        with_body.__annotations__["data"] = Annotated[body_type, Body(description=body_type.__doc__, examples=examples)]
        handler = with_body
    handler.__name__ = handler.__qualname__ = doc.operation_id
    return post(
        f"/api/tickets/{{number:str}}/{name}",
        status_code=200,
        operation_class=documented(examples={200: doc.answers} if doc.answers else None, optional_body=empty),
        exception_handlers={HTTPException: invalid_json_handler},
        **operation(
            doc.operation_id,
            "actions",
            roles=action.roles,
            summary=doc.summary,
            description=(
                f"`{name}`: {doc.summary}. Allowed from: {', '.join(sorted(action.statuses))}. Answers the updated "
                "ticket; a stale `expected_version` or a status that does not allow it is a 409 whose "
                "`allowed_actions` says what does."
            ),
        ),
    )(handler)


def _routes() -> list[HTTPRouteHandler]:
    missing = set(lifecycle.ACTIONS) - set(DOCS)
    if missing:
        raise RuntimeError(f"actions without an operation in lifecycle_api.DOCS: {', '.join(sorted(missing))}")
    return [_route(name, action, DOCS[name]) for name, action in lifecycle.ACTIONS.items()]


@post("/api/tickets/{number:str}/{action_name:str}", guards=[signed_in], include_in_schema=False, status_code=200)
async def unknown_action(number: FromPath[str], action_name: FromPath[str]) -> None:
    """Any other name: a problem-details 404 listing the actions there are."""
    raise NotFound(f"no action {action_name!r}; actions: {', '.join(lifecycle.ACTIONS)}")


ROUTES = [*_routes(), unknown_action]
