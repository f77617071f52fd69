"""Request body limits beyond ``CONTEXT_SERVICE_MAX_BODY_BYTES``.

A long chat is when a bot hands over: the transcript may hold 200 turns of 8,000 characters,
and a 60-turn chat is some 75 KB, past the other routes' 64 KiB. So an escalation may be up to
``MAX_ESCALATION_BYTES``, whether it comes to ``POST /v1/escalations`` or as the
``create_escalation`` tool over ``POST /v1/tools/call`` or ``/mcp``; every other tool call
keeps the app's limit.
"""

from __future__ import annotations

import msgspec

MAX_ESCALATION_BYTES = 2_097_152
TRANSCRIPT_TOOL = "create_escalation"


def tool_body_limit(app_limit: int | None) -> int | None:
    """The most a tool route reads before it knows which tool is called."""
    return None if app_limit is None else max(app_limit, MAX_ESCALATION_BYTES)


def over_tool_limit(tool: str | None, size: int, app_limit: int | None) -> bool:
    """Whether a body of ``size`` bytes calling ``tool`` is over what that tool may send."""
    if app_limit is None or size <= app_limit:
        return False
    return tool != TRANSCRIPT_TOOL or size > MAX_ESCALATION_BYTES


def too_large_detail(app_limit: int, route: str) -> str:
    """The 413's words: the limit the body went over, and the one escalations have."""
    return (
        f"the request body is larger than {app_limit:,} bytes, the most {route} takes "
        f"(a {TRANSCRIPT_TOOL} call may send up to {MAX_ESCALATION_BYTES:,}, for its transcript)"
    )


class _Message(msgspec.Struct):
    method: object = None
    params: object = None


def mcp_tool_called(body: bytes) -> str | None:
    """The tool a JSON-RPC ``tools/call`` message names; None for anything else (a batch, a
    message that is not JSON, another method)."""
    try:
        message = msgspec.json.decode(body, type=_Message)
    except (msgspec.DecodeError, RecursionError):
        return None
    if message.method != "tools/call" or not isinstance(message.params, dict):
        return None
    name = message.params.get("name")
    return name if isinstance(name, str) else None
