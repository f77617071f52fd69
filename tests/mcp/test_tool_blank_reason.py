"""``create_escalation`` refuses a reason of spaces only, as ``POST /v1/escalations`` does
(``pattern=r"\\S"`` on both Structs): an escalation, and a helpdesk note, that says nothing of
why a person must take over helps no one. The pattern shows in the tool's JSON schema, so a
model is told before it calls."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from context_service.api import create_app
from context_service.store import Store
from context_service.tools import InvalidToolArguments, ToolBox, openai_tools
from tests.conftest import TEST_KEY, make_settings
from tests.mcp.messages import ACCEPT_MCP

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
MAYA = "maya.patel@example.com"
BLANK = ["   ", "\n\t", "\u00a0"]


@pytest.fixture
def client(demo_db: Path) -> Iterator[TestClient[Any]]:
    with TestClient(app=create_app(make_settings(demo_db))) as test_client:
        yield test_client


def _arguments(reason: str) -> dict[str, Any]:
    return {"email": MAYA, "reason": reason, "post_note": False}


@pytest.mark.parametrize("reason", BLANK)
def test_the_tool_refuses_a_blank_reason(demo_store: Store, reason: str) -> None:
    box = ToolBox(demo_store.conn, "US")
    with pytest.raises(InvalidToolArguments, match="reason"):
        box.call("create_escalation", _arguments(reason))


@pytest.mark.parametrize("reason", BLANK)
def test_tools_call_and_mcp_refuse_a_blank_reason(client: TestClient[Any], reason: str) -> None:
    call = {"name": "create_escalation", "arguments": _arguments(reason)}
    assert client.post("/v1/tools/call", json=call, headers=AUTH).status_code == 400
    body = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": call}
    answer = client.post("/mcp", json=body, headers={**AUTH, **ACCEPT_MCP}).json()
    assert answer["result"]["isError"] is True


def test_a_reason_with_words_around_spaces_is_taken(demo_store: Store) -> None:
    box = ToolBox(demo_store.conn, "US")
    assert box.call("create_escalation", _arguments("  wants a human  "))


def test_the_schema_tells_a_model_the_reason_is_not_blank() -> None:
    tools = {tool["function"]["name"]: tool["function"] for tool in openai_tools("chat")}
    reason = tools["create_escalation"]["parameters"]["properties"]["reason"]
    assert reason["pattern"] == r"\S"
