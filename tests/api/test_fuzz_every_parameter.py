"""Hostile input against the HTTP API: what the earlier fuzz suites
(``tests/api/test_fuzz_inputs.py``, ``tests/api/test_fuzz_bodies.py``) did not reach.

Every route in the OpenAPI document is driven with a missing, repeated, blank, huge, NUL or
confusable value of each parameter, and every JSON route with bodies of the wrong shape: the
answer is a 2xx or a 4xx problem-details body with a ``detail``, never a 5xx, and every route
but ``/health``, the signed webhooks and the signed widget link needs a key. The explicit cases
are defects found this way; each failed before its fix.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.fuzz_world import (
    HOSTILE,
    PROBLEM,
    TOMAS,
    World,
    assert_answered,
    assert_problem,
    make_world,
)
from tests.mcp.messages import ACCEPT_MCP
from tests.trust.helpers import MAYA

MAYA_SHOPIFY_ID = "6270000000017"
UNSIGNED = {"/health", "/widget", "/v1/webhooks/{source}"}  # no key: open, or a signed request
FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module")
def world(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The demo store served with one key per scope (``tests.api.fuzz_world``)."""
    yield from make_world(demo_db, tmp_path_factory)


@pytest.fixture(scope="module")
def operations(world: World) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, OpenAPI path, operation) of every documented operation."""
    document = world.client.get("/schema/openapi.json", headers=world.auth()).json()
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def _filled(path: str, value: str = "x") -> str:
    """An OpenAPI path with each ``{name}`` placeholder filled with ``value`` (quoted)."""
    return re.sub(r"\{\w+\}", quote(value, safe=""), path)


# ---------------------------------------------------------------------------------------------
# Keys and documented parameters, on every operation of the OpenAPI document


def test_every_documented_operation_but_the_open_ones_needs_a_key(
    world: World, operations: list[tuple[str, str, dict[str, Any]]]
) -> None:
    assert len(operations) > 20
    for method, path, _ in operations:
        if path in UNSIGNED:
            continue
        for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Token x"}):
            response = world.client.request(method, _filled(path, "1"), headers=headers)
            body = assert_problem(world, response, 401)
            assert "API key" in body["detail"], (method, path)


@FUZZ
@given(data=st.data())
def test_any_value_of_any_documented_parameter_gets_an_answer_or_a_problem(
    world: World, operations: list[tuple[str, str, dict[str, Any]]], data: st.DataObject
) -> None:
    keyed = [op for op in operations if op[1] not in UNSIGNED]
    method, path, operation = data.draw(st.sampled_from(keyed))
    value = data.draw(st.sampled_from(HOSTILE) | st.text(max_size=20))
    params = [p for p in operation.get("parameters", []) if p["in"] == "query"]
    query: list[tuple[str, str | int | float | bool | None]] = [
        (str(p["name"]), value) for p in params if data.draw(st.booleans())
    ]
    url = _filled(path, value or "x")
    response = world.client.request(method, url, params=query, headers=world.auth())
    assert_answered(world, response)


# ---------------------------------------------------------------------------------------------
# JSON bodies: a key given twice


@pytest.mark.parametrize(
    ("path", "raw"),
    [
        ("/v1/context/lookup", f'{{"email": "{MAYA}", "email": "{TOMAS}"}}'),
        ("/v1/context/lookup", f'{{"email": "{MAYA}", "format": "text", "format": "json"}}'),
        (
            "/v1/escalations",
            f'{{"customer": {{"email": "{MAYA}", "email": "{TOMAS}"}}, "reason": "r"}}',
        ),
        ("/v1/widget/url", f'{{"email": "{MAYA}", "email": "{TOMAS}"}}'),
        ("/v1/review/999999", '{"decision": "accept", "decision": "reject"}'),
        (
            "/v1/tools/call",
            f'{{"name": "find_customer", "arguments": {{"email": "{MAYA}", "email": "{TOMAS}"}}}}',
        ),
    ],
)
def test_a_json_key_given_twice_is_400_not_the_last_one_wins(
    world: World, path: str, raw: str
) -> None:
    """``{"email": maya, "email": tomas}`` answered with Tomás's context: whoever checked the
    first value (a proxy, a log reader, a validating gateway) saw another customer than the one
    served, the defect ``?email=a&email=b`` had in the query string."""
    headers = {**world.auth(), "Content-Type": "application/json"}
    response = world.client.post(path, content=raw.encode(), headers=headers)
    body = assert_problem(world, response, 400)
    assert "more than once" in body["detail"]
    assert "García" not in response.text
    assert "Patel" not in response.text


def test_a_key_given_twice_in_string_tool_arguments_is_400(world: World) -> None:
    """OpenAI-style ``arguments`` are a JSON string, decoded by the tools route itself: there
    ``{"email": maya, "email": tomas}`` still answers for Tomás."""
    arguments = f'{{"email": "{MAYA}", "email": "{TOMAS}"}}'
    response = world.client.post(
        "/v1/tools/call",
        json={"name": "find_customer", "arguments": arguments},
        headers=world.auth(),
    )
    body = assert_problem(world, response, 400)
    assert "more than once" in body["detail"]


def test_a_json_body_without_repeated_keys_still_answers(world: World) -> None:
    body = '{"email": "%s", "format": "text", "nested": null}' % MAYA  # noqa: UP031
    headers = {**world.auth(), "Content-Type": "application/json"}
    response = world.client.post("/v1/context/lookup", content=body.encode(), headers=headers)
    assert_problem(world, response, 400)  # an unknown field: the body was still read
    assert "nested" in response.json()["detail"]
    good = f'{{"email": "{MAYA}", "format": "text"}}'.encode()
    assert world.client.post("/v1/context/lookup", content=good, headers=headers).status_code == 200


# ---------------------------------------------------------------------------------------------
# Sources


@pytest.mark.parametrize("source", ["Shopify", "SHOPIFY", "shopfy", "stripe ", "crm"])
def test_an_unknown_source_is_400_listing_the_sources_not_a_404(world: World, source: str) -> None:
    """``source=Shopify&external_id=<Maya's id>`` was a 404 "no customer with Shopify id ...":
    the caller was told the customer does not exist when the source name was wrong."""
    for response in (
        world.client.get(
            "/v1/context",
            params={"source": source, "external_id": MAYA_SHOPIFY_ID},
            headers=world.auth(),
        ),
        world.client.get(
            "/v1/context",
            params={"source": source, "external_id": MAYA_SHOPIFY_ID, "format": "markdown"},
            headers=world.auth(),
        ),
        world.client.post(
            "/v1/context/lookup",
            json={"source": source, "external_id": MAYA_SHOPIFY_ID},
            headers=world.auth(),
        ),
    ):
        body = assert_problem(world, response, 400)
        assert "source" in body["detail"]
        assert "shopify" in body["detail"], body
        assert "Patel" not in response.text


def test_a_known_source_without_the_id_is_still_404(world: World) -> None:
    for source in ("shopify", "hubspot"):
        response = world.client.get(
            "/v1/context",
            params={"source": source, "external_id": "nobody-0"},
            headers=world.auth(),
        )
        assert_problem(world, response, 404)
    found = world.client.get(
        "/v1/context",
        params={"source": "shopify", "external_id": MAYA_SHOPIFY_ID},
        headers=world.auth(),
    )
    assert found.status_code == 200
    assert "Patel" in found.text


# ---------------------------------------------------------------------------------------------
# Details a user understands


@pytest.mark.parametrize(
    ("method", "url", "json_body", "allowed"),
    [
        ("GET", f"/v1/context?email={MAYA}&format=TEXT", None, ("json", "text", "markdown")),
        ("GET", f"/v1/context?email={MAYA}&audience=bot", None, ("chatbot", "agent")),
        ("GET", f"/v1/context?email={MAYA}&summary=", None, ("none", "deterministic", "llm")),
        ("GET", "/v1/review?status=done", None, ("open",)),
        ("POST", "/v1/review/999999", {"decision": "ACCEPT"}, ("accept", "reject")),
        ("POST", "/v1/context/lookup", {"email": MAYA, "format": "xml"}, ("json", "markdown")),
        (
            "POST",
            "/v1/escalations",
            {"customer": {"email": MAYA}, "reason": "r", "transcript": [{"role": "x"}]},
            ("customer", "agent"),
        ),
    ],
)
def test_an_invalid_choice_names_the_choices(
    world: World, method: str, url: str, json_body: Any, allowed: tuple[str, ...]
) -> None:
    """``format (query): Invalid enum value 'TEXT'`` did not say what the values are."""
    response = world.client.request(method, url, json=json_body, headers=world.auth())
    body = assert_problem(world, response, 400)
    for value in allowed:
        assert repr(value) in body["detail"] or value in body["detail"], body["detail"]


@pytest.mark.parametrize(
    ("method", "path", "named"),
    [
        ("GET", "/v1/profiles//audit", ("GET", "DELETE")),
        ("PUT", "/v1/context", ("PUT", "GET")),
        ("GET", "/v1/keys/someone", ("GET", "DELETE")),
    ],
)
def test_a_method_not_allowed_says_which_methods_are(
    world: World, method: str, path: str, named: tuple[str, ...]
) -> None:
    """The detail was litestar's bare ``Method Not Allowed`` (for an empty profile id too)."""
    response = world.client.request(method, path, headers=world.auth())
    body = assert_problem(world, response, 405)
    for word in named:
        assert word in body["detail"], body["detail"]
    assert response.headers["content-type"] == PROBLEM


