"""A public chatbot key (no trusted backend, no proof) calling a tool over HTTP or MCP with a
shared mailbox learns that several customers match, never who they are."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar.testing import TestClient

from context_service.api import create_app
from tests.conftest import make_settings
from tests.trust.helpers import copy_demo, make_key

SHARED = "info@silvacosta.example"  # Ana Silva's and Bruno Costa's
NAMES = ("Ana Silva", "Bruno Costa")
CALL = {"name": "get_customer_context", "arguments": {"email": SHARED}}


def _client(demo_db: Path, tmp_path: Path, *, trusted: bool) -> tuple[TestClient[Any], str]:
    db = copy_demo(demo_db, tmp_path)
    key = make_key(
        db,
        "bot",
        ["context:read", "context:lookup"],
        audiences=["chatbot"],
        trusted_backend=trusted,
    )
    return TestClient(app=create_app(make_settings(db))), key


def _call_tool(client: TestClient[Any], key: str) -> Any:
    with client:
        return client.post("/v1/tools/call", json=CALL, headers={"Authorization": f"Bearer {key}"})


def test_a_tool_409_names_no_one_to_a_public_chatbot_key(demo_db: Path, tmp_path: Path) -> None:
    client, key = _client(demo_db, tmp_path, trusted=False)
    response = _call_tool(client, key)
    assert response.status_code == 409
    assert "match 2 customers" in response.json()["detail"]
    assert response.json().get("candidates", []) == []
    assert not any(name in response.text for name in NAMES)
    assert "prof_" not in response.text


def test_an_mcp_tool_error_names_no_one_to_a_public_chatbot_key(
    demo_db: Path, tmp_path: Path
) -> None:
    client, key = _client(demo_db, tmp_path, trusted=False)
    message = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": CALL}
    headers = {
        "Authorization": f"Bearer {key}",
        "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": "2025-06-18",
    }
    with client:
        response = client.post("/mcp", json=message, headers=headers)
    assert response.status_code == 200
    assert "match 2 customers" in response.text
    assert not any(name in response.text for name in NAMES)
    assert "prof_" not in response.text


def test_a_trusted_backend_still_gets_the_candidates(demo_db: Path, tmp_path: Path) -> None:
    client, key = _client(demo_db, tmp_path, trusted=True)
    response = _call_tool(client, key)
    assert response.status_code == 409
    assert sorted(c["name"] for c in response.json()["candidates"]) == list(NAMES)
