"""The MCP surface as an agent developer meets it: a cancelled request on stdio,
unknown argument names that made an answer unbounded, malformed ``tools/call`` params, schema
validity, and scopes and audit rows over /mcp."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from anyio import wait_all_tasks_blocked
from jsonschema import Draft202012Validator
from litestar.testing import TestClient
from mcp.shared.message import SessionMessage
from mcp_types import JSONRPCResponse

from context_service.api import create_app
from context_service.mcp_server.stdio import CheckedLines
from context_service.tools import TOOLS
from tests.conftest import TEST_KEY, make_settings
from tests.mcp.messages import ACCEPT_MCP, stdio_answers
from tests.trust.helpers import copy_demo, make_key

MAYA = "maya.patel@example.com"
HEADERS = {
    "Authorization": f"Bearer {TEST_KEY}",
    **ACCEPT_MCP,
    "MCP-Protocol-Version": "2025-06-18",
}


# stdio: a cancelled request is not waited for -----------------------------------------------


async def _lines(*messages: dict[str, Any]) -> AsyncIterator[str]:
    for message in messages:
        yield json.dumps(message)


def _request(request_id: int) -> dict[str, Any]:
    params = {"name": "get_customer_context", "arguments": {"email": MAYA}}
    return {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params}


def _cancel(request_id: int) -> dict[str, Any]:
    params = {"requestId": request_id, "reason": "the user stopped it"}
    return {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": params}


class _Wire:
    """A write stream that drops what it is sent (the answers go nowhere in these tests)."""

    async def send(self, item: SessionMessage, /) -> None:
        del item

    async def aclose(self) -> None:
        return None

    async def __aenter__(self) -> _Wire:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


def _stops_once_answered(messages: list[dict[str, Any]], answered: list[int]) -> bool:
    """Whether ``CheckedLines`` ends (stdin has ended) once the requests ``answered`` are."""

    async def scenario() -> bool:
        checked = CheckedLines(_lines(*messages))
        wire = checked.watch(_Wire())
        ended = anyio.Event()

        async def read_stdin() -> None:
            async for _line in checked:
                pass
            ended.set()

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(read_stdin)
            await wait_all_tasks_blocked()
            for request_id in answered:
                await wire.send(
                    SessionMessage(JSONRPCResponse(jsonrpc="2.0", id=request_id, result={}))
                )
            await wait_all_tasks_blocked()
            tasks.cancel_scope.cancel()
        return ended.is_set()

    return anyio.run(scenario)


def test_stdio_still_waits_for_a_request_nobody_cancelled() -> None:
    assert not _stops_once_answered([_request(6), _request(7)], answered=[7])
    assert _stops_once_answered([_request(6), _request(7)], answered=[6, 7])


def test_stdio_does_not_wait_for_the_answer_to_a_request_the_client_cancelled() -> None:
    """The SDK sends no answer to a cancelled request (as the MCP spec asks), yet when stdin
    ended ``context-service mcp`` waited for one: a desktop agent that cancelled a call and
    quit saw the server linger for ``DRAIN_SECONDS`` (a minute) before it exited."""
    assert _stops_once_answered([_request(6), _request(7), _cancel(6)], answered=[7])


# Every answer bounded ------------------------------------------------------------------------


@pytest.fixture
def client(demo_db: Path) -> Iterator[TestClient[Any]]:
    with TestClient(app=create_app(make_settings(demo_db))) as test_client:
        yield test_client


def _tool_call(client: TestClient[Any], name: str, arguments: Any) -> dict[str, Any]:
    params = {"name": name, "arguments": arguments}
    body = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": params}
    response = client.post("/mcp", json=body, headers=HEADERS)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def test_unknown_arguments_are_named_within_a_bounded_answer(client: TestClient[Any]) -> None:
    """Every unknown argument name went back whole into the model's context: a call with a few
    hundred long made-up keys (within the body limit; stdio has none) came back as a tool
    result of hundreds of kilobytes. The answer names the first few, shortened, and the rest
    by count."""
    arguments = {f"k{i:04d}" + "x" * 100: 1 for i in range(100)}
    result = _tool_call(client, "get_customer_context", arguments)["result"]
    text = result["content"][0]["text"]
    assert result["isError"] is True
    assert "unknown argument(s) k0000" in text
    assert "email" in text  # what it does take
    assert len(text) < 1_000


# Schemas -------------------------------------------------------------------------------------


def test_mcp_and_openai_listings_are_the_same_valid_2020_12_schemas(
    client: TestClient[Any],
) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    listed = client.post("/mcp", json=body, headers=HEADERS).json()["result"]["tools"]
    auth = {"Authorization": HEADERS["Authorization"]}
    openai = client.get("/v1/tools/openai", headers=auth).json()
    as_openai = {t["function"]["name"]: t["function"] for t in openai}
    for tool in listed:
        Draft202012Validator.check_schema(tool["inputSchema"])
        assert tool["inputSchema"]["type"] == "object"
        assert tool["inputSchema"] == as_openai[tool["name"]]["parameters"]
        assert tool["description"] == as_openai[tool["name"]]["description"]
    assert [t["name"] for t in listed] == [spec.name for spec in TOOLS]


# Scopes and the read audit over /mcp ---------------------------------------------------------


def _as(client: TestClient[Any], key: str, name: str, arguments: dict[str, Any]) -> Any:
    params = {"name": name, "arguments": arguments}
    body = {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": params}
    return client.post("/mcp", json=body, headers={**HEADERS, "Authorization": f"Bearer {key}"})


def test_mcp_enforces_scopes_and_audits_every_read(demo_db: Path, tmp_path: Path) -> None:
    db = copy_demo(demo_db, tmp_path)
    reader = make_key(db, "reader", ["context:read"])
    bot = make_key(db, "lookup-bot", ["context:lookup"], trusted_backend=True)
    with TestClient(app=create_app(make_settings(db))) as client:
        refused = _as(client, reader, "get_customer_context", {"email": MAYA})
        escalation = _as(client, bot, "create_escalation", {"email": MAYA, "reason": "human"})
        context = _as(client, bot, "get_customer_context", {"email": MAYA}).json()["result"]
        found = _as(client, bot, "find_customer", {"email": MAYA}).json()["result"]
        client.app.state.trust.audit.flush()  # reads are buffered; write them now
        maya = json.loads(found["content"][0]["text"])[0]["profile_id"]
        auth = {"Authorization": f"Bearer {TEST_KEY}"}
        reads = client.get("/v1/audit/reads", params={"profile_id": maya}, headers=auth).json()
    assert refused.status_code == 403  # before the MCP layer: no context:lookup
    escalated = escalation.json()["result"]
    assert escalated["isError"] is True
    assert "escalations:write" in escalated["content"][0]["text"]
    assert context["isError"] is False
    seen = {(r["key_name"], r["channel"]) for r in reads["reads"]}
    assert ("lookup-bot", "tool:get_customer_context") in seen
    assert ("lookup-bot", "tool:find_customer") in seen
    assert ("lookup-bot", "tool:create_escalation") not in seen
    # a tool call carries no end user's proof: the backend's word is what let it read
    modes = {r["verification"] for r in reads["reads"] if r["key_name"] == "lookup-bot"}
    assert modes == {"trusted_backend"}


# Invalid params say what is wrong ------------------------------------------------------------

BAD_CALLS = [
    ({"name": "get_customer_context", "arguments": [MAYA]}, "arguments must be a JSON object"),
    ({"name": "get_customer_context", "arguments": f'{{"email": "{MAYA}"}}'}, "JSON object"),
    ({"arguments": {"email": MAYA}}, "name"),
    ({"name": 7, "arguments": {}}, "name"),
]


@pytest.mark.parametrize(("params", "said"), BAD_CALLS)
def test_a_malformed_tool_call_is_invalid_params_saying_why_over_http(
    client: TestClient[Any], params: dict[str, Any], said: str
) -> None:
    """The SDK answered "Invalid request parameters" with empty data: an agent developer (or
    a model that put its arguments in a string) could not tell what to change."""
    body = {"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": params}
    answer = client.post("/mcp", json=body, headers=HEADERS).json()
    assert answer["id"] == 4
    assert answer["error"]["code"] == -32602
    assert said in answer["error"]["message"]
    assert "pydantic" not in json.dumps(answer)


def test_a_malformed_tool_call_is_invalid_params_saying_why_on_stdio(demo_db: Path) -> None:
    lines = [
        json.dumps({"jsonrpc": "2.0", "id": n, "method": "tools/call", "params": params})
        for n, (params, _said) in enumerate(BAD_CALLS)
    ]
    answers = stdio_answers(demo_db, lines)
    for n, (_params, said) in enumerate(BAD_CALLS):
        assert answers[n]["error"]["code"] == -32602
        assert said in answers[n]["error"]["message"]
    assert answers[99]["result"] == {}
