"""JSON-RPC 2.0 envelopes, checked before the MCP SDK reads a message (HTTP and stdio alike).

The SDK answers an envelope it cannot parse with -32602 (invalid params) and a pydantic dump
over HTTP, and drops it silently on stdio (its client then waits forever). Here a message that
is not JSON is -32700 (parse error, id null) and one that is no JSON-RPC 2.0 message is -32600
(invalid request, with the request's id when it has one), as the JSON-RPC spec says. Batches
(a JSON array) are invalid requests too: MCP has not had them since protocol 2025-06-18.
A ``tools/call`` whose params have no tool name or arguments that are no object is -32602
(invalid params) saying so: the SDK's own answer, "Invalid request parameters" with empty
data, does not tell an agent developer (or a model that sent its arguments as a string) why.
A client's response is checked as strictly as a request: a ``result`` that is no object, or an
``error`` without an integer code and a string message, is -32600 too.

A key given twice is refused as ``POST /v1/tools/call`` refuses it (``json_keys``): the SDK
would take the last value, a gateway or log the first. In the envelope (``id``, ``method``)
or inside a response's ``result`` or ``error`` it is -32600; inside ``params`` (a tool's
name, its arguments) -32602, with the path to the object that repeats it, as a notification
(no id) gets it too: a notification read two ways is not to be acted on silently.
"""

from __future__ import annotations

from typing import Any

import msgspec
from mcp_types import INVALID_PARAMS, INVALID_REQUEST, PARSE_ERROR

from context_service.mcp_server.json_keys import RepeatedKey, repeated_key

_MAX_WHERE = 200  # longest path to a repeated key named in an answer


def envelope_error(raw: bytes | str) -> dict[str, Any] | None:
    """The JSON-RPC error response ``raw`` deserves, or ``None`` when it is a well-formed
    JSON-RPC 2.0 message (what its method and params mean is left to the SDK)."""
    try:
        message = msgspec.json.decode(raw)
        repeat = repeated_key(raw)  # the decoder above kept the last value of a repeated key
    except RecursionError:
        return error_response(None, PARSE_ERROR, "Parse error: the message is nested too deeply")
    # \xff in the bytes, or a lone surrogate in a line read from stdio (a byte that is no UTF-8)
    except (msgspec.DecodeError, UnicodeDecodeError, UnicodeEncodeError):
        return error_response(None, PARSE_ERROR, "Parse error: the message is not valid JSON")
    problem = _problem(message) or _repeat_problem(repeat, in_params=False)
    if problem is not None:
        return error_response(
            _answer_id(message, repeat), INVALID_REQUEST, f"Invalid Request: {problem}"
        )
    problem = _repeat_problem(repeat, in_params=True) or _params_problem(message)
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
    """A client's answer to a request of the server's: a result object, or an error object
    with an integer code and a string message (what the SDK would refuse with -32602)."""
    if "result" in message and "error" in message:
        return "a response has a result or an error, not both"
    if "result" in message:
        if not isinstance(message["result"], dict):
            return "result must be an object"
        return None if _usable_id(message) is not None else "id must be a string or an integer"
    error = message["error"]
    if (
        isinstance(error, dict)
        and _is_int(error.get("code"))
        and isinstance(error.get("message"), str)
    ):
        return None
    return "error must be an object with an integer code and a string message"


def _repeat_problem(repeat: RepeatedKey | None, *, in_params: bool) -> str | None:
    """What a key given twice makes of the message: an envelope key, or one inside ``result``
    or ``error``, leaves no message to answer (``in_params`` false); one inside ``params``
    leaves the request's params unusable (``in_params`` true). A gateway or log reads the first
    value, the SDK the last: another customer, or another tool for ``params.name``."""
    if repeat is None or (repeat.path[:1] == ("params",)) != in_params:
        return None
    where = _where(repeat.path) if repeat.path else "the message"
    return f"{where} gives the key {repeat.key[:64]!r} more than once; give each once"


def _where(path: tuple[str | int, ...]) -> str:
    """``path`` as a reader writes it (``params.arguments``, ``params.items[0]``), cut short:
    its keys are the client's."""
    text = "".join(map(_segment, path)).removeprefix(".")
    return text if len(text) <= _MAX_WHERE else text[: _MAX_WHERE - 3] + "..."


def _segment(part: str | int) -> str:
    """One step of a path; a key that is no plain name is quoted (its hidden characters
    escaped by ``repr``) and cut short."""
    if isinstance(part, int):
        return f"[{part}]"
    return f".{part}" if part.isascii() and part.isidentifier() else f"[{part[:64]!r}]"


def _answer_id(message: Any, repeat: RepeatedKey | None) -> str | int | None:
    """The id an Invalid Request answer carries: none when ``id`` itself was given twice
    (which of the two would the client wait on?)."""
    if repeat is not None and repeat.path == () and repeat.key == "id":
        return None
    return _usable_id(message)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _usable_id(message: Any) -> str | int | None:
    """The message's id when it is one a response may carry (a string or an integer)."""
    found = message.get("id") if isinstance(message, dict) else None
    if isinstance(found, str) or _is_int(found):
        return found
    return None
