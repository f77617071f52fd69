"""The official MCP client starts `context-service mcp` over stdio against the demo store."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import anyio
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from context_service.tools import openai_tools

pytestmark = __import__("pytest").mark.e2e


def _text(result: Any) -> str:
    return "".join(block.text for block in result.content)


def test_stdio_server_lists_the_tools_and_answers_for_maya(demo_db: Path, tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('[audiences.chatbot]\ncontact = "masked"\nhide = ["billing.subscriptions"]\n')
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "context_service.cli", "mcp"],
        env={
            **os.environ,
            "CONTEXT_SERVICE_DB": str(demo_db),
            "CONTEXT_SERVICE_FIELD_POLICY": str(policy),
        },
    )
    outcome: dict[str, Any] = {}

    async def session() -> None:
        async with Client(params) as client:
            outcome["tools"] = (await client.list_tools()).tools
            outcome["maya"] = await client.call_tool(
                "get_customer_context", {"email": "maya.patel@example.com"}
            )
            outcome["shared"] = await client.call_tool(
                "get_customer_context", {"email": "info@silvacosta.example"}
            )
            outcome["find"] = await client.call_tool(
                "find_customer", {"email": "info@silvacosta.example"}
            )
            outcome["escalate"] = await client.call_tool(
                "create_escalation",
                {
                    "phone": "+14155550134",
                    "reason": "asks for a person",
                    "transcript": [{"role": "customer", "text": "Can I talk to a human?"}],
                },
            )

    anyio.run(session)
    tools = {tool.name: tool for tool in outcome["tools"]}
    assert list(tools) == ["get_customer_context", "find_customer", "create_escalation"]
    served = {t["function"]["name"]: t["function"]["parameters"] for t in openai_tools()}
    assert {name: tool.input_schema for name, tool in tools.items()} == served
    assert tools["get_customer_context"].annotations.read_only_hint is True
    maya = outcome["maya"]
    assert not maya.is_error
    assert "Maya Patel" in _text(maya)
    assert "past_due" in _text(maya)
    # CONTEXT_SERVICE_FIELD_POLICY applies: contacts masked, subscriptions hidden.
    assert "m***@example.com" in _text(maya)
    assert "Subscription Pro" not in _text(maya)
    assert outcome["shared"].is_error
    assert "Ana Silva" in _text(outcome["shared"])
    assert "Bruno Costa" in _text(outcome["find"])
    assert not outcome["escalate"].is_error
    assert "ESCALATION [" in _text(outcome["escalate"])
