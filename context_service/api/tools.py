"""Tool calling over HTTP: the OpenAI function definitions and a call endpoint to run them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import cache
from typing import Any, Literal

import msgspec
from litestar import Litestar, MediaType, Request, Response, asgi, get, post
from litestar.exceptions import ClientException
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.handlers import ASGIRouteHandler, HTTPRouteHandler
from litestar.params import FromQuery, JSONBody
from litestar.types import Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

from context_service.api.auth import bearer_token, require_api_key
from context_service.api.limits import (
    mcp_tool_called,
    over_tool_limit,
    too_large_detail,
    tool_body_limit,
)
from context_service.api.problems import refuse_repeated_keys, send_problem
from context_service.errors import AmbiguousIdentifier
from context_service.mcp_server.http import BodyTooLarge, read_body, replaying
from context_service.tools import InvalidToolArguments, ToolBox, openai_tools
from context_service.tools.service import SEARCH_LIMIT
from context_service.trust import CONTEXT_LOOKUP


class ToolCall(msgspec.Struct, forbid_unknown_fields=True):
    """A tool call as a model emits it; ``arguments`` may be the model's JSON string as is."""

    name: str
    arguments: dict[str, Any] | str = {}


@get(
    "/v1/tools/openai",
    sync_to_thread=False,
    summary="Tool definitions for OpenAI SDKs",
    opt={"scope": CONTEXT_LOOKUP},
)
def get_openai_tools(api: FromQuery[Literal["chat", "responses"]] = "chat") -> list[dict[str, Any]]:
    """``get_customer_context``, ``find_customer`` and ``create_escalation`` as function tools.

    Pass the list as ``tools=`` to ``client.chat.completions.create`` (``api=chat``, default)
    or ``client.responses.create`` (``api=responses``). The parameter schemas are generated from
    the same Structs that validate ``POST /v1/tools/call`` and the MCP server's tools.
    """
    return _definitions(api)


@cache
def _definitions(api: Literal["chat", "responses"]) -> list[dict[str, Any]]:
    """The definitions never change while the process runs; generating their JSON schemas took
    about 3 ms a request. Only serialized from here, never changed."""
    return openai_tools(api)


def call_tool_route(app_limit: int | None) -> HTTPRouteHandler:
    """``POST /v1/tools/call`` for an app whose body limit is ``app_limit``: it reads up to
    what a ``create_escalation`` call may send (2 MiB, or the app's limit if larger) and holds
    every other tool to the app's (``call_tool``)."""
    return post(
        "/v1/tools/call",
        sync_to_thread=True,  # create_escalation may post a helpdesk note: not on the event loop
        summary="Run a tool call",
        status_code=200,
        opt={"scope": CONTEXT_LOOKUP},
        request_max_body_size=tool_body_limit(app_limit),
    )(call_tool)


def call_tool(
    request: Request,  # type: ignore[type-arg]
    data: JSONBody[ToolCall],
) -> Response[bytes]:
    """Run one tool call and answer its result as text, ready to hand back to the model.

    Failures are problem details (404 unknown customer or tool, 409 ambiguous identifier with
    ``candidates``, 400 bad arguments, 403 an audience this key may not ask for); their text
    is meant for the model too, so a chatbot loop can pass the body back whatever the status.
    A body over ``CONTEXT_SERVICE_MAX_BODY_BYTES`` is 413 unless it calls ``create_escalation``,
    whose transcript may take up to 2 MiB, as on ``POST /v1/escalations``.
    """
    app_limit = _app_limit(request.app)
    if over_tool_limit(data.name, _received(request), app_limit) and app_limit is not None:
        raise RequestEntityTooLarge(too_large_detail(app_limit, "/v1/tools/call"))
    toolbox: ToolBox = request.app.state.toolbox
    key = bearer_token(request.headers.get("authorization"))
    try:
        result = toolbox.call(data.name, _arguments(data), key)
    except AmbiguousIdentifier as exc:
        # The answer goes back into a model's context: it must not grow with the number of
        # customers who share a switchboard.
        raise exc.capped(SEARCH_LIMIT) from None
    return Response(result.encode(), media_type=MediaType.TEXT)


