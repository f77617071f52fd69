"""A long chat is when a bot hands over: a 60-turn transcript (some 75 KB, past the other
routes' 64 KiB) is an escalation like any other, not a 413 (a review saw it refused), whether it
comes to ``POST /v1/escalations`` or as the ``create_escalation`` tool over
``POST /v1/tools/call`` or ``/mcp``; a body over the route's own 2 MiB is a 413 naming that
limit, and another tool's call keeps the app's limit."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from litestar.testing import TestClient

from context_service.api import create_app
from context_service.api.limits import MAX_ESCALATION_BYTES
from tests.conftest import TEST_KEY, make_settings
from tests.mcp.messages import ACCEPT_MCP
from tests.trust.helpers import MAYA, copy_demo

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}


def _body(turns: int, chars: int) -> dict[str, object]:
    transcript = [
        {"role": "customer" if i % 2 == 0 else "bot", "text": f"turn {i}: " + "x" * chars}
        for i in range(turns)
    ]
    return {"customer": {"email": MAYA}, "transcript": transcript, "reason": "long chat"}


def test_a_sixty_turn_chat_is_handed_over(demo_db: Path, tmp_path: Path) -> None:
    settings = make_settings(copy_demo(demo_db, tmp_path))
    with TestClient(app=create_app(settings)) as client:
        body = _body(60, 1200)
        response = client.post("/v1/escalations", json=body, headers=AUTH)
    assert len(str(body)) > settings.max_body_bytes
    assert response.status_code == 201, response.text
    assert "turn 30" in response.json()["handoff"]["wants"]


def test_a_body_over_the_routes_limit_is_413_naming_it(demo_db: Path, tmp_path: Path) -> None:
    with TestClient(app=create_app(make_settings(copy_demo(demo_db, tmp_path)))) as client:
        response = client.post("/v1/escalations", json=_body(200, 12000), headers=AUTH)
    assert response.status_code == 413
    assert f"larger than {MAX_ESCALATION_BYTES:,} bytes" in response.json()["detail"]


def _arguments(turns: int, chars: int) -> dict[str, object]:
    body = _body(turns, chars)
    return {"email": MAYA, "reason": body["reason"], "transcript": body["transcript"]}


def _mcp_call(call: Mapping[str, object]) -> dict[str, object]:
    """The same call as an MCP ``tools/call`` message."""
    return {"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": call}


MCP_HEADERS = {**AUTH, **ACCEPT_MCP, "MCP-Protocol-Version": "2025-06-18"}


def test_a_sixty_turn_chat_is_handed_over_by_the_tool_too(demo_db: Path, tmp_path: Path) -> None:
    settings = make_settings(copy_demo(demo_db, tmp_path))
    arguments = _arguments(60, 1200)
    assert len(str(arguments)) > settings.max_body_bytes
    with TestClient(app=create_app(settings)) as client:
        call = {"name": "create_escalation", "arguments": arguments}
        over_http = client.post("/v1/tools/call", json=call, headers=AUTH)
        over_mcp = client.post("/mcp", json=_mcp_call(call), headers=MCP_HEADERS)
    assert over_http.status_code == 200, over_http.text
    assert "turn 30" in over_http.text
    assert over_mcp.status_code == 200, over_mcp.text
    result = over_mcp.json()["result"]
    assert result["isError"] is False
    assert "turn 30" in result["content"][0]["text"]


def test_other_tools_keep_the_apps_limit(demo_db: Path, tmp_path: Path) -> None:
    settings = make_settings(copy_demo(demo_db, tmp_path))
    arguments = {"email": MAYA, "format": "text", "pad": "x" * 100_000}
    with TestClient(app=create_app(settings)) as client:
        call = {"name": "get_customer_context", "arguments": arguments}
        over_http = client.post("/v1/tools/call", json=call, headers=AUTH)
        over_mcp = client.post("/mcp", json=_mcp_call(call), headers=MCP_HEADERS)
    for response in (over_http, over_mcp):
        assert response.status_code == 413, response.text
        detail = response.json()["detail"]
        assert f"larger than {settings.max_body_bytes:,} bytes" in detail
        assert "create_escalation" in detail


def test_an_escalation_tool_call_over_two_mib_is_413(demo_db: Path, tmp_path: Path) -> None:
    with TestClient(app=create_app(make_settings(copy_demo(demo_db, tmp_path)))) as client:
        call = {"name": "create_escalation", "arguments": _arguments(200, 12000)}
        over_http = client.post("/v1/tools/call", json=call, headers=AUTH)
        over_mcp = client.post("/mcp", json=_mcp_call(call), headers=MCP_HEADERS)
    assert over_http.status_code == 413
    assert f"larger than {MAX_ESCALATION_BYTES:,} bytes" in over_http.json()["detail"]
    assert over_mcp.status_code == 413


def test_an_app_limit_above_two_mib_holds_for_tool_calls_too(demo_db: Path, tmp_path: Path) -> None:
    """A review set the app's limit to 4 MiB: a 3 MiB tool call was refused at the escalation's
    2 MiB, while the same call over /mcp was not."""
    settings = make_settings(copy_demo(demo_db, tmp_path), max_body_bytes=4 * 1024 * 1024)
    arguments = {"email": MAYA, "format": "text", "pad": "x" * 3_000_000}
    with TestClient(app=create_app(settings)) as client:
        call = {"name": "get_customer_context", "arguments": arguments}
        over_http = client.post("/v1/tools/call", json=call, headers=AUTH)
        over_mcp = client.post("/mcp", json=_mcp_call(call), headers=MCP_HEADERS)
    assert over_http.status_code == 400, over_http.text  # read, then its unknown field refused
    assert "pad" in over_http.json()["detail"]
    assert over_mcp.status_code == 200