def test_an_unknown_route_says_where_the_routes_are(world: World) -> None:
    """The detail was litestar's bare ``Not Found``."""
    for path in ("/v1/nowhere", "/v1/context/lookup/x", "/v2/context"):
        body = assert_problem(world, world.client.get(path, headers=world.auth()), 404)
        assert "/schema/openapi.json" in body["detail"]
        assert path in body["detail"]
    # A handler's own 404 keeps its detail.
    body = assert_problem(
        world, world.client.get(f"/v1/context?email=nobody-{MAYA}", headers=world.auth()), 404
    )
    assert "/schema" not in body["detail"]


@pytest.mark.parametrize(
    ("url", "field"),
    [
        (f"/v1/context?email={MAYA}&max_tokens=abc", "max_tokens"),
        (f"/v1/context?email={MAYA}&max_tokens=", "max_tokens"),
        (f"/v1/context?email={MAYA}&max_tokens=%2B600", "max_tokens"),
        ("/v1/review?limit=ten", "limit"),
        ("/v1/review?offset=1.5", "offset"),
        ("/v1/audit/reads?limit=", "limit"),
    ],
)
def test_a_query_number_that_is_not_one_says_so_in_plain_words(
    world: World, url: str, field: str
) -> None:
    """Every query value is text, so ``Expected `int | null`, got `str``` (msgspec's words for
    the decoded type) told the caller nothing they could act on."""
    body = assert_problem(world, world.client.get(url, headers=world.auth()), 400)
    assert field in body["detail"]
    assert "whole number" in body["detail"], body["detail"]
    assert "`str`" not in body["detail"]
    assert all("`str`" not in error["message"] for error in body["errors"])


