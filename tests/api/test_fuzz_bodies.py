"""Hostile input against every HTTP route: JSON bodies, path ids, MCP, webhooks, the widget.

The same rule as ``test_fuzz_inputs``: a documented 2xx or a 4xx problem, never a 5xx, no stack
trace or secret in any answer. The explicit cases are defects this suite found.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine
from typing import Any, cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from context_service.api.tools import mcp_route
from tests.api.fuzz_world import (
    FUZZ,
    INITIALIZE,
    QueryPairs,
    World,
    assert_answered,
    assert_clean,
    assert_problem,
    hostile_text,
)
from tests.mcp.messages import ACCEPT_MCP
from tests.trust.helpers import MAYA

# ---------------------------------------------------------------------------------------------
# JSON bodies

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from([2**63, -(2**63) - 1, 10**40])
    | st.floats(allow_nan=False, allow_infinity=False)
    | hostile_text,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)

# path -> (a well-formed body, its fields). Bodies that succeed name nobody who changes.
BODY_ROUTES: dict[str, tuple[dict[str, Any], tuple[str, ...]]] = {
    "/v1/context/lookup": (
        {"email": MAYA},
        (
            "email",
            "phone",
            "profile_id",
            "source",
            "external_id",
            "name",
            "order_number",
            "ticket_id",
            "invoice_number",
            "audience",
            "format",
            "max_tokens",
            "summary",
            "user_hash",
            "user_token",
        ),
    ),
    "/v1/escalations": (
        {"customer": {"email": MAYA}, "reason": "wants a person"},
        ("customer", "transcript", "reason", "summary", "post_note"),
    ),
    "/v1/tools/call": (
        {"name": "get_customer_context", "arguments": {"email": MAYA}},
        ("name", "arguments"),
    ),
    "/v1/widget/url": ({"email": MAYA}, ("email", "phone", "profile_id", "ttl_seconds")),
    "/v1/profiles/merge": (
        {"profile_ids": ["prof_nobody_a", "prof_nobody_b"]},
        ("profile_ids", "note"),
    ),
    "/v1/profiles/prof_nobody/split": (
        {"records": [{"source": "shopify", "kind": "customer", "external_id": "1"}]},
        ("records", "note"),
    ),
    "/v1/review/999999": ({"decision": "reject"}, ("decision", "note")),
    "/v1/keys": (
        {"name": "fuzz-made", "scopes": ["nonsense"]},
        ("name", "scopes", "audiences", "hide", "trusted_backend", "rate_per_minute"),
    ),
}
TURN_FIELDS = ("role", "text", "at")


@FUZZ
@given(data=st.data())
def test_any_json_body_gets_an_answer_or_a_problem(fuzz_world: World, data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(sorted(BODY_ROUTES)))
    body = data.draw(json_values)
    assert_answered(fuzz_world, fuzz_world.client.post(path, json=body, headers=fuzz_world.auth()))


@FUZZ
@given(data=st.data())
def test_any_field_value_gets_an_answer_or_a_problem(
    fuzz_world: World, data: st.DataObject
) -> None:
    path = data.draw(st.sampled_from(sorted(BODY_ROUTES)))
    valid, fields = BODY_ROUTES[path]
    field = data.draw(st.sampled_from([*fields, "unexpected_field"]))
    value = data.draw(json_values)
    response = fuzz_world.client.post(path, json={**valid, field: value}, headers=fuzz_world.auth())
    assert_answered(fuzz_world, response)
    if field == "unexpected_field":
        body = assert_problem(fuzz_world, response, 400)
        assert "unexpected_field" in response.text, body


@FUZZ
@given(
    field=st.sampled_from([*TURN_FIELDS, "extra"]),
    value=json_values,
    turns=st.integers(min_value=0, max_value=3),
)
def test_any_transcript_turn_gets_an_answer_or_a_problem(
    fuzz_world: World, field: str, value: Any, turns: int
) -> None:
    turn: dict[str, Any] = {"role": "customer", "text": "I was charged twice", field: value}
    body = {"customer": {"email": MAYA}, "reason": "r", "transcript": [turn] * (turns + 1)}
    response = fuzz_world.client.post("/v1/escalations", json=body, headers=fuzz_world.auth())
    assert_answered(fuzz_world, response)


@FUZZ
@given(
    tool=st.sampled_from(["get_customer_context", "find_customer", "create_escalation", "nope"]),
    arguments=st.one_of(json_values, json_values.map(json.dumps), hostile_text),
)
def test_any_tool_call_gets_an_answer_or_a_problem(
    fuzz_world: World, tool: str, arguments: Any
) -> None:
    body = {"name": tool, "arguments": arguments}
    assert_answered(
        fuzz_world, fuzz_world.client.post("/v1/tools/call", json=body, headers=fuzz_world.auth())
    )


def _nested(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


@pytest.mark.parametrize("path", sorted(BODY_ROUTES))
def test_a_deeply_nested_body_is_400_not_500(fuzz_world: World, path: str) -> None:
    """msgspec's recursion limit raised RecursionError, which litestar let through as a 500,
    for a 6 KiB body on every JSON route."""
    for raw in (b"[" * 3000 + b"]" * 3000, _nested(3000), b"[" * 20_000):
        headers = {**fuzz_world.auth(), "Content-Type": "application/json"}
        response = fuzz_world.client.post(path, content=raw, headers=headers)
        body = assert_problem(fuzz_world, response, 400)
        assert "nested" in body["detail"] or "malformed" in body["detail"]


@pytest.mark.parametrize("path", sorted(BODY_ROUTES))
def test_invalid_utf8_inside_a_json_string_is_400_not_500(fuzz_world: World, path: str) -> None:
    """``{"email": "\\xff"}`` raised UnicodeDecodeError in litestar's decoder: a 500."""
    headers = {**fuzz_world.auth(), "Content-Type": "application/json"}
    for raw in (b'{"email": "\xff"}', b'{"name": "\xc3\x28"}', b'["\xed\xa0\x80"]'):
        body = assert_problem(
            fuzz_world, fuzz_world.client.post(path, content=raw, headers=headers), 400
        )
        assert "UTF-8" in body["detail"] or "malformed" in body["detail"]


