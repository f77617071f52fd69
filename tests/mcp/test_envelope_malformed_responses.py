"""A client's *response* that is no JSON-RPC 2.0 response (a ``result`` that is no object, an
``error`` without an integer code and a string message) is -32600 Invalid Request, like any
other malformed message: the SDK answered -32602 with a pydantic dump echoing the input over
HTTP, and dropped the line silently on stdio."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from context_service.api import create_app
from context_service.mcp_server.envelope import envelope_error
from tests.conftest import TEST_KEY, make_settings
from tests.mcp.messages import ACCEPT_MCP

HEADERS = {"Authorization": f"Bearer {TEST_KEY}", **ACCEPT_MCP}

MALFORMED = [
    pytest.param({"jsonrpc": "2.0", "id": 1, "error": 5}, id="error-not-object"),
    pytest.param(
        {"jsonrpc": "2.0", "id": 1, "error": {"code": "x", "message": "m"}}, id="code-str"
    ),
    pytest.param({"jsonrpc": "2.0", "id": 1, "error": {"code": True, "message": "m"}}, id="bool"),
    pytest.param({"jsonrpc": "2.0", "id": 1, "error": {"code": 1.5, "message": "m"}}, id="float"),
    pytest.param({"jsonrpc": "2.0", "id": 1, "error": {"code": -1}}, id="no-message"),
    pytest.param({"jsonrpc": "2.0", "id": 1, "error": {"code": -1, "message": 5}}, id="message"),
    pytest.param({"jsonrpc": "2.0", "id": 1, "result": 5}, id="result-not-object"),
    pytest.param({"jsonrpc": "2.0", "id": 1, "result": [1]}, id="result-list"),
]


@pytest.fixture
def client(demo_db: Path) -> Iterator[TestClient[Any]]:
    with TestClient(app=create_app(make_settings(demo_db))) as test_client:
        yield test_client


@pytest.mark.parametrize("message", MALFORMED)
def test_a_malformed_response_is_invalid_request_over_http(
    client: TestClient[Any], message: dict[str, Any]
) -> None:
    response = client.post("/mcp", json=message, headers=HEADERS)
    assert response.status_code == 400
    answer = response.json()
    assert answer["id"] == 1
    assert answer["error"]["code"] == -32600
    assert "validation error" not in answer["error"]["message"]  # no pydantic dump
    assert "input_value" not in response.text


@pytest.mark.parametrize("message", MALFORMED)
def test_stdio_answers_a_malformed_response_instead_of_dropping_it(message: dict[str, Any]) -> None:
    """stdio checks each line with the same ``envelope_error`` before the SDK reads it."""
    error = envelope_error(json.dumps(message))
    assert error is not None
    assert error["error"]["code"] == -32600


@pytest.mark.parametrize(
    "message",
    [
        {"jsonrpc": "2.0", "id": 1, "result": {}},
        {"jsonrpc": "2.0", "id": 1, "error": {"code": -32601, "message": "no", "data": [1]}},
        {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "Parse error"}},
    ],
)
def test_a_well_formed_response_still_reaches_the_server(
    client: TestClient[Any], message: dict[str, Any]
) -> None:
    assert client.post("/mcp", json=message, headers=HEADERS).status_code == 202


def test_a_message_nested_too_deeply_is_said_to_be_so() -> None:
    """Valid JSON nested thousands of levels deep is refused (-32700) as nested too deeply,
    as ``POST /v1/tools/call`` says it, not as "not valid JSON"."""
    error = envelope_error("[" * 3000 + "]" * 3000)
    assert error is not None
    assert error["error"]["code"] == -32700
    assert "nested too deeply" in error["error"]["message"]
