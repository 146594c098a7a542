"""POST /api/transfers/{channel}/{external_ref}/recall | urge | supplement: what an upstream platform may do to a
case it transferred (hotline/tickets/upstream_actions.py), idempotent on the `Idempotency-Key` header."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, post
from litestar.params import Body, FromPath, HeaderParameter

from hotline.infra.runtime import Runtime
from hotline.tickets import shapes
from hotline.tickets import upstream_actions as up
from hotline.vocab import INTEGRATION
from hotline.web.contract import MAY_REPLAY, documented, operation

RequestKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        required=False,
        description="Required: the platform's id of this request, 1 to 200 characters. A repeat with the same key "
        "and body answers the ticket again (`Idempotent-Replay: true`) and changes nothing; the same key with "
        "another body is a 422",
    ),
]
_WHAT = (
    "For a case this platform transferred, found by its `external_ref` on the account's own channel (another "
    "channel's reference: 404). Recorded as an event with the integration account as actor; a status that forbids "
    "it is a 409 whose `allowed_actions` says what the platform may still do. Answers the ticket."
)


async def _act(
    request: Request[Any, Any, Any], channel: str, ref: str, name: str, body: Any, key: str | None
) -> Response[shapes.Ticket]:
    rt: Runtime = request.app.state.runtime
    ticket, replayed = await up.act_upstream(rt, request.state.principal, channel, ref, name, body, key)
    return Response(ticket, status_code=200, headers={"Idempotent-Replay": "true"} if replayed else {})


@post(
    "/api/transfers/{channel:str}/{external_ref:str}/recall",
    status_code=200,
    operation_class=documented(headers={200: MAY_REPLAY}),
    **operation(
        "recallTransfer",
        "tickets",
        roles={INTEGRATION},
        summary="Recall a transferred case (撤回): closed as withdrawn, the unit told, its assignment not charged",
        description=_WHAT,
    ),
)
async def recall_transfer(
    request: Request[Any, Any, Any],
    channel: FromPath[str],
    external_ref: FromPath[str],
    data: Annotated[up.RecallBody, Body(description=up.RecallBody.__doc__)],
    idempotency_key: RequestKey = None,
) -> Response[shapes.Ticket]:
    return await _act(request, channel, external_ref, "recall", data, idempotency_key)


@post(
    "/api/transfers/{channel:str}/{external_ref:str}/urge",
    status_code=200,
    operation_class=documented(headers={200: MAY_REPLAY}),
    **operation(
        "urgeTransfer",
        "tickets",
        roles={INTEGRATION},
        summary="Urge a transferred case (催办): counted as an urge, the unit told",
        description=_WHAT,
    ),
)
async def urge_transfer(
    request: Request[Any, Any, Any],
    channel: FromPath[str],
    external_ref: FromPath[str],
    data: Annotated[up.UpstreamUrgeBody, Body(description=up.UpstreamUrgeBody.__doc__)],
    idempotency_key: RequestKey = None,
) -> Response[shapes.Ticket]:
    return await _act(request, channel, external_ref, "urge", data, idempotency_key)


@post(
    "/api/transfers/{channel:str}/{external_ref:str}/supplement",
    status_code=200,
    operation_class=documented(headers={200: MAY_REPLAY}),
    **operation(
        "supplementTransfer",
        "tickets",
        roles={INTEGRATION},
        summary="Add material to a transferred case (补充材料): appended to its history, the unit told",
        description=_WHAT,
    ),
)
async def supplement_transfer(
    request: Request[Any, Any, Any],
    channel: FromPath[str],
    external_ref: FromPath[str],
    data: Annotated[up.SupplementBody, Body(description=up.SupplementBody.__doc__)],
    idempotency_key: RequestKey = None,
) -> Response[shapes.Ticket]:
    return await _act(request, channel, external_ref, "supplement", data, idempotency_key)


ROUTES = [recall_transfer, urge_transfer, supplement_transfer]