@pytest.mark.parametrize("path", sorted(BODY_ROUTES))
@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        (b"", "application/json"),
        (b"not json", "application/json"),
        (b"{", "application/json"),
        (b'{"email": ', "application/json"),
        (b"\x00\x01", "application/json"),
        (b"\xef\xbb\xbf{}", "application/json"),
        (b"email=a%40b.c", "application/x-www-form-urlencoded"),
        (b"<xml/>", "application/xml"),
        (b"null", "application/json"),
        (b"[]", "application/json"),
        (b"1e999", "application/json"),
        (json.dumps(list(range(10_000))).encode(), "application/json"),
    ],
)
def test_a_body_that_is_not_the_object_asked_for_is_a_4xx_problem(
    fuzz_world: World, path: str, raw: bytes, content_type: str
) -> None:
    headers = {**fuzz_world.auth(), "Content-Type": content_type}
    assert_problem(fuzz_world, fuzz_world.client.post(path, content=raw, headers=headers), 400, 413)


def test_a_body_over_the_limit_is_413(fuzz_world: World) -> None:
    body = {"email": MAYA, "name": "x" * 100_000}
    response = fuzz_world.client.post("/v1/context/lookup", json=body, headers=fuzz_world.auth())
    assert_problem(fuzz_world, response, 413)
    limit = fuzz_world.client.app.state.settings.max_body_bytes  # what the caller must stay under
    assert f"larger than {limit:,} bytes" in response.json()["detail"]


def test_tool_arguments_nested_too_deeply_are_400(fuzz_world: World) -> None:
    """The model's ``arguments`` string was decoded without a guard: RecursionError, 500."""
    for arguments in ("[" * 5000 + "]" * 5000, _nested(5000).decode(), "[" * 5000):
        body = {"name": "get_customer_context", "arguments": arguments}
        response = fuzz_world.client.post("/v1/tools/call", json=body, headers=fuzz_world.auth())
        assert_problem(fuzz_world, response, 400)


# ---------------------------------------------------------------------------------------------
# Path ids

BAD_IDS = [
    "x",
    "prof_nobody",
    "prof_" + "Z" * 26,
    "a" * 65,
    "a" * 5000,
    "%00",
    "%ff",
    "%C3%A9%E2%80%AE",
    "%2e%2e",
    "%20",
    "%0d%0aX-Injected:%201",
    "%22%3E%3Cscript%3E",
    "..%252f..%252f",
]


@pytest.mark.parametrize("bad", BAD_IDS)
def test_a_profile_or_key_that_does_not_exist_or_is_malformed_is_a_4xx_problem(
    fuzz_world: World, bad: str
) -> None:
    client, auth = fuzz_world.client, fuzz_world.auth()
    split = {"records": [{"source": "shopify", "kind": "customer", "external_id": "1"}]}
    for response in (
        client.get(f"/v1/profiles/{bad}/audit", headers=auth),
        client.get(f"/v1/profiles/{bad}/export", headers=auth),
        client.post(f"/v1/profiles/{bad}/split", json=split, headers=auth),
        client.delete(f"/v1/profiles/{bad}", headers=auth),
        client.delete(f"/v1/keys/{bad}", headers=auth),
        client.post(
            "/v1/profiles/merge", json={"profile_ids": [fuzz_world.maya, bad]}, headers=auth
        ),
    ):
        assert_problem(fuzz_world, response, 400, 404, 405)
        assert "X-Injected" not in response.headers