def test_an_unknown_source_in_a_tool_call_is_400(world: World) -> None:
    """The tools look a vendor id up on their own (``snapshot.lookup.by_source_id``)."""
    arguments = {"source": "Shopify", "external_id": MAYA_SHOPIFY_ID}
    response = world.client.post(
        "/v1/tools/call",
        json={"name": "get_customer_context", "arguments": arguments},
        headers=world.auth(),
    )
    body = assert_problem(world, response, 400)
    assert "shopify" in body["detail"]


# ---------------------------------------------------------------------------------------------
# /mcp


def test_invalid_utf8_in_an_mcp_message_is_a_parse_error_not_a_500(world: World) -> None:
    """``{"a": "\\xff"}`` to ``/mcp``: msgspec raises UnicodeDecodeError, not DecodeError."""
    headers = {**world.auth(), **ACCEPT_MCP, "Content-Type": "application/json"}
    response = world.client.post("/mcp", content=b'{"a": "\xff"}', headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == -32700


@pytest.mark.parametrize(
    ("url", "words"),
    [
        (f"/v1/context?email={MAYA}&max_tokens=10", "at least 60"),
        ("/v1/review?limit=0", "at least 1"),
    ],
)
def test_a_query_number_out_of_range_says_the_bound_in_plain_words(
    world: World, url: str, words: str
) -> None:
    """``Expected `int` >= 60`` is msgspec's notation; the caller gets the bound in words."""
    body = assert_problem(world, world.client.get(url, headers=world.auth()), 400)
    assert words in body["detail"], body["detail"]
    assert "Expected `" not in body["detail"]
