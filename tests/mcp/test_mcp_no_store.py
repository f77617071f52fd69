"""Every answer of the MCP server over HTTP carries ``Cache-Control: no-store``, as every other
answer of the app does (``api.http_rules.never_stored``): a ``tools/call`` answer holds a
customer's context, and an envelope error is answered before the SDK sees the request."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from context_service.api import create_app
from tests.conftest import TEST_KEY, make_settings
from tests.mcp.messages import ACCEPT_MCP, initialize

HEADERS = {"Authorization": f"Bearer {TEST_KEY}", **ACCEPT_MCP}
MAYA = "maya.patel@example.com"


def _call(arguments: dict[str, Any]) -> dict[str, Any]:
    params = {"name": "get_customer_context", "arguments": arguments}
    return {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": params}


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (_call({"email": MAYA}), 200),  # a customer's context
        (initialize("test"), 200),  # the SDK's own answer
        (b"{not json", 400),  # answered by the envelope check
        ({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"arguments": {}}}, 200),
    ],
)
def test_every_answer_of_mcp_is_not_stored(
    demo_db: Path, body: dict[str, Any] | bytes, status: int
) -> None:
    with TestClient(app=create_app(make_settings(demo_db))) as client:
        if isinstance(body, bytes):
            headers = {**HEADERS, "Content-Type": "application/json"}
            response = client.post("/mcp", content=body, headers=headers)
        else:
            response = client.post("/mcp", json=body, headers=HEADERS)
    assert response.status_code == status, response.text
    assert response.headers["cache-control"] == "no-store"
    if body == _call({"email": MAYA}):
        assert "Maya Patel" in response.text