def _arguments(call: ToolCall) -> dict[str, Any]:
    if isinstance(call.arguments, dict):
        return call.arguments
    try:
        decoded = msgspec.json.decode(call.arguments or "{}")
    except msgspec.DecodeError as exc:
        raise InvalidToolArguments(f"{call.name}: arguments are not valid JSON") from exc
    except RecursionError:
        raise InvalidToolArguments(f"{call.name}: arguments are nested too deeply") from None
    if not isinstance(decoded, dict):
        raise InvalidToolArguments(f"{call.name}: arguments must be a JSON object")
    try:
        refuse_repeated_keys(call.arguments.encode())  # the last would win: another customer
    except ClientException as exc:
        raise InvalidToolArguments(f"{call.name}: arguments: {exc.detail}") from None
    return decoded


def mcp_route(mcp_app: Callable[[Any, Any, Any], Awaitable[None]]) -> ASGIRouteHandler:
    """``/mcp``: the MCP server over streamable HTTP, behind the same API-key guard.

    Only a JSON ``POST`` reaches the MCP server. The server is stateless, so it has no stream
    to offer a ``GET`` (which the SDK would otherwise hold open, and the connection with it,
    until the client gives up) and no session to ``DELETE``: both are 405, which the
    streamable-HTTP transport lets a client expect. Another content type is 415, and a body
    over ``CONTEXT_SERVICE_MAX_BODY_BYTES`` 413, as on every other route. These answers are
    problem details, like every other error of the app.
    """

    @asgi(
        "/mcp",
        is_mount=True,
        copy_scope=True,
        guards=[require_api_key],
        opt={"scope": CONTEXT_LOOKUP},
    )
    async def mcp_endpoint(scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("method") != "POST":
            detail = "the MCP endpoint is stateless: send JSON-RPC messages with POST"
            allow = {"Allow": "POST"}
            await send_problem(send, 405, "Method not allowed", detail, "/mcp", allow)
        elif not _is_json(scope):
            detail = "send MCP messages as 'Content-Type: application/json'"
            await send_problem(send, 415, "Unsupported media type", detail, "/mcp")
        else:
            app_limit = _app_limit(scope.get("litestar_app"))
            try:
                body = await _read_within(scope, receive, tool_body_limit(app_limit))
                if over_tool_limit(mcp_tool_called(body), len(body), app_limit):
                    raise BodyTooLarge("only create_escalation may send this much")
            except BodyTooLarge:
                # The words of every other route (``problems._too_large``).
                detail = (
                    too_large_detail(app_limit, "/mcp")
                    if app_limit is not None
                    else "the request body is too large"
                )
                await send_problem(send, 413, "Payload too large", detail, "/mcp")
                return
            await mcp_app(scope, replaying(body, receive), send)

    return mcp_endpoint


def _app_limit(app: Litestar | None) -> int | None:
    """The app's ``request_max_body_size`` (``CONTEXT_SERVICE_MAX_BODY_BYTES``), which litestar
    applies to every route but leaves to an ASGI mount like ``/mcp`` (None outside an app)."""
    limit = app.request_max_body_size if app is not None else None
    return limit if isinstance(limit, int) else None


def _received(request: Request) -> int:  # type: ignore[type-arg]
    """How many bytes the request's body had (litestar keeps the body it decoded ``data``
    from in the connection's state)."""
    body = ScopeState.from_scope(request.scope).body
    return len(body) if isinstance(body, bytes) else 0


async def _read_within(scope: Scope, receive: Receive, limit: int | None) -> bytes:
    """The request body; ``BodyTooLarge`` when ``Content-Length`` or the bytes that came say
    it is over ``limit``."""
    if limit is not None and _declared_length(scope) > limit:
        raise BodyTooLarge(f"the request body is larger than {limit} bytes")
    return await read_body(receive, limit)


def _declared_length(scope: Scope) -> int:
    """The request's ``Content-Length`` (0 when it has none that is a number)."""
    for name, value in scope.get("headers", []):
        if name == b"content-length" and value.strip().isdigit():
            return int(value)
    return 0


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            media = value.split(b";", 1)[0].strip().lower()
            return bool(media == b"application/json")
    return False
