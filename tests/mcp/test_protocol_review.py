"""MCP protocol rules on both transports: JSON-RPC envelopes, unknown tools, the body limit,
arguments decoded by msgspec alone, and tool calls run off the event loop."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from context_service.api import create_app
from tests.conftest import TEST_KEY, make_settings
from tests.mcp.messages import ACCEPT_MCP, stdio_answers
from tests.spies import LoopSpy
from tests.trust.helpers import copy_demo

MAYA = "maya.patel@example.com"
AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
HEADERS = {**AUTH, **ACCEPT_MCP, "MCP-Protocol-Version": "2025-06-18"}


@pytest.fixture
def client(demo_db: Path) -> Iterator[TestClient[Any]]:
    with TestClient(app=create_app(make_settings(demo_db))) as test_client:
        yield test_client


def _post(client: TestClient[Any], body: Any) -> Any:
    return client.post("/mcp", json=body, headers=HEADERS)


def _tool_call(client: TestClient[Any], name: str, arguments: dict[str, Any]) -> Any:
    body = {
        "jsonrpc": "2.0",
        "id": 2,
        "method": "tools/call",
        "params": {"name": name, "arguments": arguments},
    }
    response = _post(client, body)
    assert response.status_code == 200, response.text
    return response.json()


# JSON-RPC envelopes over HTTP ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "answer_id"),
    [
        ({"jsonrpc": "2.0", "id": 3}, 3),  # no method
        ([{"jsonrpc": "2.0", "id": 4, "method": "ping"}], None),  # a batch
        ({"jsonrpc": "1.0", "id": 5, "method": "ping"}, 5),
        ({"jsonrpc": "2.0", "id": 6, "method": "ping", "params": [1]}, 6),
        ({"jsonrpc": "2.0", "id": None, "method": "ping"}, None),
        ("ping", None),
    ],
)
def test_an_invalid_envelope_is_invalid_request_with_its_id(
    client: TestClient[Any], body: Any, answer_id: Any
) -> None:
    response = _post(client, body)
    answer = response.json()
    assert answer["error"]["code"] == -32600
    assert answer["error"]["message"].startswith("Invalid Request")
    assert answer["id"] == answer_id
    assert "pydantic" not in response.text


def test_a_body_that_is_not_json_is_a_parse_error(client: TestClient[Any]) -> None:
    headers = {**HEADERS, "Content-Type": "application/json"}
    answer = client.post("/mcp", content=b"{not json", headers=headers).json()
    assert answer["error"]["code"] == -32700
    assert answer["id"] is None


def test_a_valid_envelope_still_reaches_the_server(client: TestClient[Any]) -> None:
    assert _post(client, {"jsonrpc": "2.0", "id": "p", "method": "ping"}).json() == {
        "jsonrpc": "2.0",
        "id": "p",
        "result": {},
    }


# Unknown tools and arguments -----------------------------------------------------------------


def test_an_unknown_tool_is_a_protocol_error(client: TestClient[Any]) -> None:
    answer = _tool_call(client, "no_such_tool", {})
    assert "result" not in answer
    assert answer["error"]["code"] == -32602  # MCP spec, Tools > Error handling
    assert "no_such_tool" in answer["error"]["message"]


@pytest.mark.parametrize(
    ("name", "arguments"),
    [
        ("get_customer_context", {"email": MAYA, "format": None}),
        ("get_customer_context", {"email": MAYA, "max_tokens": "300"}),
        ("create_escalation", {"email": MAYA, "reason": "human", "post_note": None}),
        ("create_escalation", {"email": MAYA, "reason": "human", "transcript": "[]"}),
    ],
)
def test_mcp_refuses_the_arguments_tools_call_refuses(
    client: TestClient[Any], name: str, arguments: dict[str, Any]
) -> None:
    call = {"name": name, "arguments": arguments}
    assert client.post("/v1/tools/call", json=call, headers=AUTH).status_code == 400
    result = _tool_call(client, name, arguments)["result"]
    assert result["isError"] is True
    assert "Invalid tool arguments" in result["content"][0]["text"]


# The body limit ------------------------------------------------------------------------------


def _padded_call(pad: str) -> dict[str, Any]:
    params = {"name": "get_customer_context", "arguments": {"email": MAYA}, "_meta": {"p": pad}}
    return {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}


def test_a_body_over_max_body_bytes_is_413_like_every_other_route(
    client: TestClient[Any],
) -> None:
    pad = "x" * 1_000_000
    tools_call = client.post("/v1/tools/call", json={"name": pad}, headers=AUTH)
    assert tools_call.status_code == 413
    response = _post(client, _padded_call(pad))
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["title"] == tools_call.json()["title"]
    limit = client.app.state.settings.max_body_bytes  # both say what to stay under
    assert f"larger than {limit:,} bytes" in response.json()["detail"]
    assert f"larger than {limit:,} bytes" in tools_call.json()["detail"]


def test_a_streamed_body_without_content_length_is_counted(client: TestClient[Any]) -> None:
    body = json.dumps(_padded_call("x" * 200_000)).encode()
    chunks = iter([body[i : i + 16_384] for i in range(0, len(body), 16_384)])
    headers = {**HEADERS, "Content-Type": "application/json"}
    response = client.post("/mcp", content=chunks, headers=headers)
    assert response.status_code == 413


def test_a_body_within_the_limit_is_answered(client: TestClient[Any]) -> None:
    result = _post(client, _padded_call("x" * 1_000)).json()["result"]
    assert result["isError"] is False


# Off the event loop --------------------------------------------------------------------------


def test_create_escalation_over_mcp_posts_its_note_off_the_event_loop(
    demo_db: Path, tmp_path: Path
) -> None:
    spy = LoopSpy()
    db = copy_demo(demo_db, tmp_path)
    with TestClient(app=create_app(make_settings(db), note_poster=spy)) as spied:
        arguments = {"email": MAYA, "reason": "asks for a person", "post_note": True}
        result = _tool_call(spied, "create_escalation", arguments)["result"]
    assert result["isError"] is False
    assert spy.on_loop == [False]


# stdio ---------------------------------------------------------------------------------------


def test_stdio_answers_bad_lines_and_reads_on(demo_db: Path) -> None:
    answers = stdio_answers(
        demo_db,
        [
            "{not json",
            json.dumps({"jsonrpc": "2.0", "id": 7}),
            json.dumps([{"jsonrpc": "2.0", "id": 8, "method": "ping"}]),
        ],
    )
    assert answers[99]["result"] == {}  # the server survives...
    # ...and answers like POST /mcp: -32700 with id null, -32600 with the id if any
    assert [a["error"]["code"] for a in answers[None]] == [-32700, -32600]
    assert answers[7]["error"]["code"] == -32600


def test_stdio_refuses_a_line_that_is_no_utf8_as_post_mcp_does(demo_db: Path) -> None:
    """A byte that is no UTF-8 (``\\xff``) makes the line no JSON: -32700, not a ping run
    with U+FFFD in its place (nor a tool call with its arguments changed)."""
    bad = b'{"jsonrpc": "2.0", "id": 5, "method": "ping", "params": {"x": "\xff"}}'
    answers = stdio_answers(demo_db, [bad])
    assert 5 not in answers
    assert [a["error"]["code"] for a in answers[None]] == [-32700]
    assert answers[99]["result"] == {}


def test_stdio_answers_tool_calls_still_running_when_stdin_ends(demo_db: Path) -> None:
    call = {
        "jsonrpc": "2.0",
        "id": "ctx",
        "method": "tools/call",
        "params": {"name": "get_customer_context", "arguments": {"email": MAYA}},
    }
    unknown = {**call, "id": "nope", "params": {"name": "no_such_tool", "arguments": {}}}
    answers = stdio_answers(demo_db, [json.dumps(call), json.dumps(unknown)])
    assert "Maya Patel" in answers["ctx"]["result"]["content"][0]["text"]
    assert answers["nope"]["error"]["code"] == -32602