@pytest.mark.parametrize(
    ("item", "statuses"),
    [
        ("999999", (404,)),
        ("0", (400,)),
        ("-1", (400,)),
        (str(2**63), (400,)),  # was a 500: OverflowError binding it to SQLite
        ("99999999999999999999999", (400,)),
        ("abc", (400,)),  # no id: a 400 that says what an id is, not "no route"
        ("1.5", (400,)),
    ],
)
def test_a_review_item_that_does_not_exist_or_is_malformed_is_a_4xx_problem(
    fuzz_world: World, item: str, statuses: tuple[int, ...]
) -> None:
    response = fuzz_world.client.post(
        f"/v1/review/{item}", json={"decision": "accept"}, headers=fuzz_world.auth()
    )
    assert_problem(fuzz_world, response, *statuses)


def test_an_erased_or_unknown_profile_never_answers_for_someone_else(fuzz_world: World) -> None:
    """A malformed id resolves to nobody (400), nor does a well-formed unknown one (404):
    never to a real customer's data."""
    for bad, status in (
        ("prof_", 400),
        ("prof_%25", 400),
        (fuzz_world.maya[:-1], 400),
        (fuzz_world.maya + "0", 400),
        (fuzz_world.maya.lower(), 404),
    ):
        response = fuzz_world.client.get(f"/v1/profiles/{bad}/export", headers=fuzz_world.auth())
        assert_problem(fuzz_world, response, status)
        assert "Patel" not in response.text


# ---------------------------------------------------------------------------------------------
# MCP, webhooks, widget: the routes that are not plain JSON handlers


def test_mcp_get_and_delete_are_405_problems(fuzz_world: World) -> None:
    for method in ("DELETE", "PUT", "PATCH"):
        response = fuzz_world.client.request(
            method, "/mcp", headers={**fuzz_world.auth(), **ACCEPT_MCP}
        )
        assert_problem(fuzz_world, response, 405)
        assert response.headers["allow"] == "POST"


def test_mcp_get_never_opens_a_stream() -> None:
    """``GET /mcp`` reached the SDK, which answered 200 ``text/event-stream`` and held the
    connection open for good (a stateless server has nothing to stream)."""
    reached: list[str] = []

    async def sdk(scope: Any, receive: Any, send: Any) -> None:
        reached.append(scope["method"])

    handler = mcp_route(sdk)
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    headers = [(b"accept", b"text/event-stream")]
    # ``fn`` is declared to return an Awaitable; the handler is an ``async def``
    get = handler.fn({"method": "GET", "headers": headers}, receive, send)
    asyncio.run(cast(Coroutine[Any, Any, None], get))
    assert reached == []
    assert sent[0]["status"] == 405
    json_post = [(b"content-type", b"application/json; charset=utf-8")]
    post = handler.fn({"method": "POST", "headers": json_post}, receive, send)
    asyncio.run(cast(Coroutine[Any, Any, None], post))
    assert reached == ["POST"]


def test_mcp_with_another_content_type_is_415(fuzz_world: World) -> None:
    """The SDK answered a bare text ``Invalid Content-Type header`` with no content type."""
    headers = {**fuzz_world.auth(), **ACCEPT_MCP}
    for content_type in ("text/plain", "application/x-www-form-urlencoded", ""):
        response = fuzz_world.client.post(
            "/mcp",
            content=json.dumps(INITIALIZE),
            headers={**headers, "Content-Type": content_type},
        )
        assert_problem(fuzz_world, response, 415)
    ok = fuzz_world.client.post("/mcp", json=INITIALIZE, headers=headers)
    assert ok.status_code == 200


@pytest.mark.parametrize("source", ["stripe", "shopify", "nope", "%00", "a" * 300])
def test_unsigned_webhooks_are_refused_without_echoing_a_secret(
    fuzz_world: World, source: str
) -> None:
    for raw, headers in (
        (b"{}", {}),
        (b"not json", {"Stripe-Signature": "t=1,v1=00", "X-Shopify-Hmac-Sha256": "AAAA"}),
        (b"[" * 5000, {"Stripe-Signature": "t=99999999999999999999,v1=zz"}),
        (b"{}", {"Stripe-Signature": "garbage", "X-Shopify-Hmac-Sha256": "!!"}),
    ):
        response = fuzz_world.client.post(f"/v1/webhooks/{source}", content=raw, headers=headers)
        assert_problem(fuzz_world, response, 401, 404)


@FUZZ
@given(
    pairs=st.lists(
        st.tuples(st.sampled_from(["email", "exp", "sig", "phone", "x"]), hostile_text), max_size=4
    )
)
def test_any_widget_link_is_a_page_never_a_crash(
    fuzz_world: World, pairs: list[tuple[str, str]]
) -> None:
    """The widget answers an HTML page (400/403 for a bad link, as documented), never a 500."""
    response = fuzz_world.client.get("/widget", params=cast(QueryPairs, pairs))
    assert response.status_code in (400, 403), response.text[:300]
    assert response.headers["content-type"].startswith("text/html")
    assert_clean(fuzz_world, response.text)
