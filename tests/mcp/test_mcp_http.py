"""MCP over streamable HTTP at /mcp: the API-key rules, raw JSON-RPC and the official client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from litestar.testing import TestClient
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from context_service.api import create_app
from context_service.audience.policy import fingerprint
from tests.conftest import TEST_KEY, make_settings
from tests.mcp.messages import ACCEPT_MCP, initialize
from tests.widget.live import live_server

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
ACCEPT = ACCEPT_MCP
INITIALIZE = initialize("test")


@pytest.fixture
def client(demo_db: Path) -> Iterator[TestClient[Any]]:
    with TestClient(app=create_app(make_settings(demo_db))) as test_client:
        yield test_client


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer wrong-key"}, {"Authorization": "Basic abc"}]
)
def test_mcp_without_a_valid_key_is_401(client: TestClient[Any], headers: dict[str, str]) -> None:
    response = client.post("/mcp", json=INITIALIZE, headers={**ACCEPT, **headers})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert "API key" in response.json()["detail"]


def test_mcp_get_and_delete_need_a_key_too(client: TestClient[Any]) -> None:
    assert client.get("/mcp", headers=ACCEPT).status_code == 401
    assert client.delete("/mcp").status_code == 401


def _rpc(client: TestClient[Any], method: str, params: dict[str, Any], key: str = TEST_KEY) -> Any:
    body = {"jsonrpc": "2.0", "id": 2, "method": method, "params": params}
    auth = {"Authorization": f"Bearer {key}"}
    headers = {**auth, **ACCEPT, "MCP-Protocol-Version": "2025-06-18"}
    response = client.post("/mcp", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_mcp_with_a_key_initializes_lists_and_calls(client: TestClient[Any]) -> None:
    init = client.post("/mcp", json=INITIALIZE, headers={**AUTH, **ACCEPT})
    assert init.status_code == 200
    assert init.json()["result"]["serverInfo"]["name"] == "context-service"
    tools = _rpc(client, "tools/list", {})["result"]["tools"]
    assert [t["name"] for t in tools] == [
        "get_customer_context",
        "find_customer",
        "create_escalation",
    ]
    call = _rpc(
        client,
        "tools/call",
        {"name": "get_customer_context", "arguments": {"email": "maya.patel@example.com"}},
    )["result"]
    assert call["isError"] is False
    assert "Maya Patel" in call["content"][0]["text"]


def test_the_official_client_over_http_against_a_live_server(demo_db: Path) -> None:
    outcome: dict[str, Any] = {}

    async def session(base: str, headers: dict[str, str]) -> None:
        async with (
            httpx2.AsyncClient(headers=headers) as http,
            Client(streamable_http_client(f"{base}/mcp", http_client=http)) as mcp,
        ):
            outcome["tools"] = [t.name for t in (await mcp.list_tools()).tools]
            outcome["maya"] = await mcp.call_tool(
                "get_customer_context", {"phone": "+1 415 555 0134"}
            )

    with live_server(demo_db) as base:
        anyio.run(session, base, AUTH)
        rejected = httpx2.post(f"{base}/mcp", json=INITIALIZE, headers=ACCEPT)
    assert outcome["tools"] == ["get_customer_context", "find_customer", "create_escalation"]
    assert "Maya Patel" in outcome["maya"].content[0].text
    assert rejected.status_code == 401


def test_mcp_tools_apply_the_calling_key_s_field_policy(demo_db: Path, tmp_path: Path) -> None:
    bot_key = "bot-key-0123456789"
    policy = tmp_path / "policy.toml"
    policy.write_text(f'[keys.{fingerprint(bot_key)}]\naudiences = ["chatbot"]\n')
    settings = make_settings(demo_db, api_keys=[TEST_KEY, bot_key], field_policy=str(policy))
    escalate = {
        "name": "create_escalation",
        "arguments": {"email": "maya.patel@example.com", "reason": "wants a person"},
    }
    with TestClient(app=create_app(settings)) as client:
        as_bot = _rpc(client, "tools/call", escalate, key=bot_key)["result"]
        as_admin = _rpc(client, "tools/call", escalate)["result"]
    assert as_bot["isError"] is True
    assert "may not ask for audience 'escalation'" in as_bot["content"][0]["text"]
    assert as_admin["isError"] is False
    assert "ESCALATION [" in as_admin["content"][0]["text"]


def test_mcp_refuses_arguments_a_tool_does_not_take(client: TestClient[Any]) -> None:
    assert client.post("/mcp", json=INITIALIZE, headers={**AUTH, **ACCEPT}).status_code == 200
    call = _rpc(
        client,
        "tools/call",
        {"name": "get_customer_context", "arguments": {"emial": "maya.patel@example.com"}},
    )["result"]
    assert call["isError"] is True
    text = call["content"][0]["text"]
    assert "unknown argument(s) emial" in text
    assert "email" in text
    assert "Maya" not in text
