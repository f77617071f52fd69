"""Every answer that names customers (``find_customer``'s matches, the 409 candidate lists of
``GET /v1/context``, ``POST /v1/context/lookup``, ``POST /v1/tools/call`` and ``/mcp``) applies
the caller's field view: a key hiding ``identity.names`` reads no name there (``"name": null``,
as in its JSON snapshot), while a key that hides nothing keeps the names."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from context_service.api import create_app
from context_service.audience.policy import load_policy
from context_service.errors import AmbiguousIdentifier
from context_service.store import Store
from context_service.tools import ToolBox
from tests.conftest import TEST_KEY, make_settings
from tests.trust.helpers import copy_demo, make_key

MAYA = "maya.patel@example.com"
SHARED = "info@silvacosta.example"  # Ana Silva's and Bruno Costa's
SHARERS = ("Ana Silva", "Bruno Costa", "Silva", "Costa")
# Tomás García's name with Maya's phone: a search that names both (409, or two matches).
MIXED = {"name": "Tomás García", "phone": "+14155550134"}
MIXED_NAMES = ("Maya", "Patel", "Tom", "Garc")
MCP_HEADERS = {
    "Accept": "application/json, text/event-stream",
    "MCP-Protocol-Version": "2025-06-18",
}


@pytest.fixture
def served(demo_db: Path, tmp_path: Path) -> Iterator[tuple[TestClient[Any], dict[str, str]]]:
    """The app on a copy of the demo store, and keys: ``hidden`` (a trusted backend hiding
    ``identity.names``), ``unlimited`` (a bootstrap key) and ``agent_only`` (limited to the
    agent audience)."""
    db = copy_demo(demo_db, tmp_path)
    scopes = ["context:read", "context:lookup"]
    keys = {
        "hidden": make_key(
            db,
            "nonames",
            scopes,
            audiences=["chatbot", "agent"],
            hide=["identity.names"],
            trusted_backend=True,
        ),
        "unlimited": TEST_KEY,
        "agent_only": make_key(db, "agents", scopes, audiences=["agent"], trusted_backend=True),
    }
    with TestClient(app=create_app(make_settings(db))) as client:
        yield client, keys


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _tool(client: TestClient[Any], key: str, name: str, arguments: dict[str, Any]) -> Any:
    call = {"name": name, "arguments": arguments}
    return client.post("/v1/tools/call", json=call, headers=_auth(key))


def _mcp(client: TestClient[Any], key: str, name: str, arguments: dict[str, Any]) -> Any:
    message = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": name, "arguments": arguments},
    }
    response = client.post("/mcp", json=message, headers={**_auth(key), **MCP_HEADERS})
    assert response.status_code == 200
    return response


def _absent(text: str, names: tuple[str, ...]) -> None:
    shown = [name for name in names if name in text]
    assert not shown, f"{shown} in {text}"


def _mcp_text(response: Any) -> str:
    result = response.json()["result"]
    return "".join(block["text"] for block in result["content"])


# find_customer


def test_find_customer_over_http_names_no_one_to_a_key_hiding_names(served: Any) -> None:
    client, keys = served
    exact = _tool(client, keys["hidden"], "find_customer", {"email": MAYA})
    assert exact.status_code == 200
    _absent(exact.text, ("Maya", "Patel"))
    (match,) = exact.json()
    assert match["name"] is None  # as the key's JSON snapshot says: the shape stays
    assert match["confidence"] == "exact"
    assert match["profile_id"].startswith("prof_")
    searched = _tool(client, keys["hidden"], "find_customer", MIXED)
    assert searched.status_code == 200
    _absent(searched.text, MIXED_NAMES)
    assert searched.json()
    assert all(m["name"] is None for m in searched.json())
    shared = _tool(client, keys["hidden"], "find_customer", {"email": SHARED})
    _absent(shared.text, SHARERS)
    assert [m["name"] for m in shared.json()] == [None, None]


def test_find_customer_over_http_names_everyone_to_an_unlimited_key(served: Any) -> None:
    client, keys = served
    exact = _tool(client, keys["unlimited"], "find_customer", {"email": MAYA})
    assert [m["name"] for m in exact.json()] == ["Maya Patel"]
    shared = _tool(client, keys["unlimited"], "find_customer", {"email": SHARED})
    assert [m["name"] for m in shared.json()] == ["Ana Silva", "Bruno Costa"]
    searched = _tool(client, keys["unlimited"], "find_customer", MIXED)
    assert searched.json()[0]["name"] == "Tomás García"


def test_find_customer_over_mcp_follows_the_key(served: Any) -> None:
    client, keys = served
    hidden = _mcp(client, keys["hidden"], "find_customer", {"email": SHARED})
    _absent(hidden.text, SHARERS)
    assert [m["name"] for m in json.loads(_mcp_text(hidden))] == [None, None]
    searched = _mcp(client, keys["hidden"], "find_customer", MIXED)
    _absent(searched.text, MIXED_NAMES)
    shown = _mcp(client, keys["unlimited"], "find_customer", {"email": SHARED})
    assert [m["name"] for m in json.loads(_mcp_text(shown))] == ["Ana Silva", "Bruno Costa"]


def test_find_customer_is_a_chatbot_tool_for_audience_limited_keys(served: Any) -> None:
    """``find_customer`` answers for the chatbot, like ``get_customer_context``: a key limited
    to other audiences gets 403 before any lookup, whether or not anyone matches."""
    client, keys = served
    for arguments in ({"email": MAYA}, {"email": "nobody@nowhere.example"}, MIXED):
        response = _tool(client, keys["agent_only"], "find_customer", arguments)
        assert response.status_code == 403, response.text
        assert "chatbot" in response.json()["detail"]
        _absent(response.text, ("Maya", "Patel", "prof_"))
    over_mcp = _mcp(client, keys["agent_only"], "find_customer", {"email": MAYA})
    assert over_mcp.json()["result"]["isError"] is True
    _absent(over_mcp.text, ("Maya", "Patel", "prof_"))


# 409 candidate lists


def test_tool_409_candidates_have_no_names_for_a_key_hiding_them(served: Any) -> None:
    client, keys = served
    context = _tool(client, keys["hidden"], "get_customer_context", {"email": SHARED})
    assert context.status_code == 409
    _absent(context.text, SHARERS)
    candidates = context.json()["candidates"]
    assert len(candidates) == 2
    assert all(c["name"] is None for c in candidates)
    # No ids either: a tool's 409 hands a model nothing to open (session 28).
    assert all(c["profile_id"] is None and c["why"] for c in candidates)
    over_mcp = _mcp(client, keys["hidden"], "get_customer_context", {"email": SHARED})
    assert over_mcp.json()["result"]["isError"] is True
    assert "Candidates:" in _mcp_text(over_mcp)
    _absent(over_mcp.text, SHARERS)


def test_tool_409_candidates_are_named_for_an_unlimited_key(served: Any) -> None:
    client, keys = served
    context = _tool(client, keys["unlimited"], "get_customer_context", {"email": SHARED})
    assert context.status_code == 409
    assert [c["name"] for c in context.json()["candidates"]] == ["Ana Silva", "Bruno Costa"]
    over_mcp = _mcp(client, keys["unlimited"], "get_customer_context", {"email": SHARED})
    assert all(name in _mcp_text(over_mcp) for name in ("Ana Silva", "Bruno Costa"))


@pytest.mark.parametrize("audience", ["chatbot", "agent"])
def test_get_context_409_has_no_names_for_a_key_hiding_them(served: Any, audience: str) -> None:
    client, keys = served
    params = {"email": SHARED, "audience": audience}
    response = client.get("/v1/context", params=params, headers=_auth(keys["hidden"]))
    assert response.status_code == 409
    _absent(response.text, SHARERS)
    candidates = response.json()["candidates"]
    assert len(candidates) == 2
    assert all(c["name"] is None for c in candidates)
    shown = client.get("/v1/context", params=params, headers=_auth(keys["unlimited"]))
    assert [c["name"] for c in shown.json()["candidates"]] == ["Ana Silva", "Bruno Costa"]


def test_stored_get_context_409_names_them_for_an_unlimited_key(served: Any) -> None:
    client, keys = served
    shown = client.get("/v1/context", params={"email": SHARED}, headers=_auth(keys["unlimited"]))
    assert shown.status_code == 409
    assert [c["name"] for c in shown.json()["candidates"]] == ["Ana Silva", "Bruno Costa"]


@pytest.mark.parametrize("audience", ["chatbot", "agent"])
@pytest.mark.parametrize(
    ("body", "names"),
    [({"email": SHARED}, SHARERS), (MIXED, MIXED_NAMES)],
    ids=["shared-email", "search"],
)
def test_lookup_409_has_no_names_for_a_key_hiding_them(
    served: Any, audience: str, body: dict[str, str], names: tuple[str, ...]
) -> None:
    client, keys = served
    wanted = {**body, "audience": audience}
    response = client.post("/v1/context/lookup", json=wanted, headers=_auth(keys["hidden"]))
    assert response.status_code == 409
    _absent(response.text, names)
    candidates = response.json()["candidates"]
    assert len(candidates) == 2
    assert all(c["name"] is None for c in candidates)
    shown = client.post("/v1/context/lookup", json=wanted, headers=_auth(keys["unlimited"]))
    assert shown.status_code == 409
    assert all(c["name"] for c in shown.json()["candidates"])


# The plain ToolBox (``context-service mcp`` on stdio): the audience rules of the policy file


def _box_call(
    demo_db: Path, tmp_path: Path, policy_text: str, name: str, arguments: dict[str, Any]
) -> str:
    policy = tmp_path / "policy.toml"
    policy.write_text(policy_text)
    store = Store(demo_db)
    try:
        box = ToolBox(store.conn, "US", load_policy(str(policy)))
        try:
            return box.call(name, arguments)
        except AmbiguousIdentifier as exc:
            return json.dumps({"detail": exc.detail, **exc.extra})
    finally:
        store.close()


@pytest.mark.parametrize(
    ("name", "arguments"),
    [
        ("find_customer", {"email": SHARED}),
        ("find_customer", MIXED),
        ("get_customer_context", {"email": SHARED}),
        ("create_escalation", {"email": SHARED, "reason": "wants a human", "post_note": False}),
    ],
)
def test_the_chatbot_audience_hiding_names_hides_them_from_every_tool(
    demo_db: Path, tmp_path: Path, name: str, arguments: dict[str, Any]
) -> None:
    hiding = '[audiences.chatbot]\nhide = ["identity.names"]\n'
    answer = _box_call(demo_db, tmp_path, hiding, name, arguments)
    _absent(answer, (*SHARERS, *MIXED_NAMES))
    assert '"why"' in answer  # still the candidates (a model's answers carry no ids for them)
    shown = _box_call(demo_db, tmp_path, "", name, arguments)
    assert any(name in shown for name in (*SHARERS, *MIXED_NAMES))


def test_escalation_audience_hiding_names_hides_them_from_the_escalation_tool(
    demo_db: Path, tmp_path: Path
) -> None:
    hiding = '[audiences.escalation]\nhide = ["identity.names"]\n'
    arguments = {"email": SHARED, "reason": "wants a human", "post_note": False}
    answer = _box_call(demo_db, tmp_path, hiding, "create_escalation", arguments)
    _absent(answer, SHARERS)
    assert '"why"' in answer  # still the candidates, without names (nor ids, for a model)


@pytest.fixture
def hiding_everywhere(demo_db: Path, tmp_path: Path) -> Iterator[tuple[TestClient[Any], str]]:
    """The app and a trusted-backend key that hides names for the escalation and sidebar
    audiences too."""
    db = copy_demo(demo_db, tmp_path)
    key = make_key(
        db,
        "nonames-everywhere",
        ["context:read", "context:lookup", "escalations:write"],
        audiences=["chatbot", "escalation", "sidebar"],
        hide=["identity.names"],
        trusted_backend=True,
    )
    with TestClient(app=create_app(make_settings(db))) as client:
        yield client, key


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/escalations", {"customer": {"email": SHARED}, "reason": "wants a person"}),
        ("/v1/widget/url", {"email": SHARED}),
    ],
    ids=["escalation", "widget-url"],
)
def test_the_409s_of_escalations_and_widget_links_name_no_one_for_such_a_key(
    hiding_everywhere: tuple[TestClient[Any], str], path: str, body: dict[str, Any]
) -> None:
    client, key = hiding_everywhere
    hidden = client.post(path, json=body, headers=_auth(key))
    assert hidden.status_code == 409, hidden.text
    _absent(hidden.text, SHARERS)
    candidates = hidden.json()["candidates"]
    assert len(candidates) == 2
    assert all(c["name"] is None for c in candidates)
    shown = client.post(path, json=body, headers=_auth(TEST_KEY))
    assert shown.status_code == 409
    assert sorted(c["name"] for c in shown.json()["candidates"]) == ["Ana Silva", "Bruno Costa"]
