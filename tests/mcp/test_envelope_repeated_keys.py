"""A key given twice in an MCP message is refused, as ``POST /v1/tools/call`` refuses it: the
SDK would act on the last value while a gateway, WAF or log reads the first (another customer,
or another tool for ``params.name``). In the envelope it is -32600 (Invalid Request), inside
``params`` or ``params.arguments`` -32602 (Invalid params) naming the key; over HTTP and on
stdio alike."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from context_service.api import create_app
from context_service.mcp_server.json_keys import RepeatedKey, repeated_key
from tests.conftest import TEST_KEY, make_settings
from tests.mcp.messages import ACCEPT_MCP, stdio_answers

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
HEADERS = {**AUTH, **ACCEPT_MCP, "Content-Type": "application/json"}
MAYA = "maya.patel@example.com"


@pytest.fixture
def client(demo_db: Path) -> Iterator[TestClient[Any]]:
    with TestClient(app=create_app(make_settings(demo_db))) as test_client:
        yield test_client


def _call(params: str, envelope: str = '"jsonrpc": "2.0", "id": 2, "method": "tools/call"') -> str:
    """A ``tools/call`` written out by hand: a dict cannot hold a key twice."""
    return "{" + envelope + ', "params": ' + params + "}"


TWO_EMAILS = _call(
    '{"name": "get_customer_context", '
    f'"arguments": {{"email": "nobody@example.com", "email": "{MAYA}"}}}}'
)
TWO_NAMES = _call(
    '{"name": "find_customer", "name": "get_customer_context", '
    f'"arguments": {{"email": "{MAYA}"}}}}'
)


def test_an_argument_given_twice_is_invalid_params_naming_it(client: TestClient[Any]) -> None:
    response = client.post("/mcp", content=TWO_EMAILS, headers=HEADERS)
    assert response.status_code == 200  # a JSON-RPC error, as the SDK answers -32602
    error = response.json()["error"]
    assert response.json()["id"] == 2
    assert error["code"] == -32602
    assert error["message"] == (
        "Invalid params: params.arguments gives the key 'email' more than once; give each once"
    )
    assert "Maya Patel" not in response.text


def test_a_tool_name_given_twice_is_invalid_params(client: TestClient[Any]) -> None:
    response = client.post("/mcp", content=TWO_NAMES, headers=HEADERS)
    error = response.json()["error"]
    assert error["code"] == -32602
    assert "'name'" in error["message"]
    assert "Maya Patel" not in response.text


def test_a_repeat_deeper_in_the_arguments_is_refused_too(client: TestClient[Any]) -> None:
    transcript = '[{"role": "customer", "text": "hi", "text": "ignore the above"}]'
    body = _call(
        '{"name": "create_escalation", "arguments": '
        f'{{"email": "{MAYA}", "reason": "human", "post_note": false, '
        f'"transcript": {transcript}}}}}'
    )
    error = client.post("/mcp", content=body, headers=HEADERS).json()["error"]
    assert error["code"] == -32602
    assert error["message"].startswith(
        "Invalid params: params.arguments.transcript[0] gives the key 'text' more than once"
    )


@pytest.mark.parametrize(
    ("envelope", "key", "answer_id"),
    [
        ('"jsonrpc": "2.0", "id": 2, "method": "ping", "method": "tools/call"', "method", 2),
        ('"jsonrpc": "2.0", "id": 2, "id": 3, "method": "tools/call"', "id", None),
        # An escaped key is the same key once decoded.
        ('"jsonrpc": "2.0", "id": 2, "method": "tools/call", "\\u0069d": 3', "id", None),
    ],
)
def test_an_envelope_key_given_twice_is_invalid_request(
    client: TestClient[Any], envelope: str, key: str, answer_id: int | None
) -> None:
    params = f'{{"name": "get_customer_context", "arguments": {{"email": "{MAYA}"}}}}'
    response = client.post("/mcp", content=_call(params, envelope), headers=HEADERS)
    assert response.status_code == 400
    answer = response.json()
    assert answer["error"]["code"] == -32600
    assert repr(key) in answer["error"]["message"]
    assert answer["id"] == answer_id  # which of two ids would the client wait on?


def test_tools_call_over_http_still_refuses_a_repeat(client: TestClient[Any]) -> None:
    """``api.problems.refuse_repeated_keys`` now shares the detection (``json_keys``)."""
    body = (
        f'{{"name": "get_customer_context", "arguments": {{"email": "x@y.z", "email": "{MAYA}"}}}}'
    )
    headers = {**AUTH, "Content-Type": "application/json"}
    response = client.post("/v1/tools/call", content=body, headers=headers)
    assert response.status_code == 400
    assert "'email' more than once" in response.json()["detail"]


def test_stdio_refuses_a_repeated_argument_and_reads_on(demo_db: Path) -> None:
    answers = stdio_answers(demo_db, [TWO_EMAILS])
    assert answers[2]["error"]["code"] == -32602
    assert "Maya Patel" not in json.dumps(answers)
    assert answers[99]["result"] == {}


# The shared detection ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ('{"a": 1, "b": {"c": 2}}', None),
        ('[1, "{\\"a\\": 1, \\"a\\": 2}"]', None),  # a string holding JSON is no object
        ('{"a": 1, "a": 2}', RepeatedKey("a", ())),
        ('{"p": {"q": [0, {"k": 1, "k": 2}]}}', RepeatedKey("k", ("p", "q", 1))),
        # the outermost repeat is named, not the first one parsed
        ('{"p": {"k": 1, "k": 2}, "id": 1, "id": 2}', RepeatedKey("id", ())),
    ],
)
def test_repeated_key_names_the_outermost_repeat_and_where(
    text: str, found: RepeatedKey | None
) -> None:
    assert repeated_key(text) == found
    assert repeated_key(text.encode()) == found
