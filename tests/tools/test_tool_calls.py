"""POST /v1/tools/call and the ToolBox behind it: results and every failure a model may cause."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from context_service.api import create_app
from context_service.store import Store
from context_service.tools import InvalidToolArguments, ToolBox, UnknownTool
from tests.conftest import TEST_KEY, make_settings

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
MAYA = "maya.patel@example.com"


@pytest.fixture
def api(demo_db: Path) -> Iterator[TestClient[Any]]:
    with TestClient(app=create_app(make_settings(demo_db))) as client:
        client.headers.update(AUTH)
        yield client


def _call(api: TestClient[Any], name: str, arguments: Any) -> Any:
    return api.post("/v1/tools/call", json={"name": name, "arguments": arguments})


def test_context_as_prompt_ready_text(api: TestClient[Any]) -> None:
    response = _call(api, "get_customer_context", {"email": "MAYA.PATEL@example.com"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "Maya Patel" in response.text
    assert 'customer-written "I was charged twice this month"' in response.text


def test_context_as_json_and_arguments_as_the_model_s_string(api: TestClient[Any]) -> None:
    arguments = json.dumps({"phone": "(415) 555-0134", "format": "json"})
    response = _call(api, "get_customer_context", arguments)
    assert response.status_code == 200
    assert json.loads(response.text)["identity"]["name"] == "Maya Patel"


def test_find_customer_lists_every_candidate_of_a_shared_mailbox(api: TestClient[Any]) -> None:
    response = _call(api, "find_customer", {"email": "info@silvacosta.example"})
    assert response.status_code == 200
    names = sorted(m["name"] for m in json.loads(response.text))
    assert names == ["Ana Silva", "Bruno Costa"]


def test_find_customer_by_a_vendor_id_and_by_nobody(api: TestClient[Any]) -> None:
    found = json.loads(_call(api, "find_customer", {"email": MAYA}).text)
    assert [m["name"] for m in found] == ["Maya Patel"]
    by_id = json.loads(_call(api, "find_customer", {"profile_id": found[0]["profile_id"]}).text)
    assert by_id[0]["profile_id"] == found[0]["profile_id"]
    assert json.loads(_call(api, "find_customer", {"email": "nobody@example.com"}).text) == []


def test_an_ambiguous_context_request_is_a_409_with_candidates(api: TestClient[Any]) -> None:
    response = _call(api, "get_customer_context", {"email": "info@silvacosta.example"})
    assert response.status_code == 409
    assert "ask for another detail" in response.json()["detail"]
    assert len(response.json()["candidates"]) == 2


def test_nobody_is_a_404(api: TestClient[Any]) -> None:
    response = _call(api, "get_customer_context", {"email": "nobody@example.com"})
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "arguments",
    [
        {},
        {"email": MAYA, "phone": "+14155550134"},
        {"source": "zendesk"},
        {"email": "not-an-email"},
    ],
)
def test_identifier_mistakes_are_400s(api: TestClient[Any], arguments: Any) -> None:
    response = _call(api, "get_customer_context", arguments)
    assert response.status_code == 400, response.text


@pytest.mark.parametrize("arguments", ["{not json", "[1, 2]", '"text"'])
def test_arguments_that_are_not_a_json_object_are_400s(
    api: TestClient[Any], arguments: str
) -> None:
    response = _call(api, "get_customer_context", arguments)
    assert response.status_code == 400
    assert response.json()["title"] == "Invalid tool arguments"


def test_an_unknown_tool_is_a_404(api: TestClient[Any]) -> None:
    response = _call(api, "delete_customer", {})
    assert response.status_code == 404
    assert response.json()["title"] == "Unknown tool"


def test_a_malformed_call_body_is_a_400(api: TestClient[Any]) -> None:
    assert api.post("/v1/tools/call", json={"arguments": {}}).status_code == 400
    assert api.post("/v1/tools/call", content=b"{oops").status_code == 400


def test_tool_calls_need_an_api_key(demo_db: Path) -> None:
    with TestClient(app=create_app(make_settings(demo_db))) as client:
        body = {"name": "get_customer_context", "arguments": {"email": MAYA}}
        assert client.post("/v1/tools/call", json=body).status_code == 401


def test_toolbox_rejects_unknown_names_and_fields(demo_db: Path) -> None:
    store = Store(demo_db)
    try:
        box = ToolBox(store.conn, "US")
        with pytest.raises(UnknownTool):
            box.call("nope", {})
        with pytest.raises(InvalidToolArguments, match="unknown field"):
            box.call("find_customer", {"email": MAYA, "name": "Maya"})
        with pytest.raises(InvalidToolArguments, match="length"):
            box.call("find_customer", {"email": "a" * 400})
    finally:
        store.close()


def test_create_escalation_says_plainly_that_it_is_not_available(api: TestClient[Any]) -> None:
    response = _call(api, "create_escalation", {"email": MAYA, "reason": "wants a person"})
    assert response.status_code == 501
    assert "not available" in response.json()["detail"]
    unknown = _call(api, "create_escalation", {"email": "nobody@example.com", "reason": "x"})
    assert unknown.status_code == 404
