"""README, "HTTP API": on every route that needs a key, a query parameter the route does not
know is a 400 problem naming it; only ``/health``, ``/widget`` (a signed link) and the signed
webhooks take no key. Routes are enumerated from the app, so a new one is covered as it is
added. ``GET /schema/openapi.json?x=1`` and ``POST /mcp?x=1`` answered 200 before the fix:
litestar runs no ``before_request`` hook for the ``/mcp`` mount, and the OpenAPI router had
none.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.handlers import BaseRouteHandler
from litestar.routes import ASGIRoute, HTTPRoute
from litestar.testing import TestClient

from context_service.api.params import declared_query, numeric_query
from tests.api.test_scopes_matrix import OPEN, protected_routes
from tests.conftest import TEST_KEY
from tests.mcp.messages import ACCEPT_MCP, initialize

README = Path(__file__).resolve().parents[2] / "README.md"
PROBLEM = "application/problem+json"
UNKNOWN = "not_a_parameter"


def _url(path: str) -> str:
    """``path`` with each ``{name:type}`` placeholder filled with a value of its type."""
    return re.sub(r"\{(\w+):(\w+)\}", lambda m: "1" if m[2] == "int" else "x", path)


def _call(client: TestClient[Any], method: str, path: str, headers: dict[str, str]) -> Any:
    """``method path?not_a_parameter=1``; a POST carries a JSON body (the MCP ``initialize``
    request for ``/mcp``, which a mounted MCP server would otherwise answer with a 200)."""
    url = f"{_url(path)}?{UNKNOWN}=1"
    all_headers = {**ACCEPT_MCP, **headers}
    if method in {"POST", "PUT", "PATCH"}:
        body = initialize("strict-query") if path == "/mcp" else {}
        return client.request(method, url, json=body, headers=all_headers)
    return client.request(method, url, headers=all_headers)


def _open_paths(app: Litestar) -> set[str]:
    """Paths of the routes that are not behind the API-key guard."""
    found = set()
    for route in app.routes:
        handlers: list[BaseRouteHandler]
        if isinstance(route, ASGIRoute):
            handlers = [route.route_handler]
        else:
            assert isinstance(route, HTTPRoute)
            handlers = [h for h in route.route_handlers if set(h.http_methods) - {"OPTIONS"}]
        for handler in handlers:
            if "require_api_key" not in [g.__name__ for g in handler.resolve_guards()]:
                found.add(route.path)
    return found


def test_every_key_protected_route_refuses_an_unknown_query_parameter(
    client: TestClient[Any],
) -> None:
    routes = protected_routes(client.app)
    paths = {path for _, path, _ in routes}
    assert "/mcp" in paths  # the enumeration does see the mount and the OpenAPI routes
    assert "/schema/openapi.json" in paths
    auth = {"Authorization": f"Bearer {TEST_KEY}"}
    for method, path, _ in routes:
        response = _call(client, method, path, auth)
        assert response.status_code == 400, (method, path, response.status_code, response.text)
        assert response.headers["content-type"] == PROBLEM, (method, path)
        body = response.json()
        assert body["status"] == 400
        assert f"unknown query parameter '{UNKNOWN}'" in body["detail"], (method, path, body)
        assert body["errors"] == [{"key": UNKNOWN, "source": "query", "message": "unknown"}]


def test_without_a_key_the_answer_is_401_whatever_the_query(client: TestClient[Any]) -> None:
    """The parameter check runs after the key guard, on the mount and the schema too."""
    for method, path, _ in protected_routes(client.app):
        response = _call(client, method, path, {})
        assert response.status_code == 401, (method, path, response.status_code)
        assert response.headers["content-type"] == PROBLEM
        assert UNKNOWN not in response.text


def test_the_schema_and_mcp_still_answer_without_unknown_parameters(
    client: TestClient[Any],
) -> None:
    auth = {"Authorization": f"Bearer {TEST_KEY}"}
    assert client.get("/schema/openapi.json", headers=auth).status_code == 200
    mcp = client.post("/mcp", json=initialize("strict-query"), headers={**auth, **ACCEPT_MCP})
    assert mcp.status_code == 200, mcp.text
    assert mcp.json()["result"]["serverInfo"]
    assert client.get("/schema/no-such-doc", headers=auth).status_code == 404


def test_the_routes_without_a_key_are_the_ones_the_readme_exempts(
    client: TestClient[Any],
) -> None:
    assert _open_paths(client.app) == OPEN
    section = README.read_text().split("## HTTP API", 1)[1].split("\n### ", 1)[0]
    exempt = section.split("except", 1)[1].split(". ", 1)[0]
    for path in OPEN:  # README writes ``{source}`` for litestar's ``{source:str}``
        written = re.sub(r":\w+\}", "}", path)
        assert f"`{written}`" in exempt, path


def _numeric_parameters(app: Litestar) -> list[tuple[str, str, str]]:
    """(method, path, name) of every whole-number query parameter of a key-protected route."""
    found: list[tuple[str, str, str]] = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            path_params = set(route.path_parameters)
            declared = declared_query(handler, path_params)
            for name in sorted(numeric_query(handler, declared)):
                found += [
                    (str(m), route.path, name)
                    for m in sorted(set(handler.http_methods) - {"OPTIONS", "HEAD"})
                ]
    return found


@pytest.mark.parametrize("value", ["1e2", "100.0", "+100", "0100", " 100", "100_0", "1e400"])
def test_a_numeric_query_parameter_in_any_other_form_than_ascii_digits_is_a_400(
    client: TestClient[Any], value: str
) -> None:
    """msgspec reads ``1e2`` and ``100.0`` in a query string as the integer 100: the README
    promises a whole number in ASCII digits, as ``POST /v1/review/{item_id}`` takes."""
    numeric = _numeric_parameters(client.app)
    assert {name for _, _, name in numeric} >= {"limit", "offset", "after", "max_tokens"}
    auth = {"Authorization": f"Bearer {TEST_KEY}"}
    for method, path, name in numeric:
        query = {name: value}
        if path == "/v1/context":
            query["email"] = "maya.patel@example.com"
        response = client.request(method, _url(path), params=query, headers=auth)
        assert response.status_code == 400, (path, name, response.status_code, response.text)
        body = response.json()
        assert "not a whole number in ASCII digits" in body["detail"], (path, body)
        assert body["errors"][0]["key"] == name


def test_a_numeric_query_parameter_in_ascii_digits_is_read(client: TestClient[Any]) -> None:
    auth = {"Authorization": f"Bearer {TEST_KEY}"}
    response = client.get("/v1/review", params={"limit": "10"}, headers=auth)
    assert response.status_code == 200, response.text
    assert response.json()["limit"] == 10
