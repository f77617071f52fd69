"""JSON-RPC 2.0 envelopes, checked before the MCP SDK reads a message (HTTP and stdio alike).

The SDK answers an envelope it cannot parse with -32602 (invalid params) and a pydantic dump
over HTTP, and drops it silently on stdio (its client then waits forever). Here a message that
is not JSON is -32700 (parse error, id null) and one that is no JSON-RPC 2.0 message is -32600
(invalid request, with the request's id when it has one), as the JSON-RPC spec says. Batches
(a JSON array) are invalid requests too: MCP has not had them since protocol 2025-06-18.
A ``tools/call`` whose params have no tool name or arguments that are no object is -32602
(invalid params) saying so: the SDK's own answer, "Invalid request parameters" with empty
data, does not tell an agent developer (or a model that sent its arguments as a string) why.
"""

from __future__ import annotations

from typing import Any

import msgspec
from mcp_types import INVALID_PARAMS, INVALID_REQUEST, PARSE_ERROR


def envelope_error(raw: bytes | str) -> dict[str, Any] | None:
    """The JSON-RPC error response ``raw`` deserves, or ``None`` when it is a well-formed
    JSON-RPC 2.0 message (what its method and params mean is left to the SDK)."""
    try:
        message = msgspec.json.decode(raw)
    except (msgspec.DecodeError, RecursionError, UnicodeDecodeError):  # \xff in a string
        return error_response(None, PARSE_ERROR, "Parse error: the message is not valid JSON")
    problem = _problem(message)
    if problem is not None:
        return error_response(_usable_id(message), INVALID_REQUEST, f"Invalid Request: {problem}")
    problem = _params_problem(message)
    if problem is not None:
        return error_response(_usable_id(message), INVALID_PARAMS, f"Invalid params: {problem}")
    return None


def is_malformed(error: dict[str, Any]) -> bool:
    """Whether ``error`` (from ``envelope_error``) refuses the message itself (not JSON, no
    JSON-RPC 2.0 message), rather than the params of a well-formed request."""
    return bool(error["error"]["code"] in (PARSE_ERROR, INVALID_REQUEST))


def error_response(request_id: str | int | None, code: int, message: str) -> dict[str, Any]:
    """A JSON-RPC error response."""
    return {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}


def _problem(message: Any) -> str | None:
    """What makes ``message`` no JSON-RPC 2.0 message; ``None`` when nothing does."""
    if isinstance(message, list):
        return "batches (JSON arrays) are not supported; send one message per request"
    if not isinstance(message, dict):
        return "a message must be a JSON object"
    if message.get("jsonrpc") != "2.0":
        return 'jsonrpc must be "2.0"'
    if "method" in message:
        return _request_problem(message)
    if "result" in message or "error" in message:
        return _response_problem(message)
    return "a request needs a method"


def _params_problem(message: dict[str, Any]) -> str | None:
    """What makes a ``tools/call`` request's params unusable; ``None`` for other messages."""
    if message.get("method") != "tools/call" or "id" not in message:
        return None
    params = message.get("params", {})
    if not isinstance(params.get("name"), str):
        return "tools/call needs params.name, the tool's name as a string"
    arguments = params.get("arguments")
    if arguments is not None and not isinstance(arguments, dict):
        return (
            "params.arguments must be a JSON object of the tool's arguments "
            "(not a list, or a string holding JSON)"
        )
    return None


def _request_problem(message: dict[str, Any]) -> str | None:
    """A request (with ``id``) or a notification (without)."""
    if not isinstance(message["method"], str):
        return "method must be a string"
    if "params" in message and not isinstance(message["params"], dict):
        return "params must be an object"
    if "id" in message and _usable_id(message) is None:
        return "id must be a string or an integer"
    return None


def _response_problem(message: dict[str, Any]) -> str | None:
    """A client's answer to a request of the server's."""
    if "result" in message and "error" in message:
        return "a response has a result or an error, not both"
    if _usable_id(message) is None and "result" in message:
        return "id must be a string or an integer"
    return None


def _usable_id(message: Any) -> str | int | None:
    """The message's id when it is one a response may carry (a string or an integer)."""
    found = message.get("id") if isinstance(message, dict) else None
    if isinstance(found, str) or (isinstance(found, int) and not isinstance(found, bool)):
        return found
    return None
