"""Hostile input against every HTTP route: keys, query strings, JSON bodies, path ids.

Whatever a caller sends, the answer is a 2xx the route documents or a 4xx problem details body
(``application/problem+json`` with ``title``, ``status`` and ``detail``), never a 5xx, and no
answer holds a stack trace or a secret (an API key, a webhook or widget secret). The explicit
cases below are defects this suite found: each failed before its fix.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient

from context_service.api import create_app
from context_service.api.tools import mcp_route
from context_service.store import Store
from context_service.trust import AUTHENTICATED, SCOPES
from tests.api.test_scopes_matrix import protected_routes
from tests.conftest import TEST_KEY, make_settings
from tests.mcp.messages import ACCEPT_MCP, initialize
from tests.trust.helpers import MAYA, copy_demo, make_key

PROBLEM = "application/problem+json"
STRIPE_SECRET = "whsec_fuzz-stripe-secret-0001"
SHOPIFY_SECRET = "shpss_fuzz-shopify-secret-0002"
WIDGET_SECRET = "fuzz-widget-secret-0003"
TOMAS = "tomas.garcia@example.com"
INITIALIZE = initialize("fuzz")
FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@dataclass
class World:
    client: TestClient[Any]
    keys: dict[str, str]  # scope -> a key holding only that scope
    maya: str  # Maya Patel's profile id
    secrets: tuple[str, ...]

    def auth(self, key: str = TEST_KEY) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"}


@pytest.fixture(scope="module")
def world(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    db = copy_demo(demo_db, tmp_path_factory.mktemp("fuzz"))
    keys = {scope: make_key(db, f"fuzz-{scope.replace(':', '-')}", [scope]) for scope in SCOPES}
    store = Store(db)
    try:
        maya = store.conn.execute(
            "SELECT m.profile_id FROM identifiers i JOIN profile_members m"
            " ON m.record_id = i.record_id WHERE i.kind = 'email' AND i.value = ?",
            (MAYA,),
        ).fetchone()[0]
    finally:
        store.close()
    app_settings = make_settings(
        db,
        stripe_webhook_secret=STRIPE_SECRET,
        shopify_webhook_secret=SHOPIFY_SECRET,
        widget_secret=WIDGET_SECRET,
        rate_limit_per_minute=1_000_000,  # thousands of calls from one key, on purpose
    )
    secrets = (TEST_KEY, STRIPE_SECRET, SHOPIFY_SECRET, WIDGET_SECRET, *keys.values())
    with TestClient(app=create_app(app_settings)) as client:
        yield World(client, keys, maya, secrets)


# ---------------------------------------------------------------------------------------------
# What every answer must look like


def assert_clean(world: World, body: str) -> None:
    """No secret and no stack trace in what is sent back."""
    for secret in world.secrets:
        assert secret not in body
    assert "Traceback" not in body
    assert 'File "' not in body


def assert_problem(world: World, response: Any, *statuses: int) -> dict[str, Any]:
    """A 4xx problem-details answer (one of ``statuses`` when given)."""
    status = response.status_code
    assert 400 <= status < 500, (status, response.text[:300])
    if statuses:
        assert status in statuses, (status, response.text[:300])
    assert response.headers["content-type"] == PROBLEM, response.headers.get("content-type")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert isinstance(body["title"], str)
    assert body["title"]
    assert isinstance(body["detail"], str)
    assert body["detail"]
    assert_clean(world, response.text)
    return body


def assert_answered(world: World, response: Any) -> None:
    """A documented success, or a 4xx problem: never a 5xx."""
    assert response.status_code < 500, response.text[:300]
    if response.status_code >= 400:
        assert_problem(world, response)
    else:
        assert_clean(world, response.text)


def raw_request(
    client: TestClient[Any], method: str, path: str, query: bytes, headers: dict[str, str]
) -> tuple[int, dict[str, str], bytes]:
    """Call the app with a raw query string (bytes no HTTP client would send unencoded)."""
    messages: list[dict[str, Any]] = []

    async def run() -> None:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query,
            "root_path": "",
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
            "state": {},
        }

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            messages.append(message)

        await client.app(scope, receive, send)  # type: ignore[arg-type]

    with client.portal() as portal:
        portal.call(run)
    start = next(m for m in messages if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    head = {k.decode("latin-1"): v.decode("latin-1") for k, v in start["headers"]}
    return start["status"], head, body


# ---------------------------------------------------------------------------------------------
# Keys: every protected route, enumerated from the app so a new one must be added here

# (method, route path) -> (URL, JSON body or None, extra headers) of a well-formed call.
CALLS: dict[tuple[str, str], tuple[str, Any, dict[str, str]]] = {
    ("GET", "/metrics"): ("/metrics", None, {}),
    ("GET", "/v1/context"): (f"/v1/context?email={MAYA}", None, {}),
    ("POST", "/v1/context/lookup"): ("/v1/context/lookup", {"email": MAYA}, {}),
    ("POST", "/v1/escalations"): (
        "/v1/escalations",
        {"customer": {"email": MAYA}, "reason": "wants a person"},
        {},
    ),
    ("GET", "/v1/sync"): ("/v1/sync", None, {}),
    ("GET", "/v1/tools/openai"): ("/v1/tools/openai", None, {}),
    ("POST", "/v1/tools/call"): (
        "/v1/tools/call",
        {"name": "find_customer", "arguments": {"email": MAYA}},
        {},
    ),
    ("POST", "/v1/widget/url"): ("/v1/widget/url", {"email": MAYA}, {}),
    ("GET", "/v1/profiles/{profile_id:str}/audit"): ("/v1/profiles/prof_nobody/audit", None, {}),
    ("POST", "/v1/profiles/merge"): (
        "/v1/profiles/merge",
        {"profile_ids": ["prof_nobody_a", "prof_nobody_b"]},
        {},
    ),
    ("POST", "/v1/profiles/{profile_id:str}/split"): (
        "/v1/profiles/prof_nobody/split",
        {"records": [{"source": "shopify", "kind": "customer", "external_id": "1"}]},
        {},
    ),
    ("GET", "/v1/review"): ("/v1/review", None, {}),
    ("POST", "/v1/review/{item_id:int}"): ("/v1/review/999999", {"decision": "reject"}, {}),
    ("GET", "/v1/audit/reads"): ("/v1/audit/reads", None, {}),
    ("DELETE", "/v1/profiles/{profile_id:str}"): ("/v1/profiles/prof_nobody", None, {}),
    ("GET", "/v1/profiles/{profile_id:str}/export"): ("/v1/profiles/prof_nobody/export", None, {}),
    ("GET", "/v1/keys"): ("/v1/keys", None, {}),
    ("POST", "/v1/keys"): ("/v1/keys", {"name": "fuzz-never-made", "scopes": ["admin"]}, {}),
    ("DELETE", "/v1/keys/{name:str}"): ("/v1/keys/nobody", None, {}),
    ("POST", "/mcp"): ("/mcp", INITIALIZE, ACCEPT_MCP),
}


def _call(world: World, method: str, path: str, headers: dict[str, str]) -> Any:
    url, body, extra = CALLS[(method, path)]
    all_headers = {**extra, **headers}
    if body is None:
        return world.client.request(method, url, headers=all_headers)
    return world.client.request(method, url, json=body, headers=all_headers)


def test_every_protected_route_refuses_a_missing_invalid_or_wrong_scope_key(world: World) -> None:
    routes = [r for r in protected_routes(world.client.app) if not r[1].startswith("/schema")]
    assert {(m, p) for m, p, _ in routes} == set(CALLS), "add a well-formed call to CALLS"
    bad_headers: list[dict[str, str]] = [
        {},
        {"Authorization": "Bearer not-a-key"},
        {"Authorization": f"Basic {TEST_KEY}"},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer " + "k" * 10_000},
        {"Authorization": f"Bearer {TEST_KEY}x"},
    ]
    for method, path, scope in routes:
        for headers in bad_headers:
            body = assert_problem(world, _call(world, method, path, headers), 401)
            assert "API key" in body["detail"]
        assert scope in SCOPES
        for held in SCOPES:
            if held != scope:
                response = _call(world, method, path, world.auth(world.keys[held]))
                body = assert_problem(world, response, 403)
                assert scope in body["detail"], (method, path, body)


def test_the_schema_needs_a_key_and_an_unknown_schema_path_is_a_problem(world: World) -> None:
    assert_problem(world, world.client.get("/schema/openapi.json"), 401)
    for held in SCOPES:  # any valid key may read it
        assert world.client.get(
            "/schema/openapi.json", headers=world.auth(world.keys[held])
        ).is_success
    assert AUTHENTICATED not in SCOPES
    # Was litestar's HTML "Error 404" page.
    assert_problem(world, world.client.get("/schema/no-such-doc", headers=world.auth()), 404)


# ---------------------------------------------------------------------------------------------
# Query strings

QUERY_ROUTES: dict[str, tuple[str, ...]] = {
    "/v1/context": (
        "email",
        "phone",
        "profile_id",
        "source",
        "external_id",
        "format",
        "audience",
        "max_tokens",
        "summary",
        "user_hash",
        "user_token",
    ),
    "/v1/review": ("status", "limit", "offset"),
    "/v1/audit/reads": ("profile_id", "limit"),
    "/v1/tools/openai": ("api",),
    "/v1/sync": (),
    "/v1/keys": (),
    "/metrics": (),
}
HOSTILE = [
    "",
    " ",
    "\x00",
    "a\x00b@example.com",
    "x" * 5000,
    "-1",
    "0",
    "99999999999999999999",
    str(2**63),
    "1e400",
    "NaN",
    "null",
    "[]",
    "{}",
    "é\u202e\u200b",
    "😀" * 50,
    "%",
    "%zz",
    "%00",
    "\r\nX-Injected: 1",
    "'; DROP TABLE profiles; --",
    "prof_" + "Z" * 26,
    "../../etc/passwd",
    MAYA,
    "chatbot",
    "markdown",
    "llm",
    "60",
]
hostile_text = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=40))
UNKNOWN_NAMES = ["bogus", "Email", "email[]", "audiance", "_", "max-tokens"]


@FUZZ
@given(data=st.data())
def test_query_strings_get_an_answer_or_a_problem_never_a_crash(
    world: World, data: st.DataObject
) -> None:
    path = data.draw(st.sampled_from(sorted(QUERY_ROUTES)))
    declared = QUERY_ROUTES[path]
    names = st.sampled_from([*declared, *UNKNOWN_NAMES])
    pairs = data.draw(st.lists(st.tuples(names, hostile_text), max_size=5))
    response = world.client.get(path, params=pairs, headers=world.auth())
    assert_answered(world, response)
    given_names = [n for n, _ in pairs]
    if any(n not in declared for n in given_names):
        body = assert_problem(world, response, 400)
        assert "unknown query parameter" in body["detail"]
    elif len(set(given_names)) < len(given_names):
        body = assert_problem(world, response, 400)
        assert "more than once" in body["detail"]


@FUZZ
@given(query=st.binary(max_size=60), path=st.sampled_from(["/v1/context", "/v1/review"]))
def test_raw_query_bytes_get_an_answer_or_a_problem(world: World, query: bytes, path: str) -> None:
    status, headers, body = raw_request(world.client, "GET", path, query, world.auth())
    assert status < 500, body[:300]
    if status >= 400:
        assert headers["content-type"] == PROBLEM
        problem = json.loads(body)
        assert problem["status"] == status
        assert problem["detail"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/context"),
        ("GET", "/v1/review"),
        ("GET", "/nowhere"),
        ("POST", "/v1/webhooks/stripe"),
        ("DELETE", "/v1/profiles/prof_nobody"),
    ],
)
def test_a_query_string_that_is_not_utf8_is_a_problem_not_a_crash(
    world: World, method: str, path: str
) -> None:
    """Litestar builds the request URL by decoding the query as UTF-8: the error handler itself
    raised on ``?email=\\xff`` (500 or an empty answer) before the fix."""
    for query in (b"email=\xff", b"email=ok&audience=\xc3", b"\xff=1", b"reason=%ff\xfe"):
        status, headers, body = raw_request(world.client, method, path, query, world.auth())
        assert 400 <= status < 500, (query, status, body[:300])
        assert headers["content-type"] == PROBLEM
        assert json.loads(body)["status"] == status


def test_a_repeated_identifier_is_400_not_the_last_one_wins(world: World) -> None:
    """``?email=maya&email=tomas`` answered with Tomás's context: whoever checked the first
    value (a proxy, a log reader) saw another customer than the one served."""
    for query in (
        f"email={MAYA}&email={TOMAS}",
        f"email={MAYA}&format=text&format=json",
        f"email={MAYA}&audience=agent&audience=chatbot",
    ):
        response = world.client.get(f"/v1/context?{query}", headers=world.auth())
        body = assert_problem(world, response, 400)
        assert "more than once" in body["detail"]
        assert "García" not in response.text
        assert "Patel" not in response.text
    repeated = world.client.get("/v1/review?limit=5&limit=7", headers=world.auth())
    assert_problem(world, repeated, 400)


def test_an_unknown_query_parameter_is_400_naming_it(world: World) -> None:
    """A misspelt ``audiance=chatbot`` returned the full, unmasked snapshot with a 200."""
    response = world.client.get(
        "/v1/context", params={"email": MAYA, "audiance": "chatbot"}, headers=world.auth()
    )
    body = assert_problem(world, response, 400)
    assert "audiance" in body["detail"]
    assert "audience" in body["detail"]
    for path in ("/v1/review?stauts=accepted", "/v1/sync?x=1", "/v1/keys?name=a"):
        assert_problem(world, world.client.get(path, headers=world.auth()), 400)
    erase = world.client.delete(f"/v1/profiles/{world.maya}?resaon=x", headers=world.auth())
    assert_problem(world, erase, 400)  # and Maya is still there:
    assert world.client.get(f"/v1/context?email={MAYA}", headers=world.auth()).status_code == 200


def test_parameters_are_checked_only_after_the_key(world: World) -> None:
    """Without a valid key the answer is 401 whatever the query: nothing about parameters."""
    assert_problem(world, world.client.get("/v1/context?bogus=1&email=a&email=b"), 401)


@pytest.mark.parametrize(
    "query",
    [
        "offset=99999999999999999999",
        f"offset={2**63}",
        "offset=-1",
        "limit=0",
        "limit=501",
        "limit=1e3",
        "status=nope",
        "status=",
    ],
)
def test_review_paging_out_of_range_is_400(world: World, query: str) -> None:
    """An offset past SQLite's 64-bit integers was a 500 (OverflowError binding it)."""
    assert_problem(world, world.client.get(f"/v1/review?{query}", headers=world.auth()), 400)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"max_tokens": "abc"}, "max_tokens"),
        ({"max_tokens": "59"}, "max_tokens"),
        ({"max_tokens": "32001"}, "max_tokens"),
        ({"max_tokens": "1" * 40}, "max_tokens"),
        ({"audience": "admin"}, "audience"),
        ({"format": "xml"}, "format"),
        ({"summary": "gpt"}, "summary"),
        ({"user_hash": ""}, "user_hash"),
        ({"user_token": "t" * 5000}, "user_token"),
    ],
)
def test_a_bad_context_option_is_400_naming_the_field(
    world: World, params: dict[str, str], field: str
) -> None:
    response = world.client.get(
        "/v1/context", params={"email": MAYA, **params}, headers=world.auth()
    )
    body = assert_problem(world, response, 400)
    assert field in body["detail"]
    assert any(e["key"] == field for e in body["errors"])


def test_a_validation_problem_does_not_echo_the_query(world: World) -> None:
    """The detail was 'Validation failed for GET /v1/context?email=...&user_token=...':
    every value sent, a user's proof token included, came back in the problem."""
    token = "eyJhbGciOiJIUzI1NiJ9.proof-of-the-end-user.signature"
    response = world.client.get(
        "/v1/context",
        params={"email": MAYA, "audience": "chatbot", "user_token": token, "max_tokens": "5"},
        headers=world.auth(),
    )
    body = assert_problem(world, response, 400)
    assert token not in response.text
    assert MAYA not in response.text
    assert "max_tokens" in body["detail"]
    assert body["instance"] == "/v1/context"
    long = world.client.get("/v1/context", params={"email": "a" * 50_000}, headers=world.auth())
    assert_problem(world, long, 400)
    assert len(long.content) < 2_000


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
def test_any_json_body_gets_an_answer_or_a_problem(world: World, data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(sorted(BODY_ROUTES)))
    body = data.draw(json_values)
    assert_answered(world, world.client.post(path, json=body, headers=world.auth()))


@FUZZ
@given(data=st.data())
def test_any_field_value_gets_an_answer_or_a_problem(world: World, data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(sorted(BODY_ROUTES)))
    valid, fields = BODY_ROUTES[path]
    field = data.draw(st.sampled_from([*fields, "unexpected_field"]))
    value = data.draw(json_values)
    response = world.client.post(path, json={**valid, field: value}, headers=world.auth())
    assert_answered(world, response)
    if field == "unexpected_field":
        body = assert_problem(world, response, 400)
        assert "unexpected_field" in response.text, body


@FUZZ
@given(
    field=st.sampled_from([*TURN_FIELDS, "extra"]),
    value=json_values,
    turns=st.integers(min_value=0, max_value=3),
)
def test_any_transcript_turn_gets_an_answer_or_a_problem(
    world: World, field: str, value: Any, turns: int
) -> None:
    turn: dict[str, Any] = {"role": "customer", "text": "I was charged twice", field: value}
    body = {"customer": {"email": MAYA}, "reason": "r", "transcript": [turn] * (turns + 1)}
    response = world.client.post("/v1/escalations", json=body, headers=world.auth())
    assert_answered(world, response)


@FUZZ
@given(
    tool=st.sampled_from(["get_customer_context", "find_customer", "create_escalation", "nope"]),
    arguments=st.one_of(json_values, json_values.map(json.dumps), hostile_text),
)
def test_any_tool_call_gets_an_answer_or_a_problem(world: World, tool: str, arguments: Any) -> None:
    body = {"name": tool, "arguments": arguments}
    assert_answered(world, world.client.post("/v1/tools/call", json=body, headers=world.auth()))


def _nested(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


@pytest.mark.parametrize("path", sorted(BODY_ROUTES))
def test_a_deeply_nested_body_is_400_not_500(world: World, path: str) -> None:
    """msgspec's recursion limit raised RecursionError, which litestar let through as a 500,
    for a 6 KiB body on every JSON route."""
    for raw in (b"[" * 3000 + b"]" * 3000, _nested(3000), b"[" * 20_000):
        headers = {**world.auth(), "Content-Type": "application/json"}
        response = world.client.post(path, content=raw, headers=headers)
        body = assert_problem(world, response, 400)
        assert "nested" in body["detail"] or "malformed" in body["detail"]


@pytest.mark.parametrize("path", sorted(BODY_ROUTES))
def test_invalid_utf8_inside_a_json_string_is_400_not_500(world: World, path: str) -> None:
    """``{"email": "\\xff"}`` raised UnicodeDecodeError in litestar's decoder: a 500."""
    headers = {**world.auth(), "Content-Type": "application/json"}
    for raw in (b'{"email": "\xff"}', b'{"name": "\xc3\x28"}', b'["\xed\xa0\x80"]'):
        body = assert_problem(world, world.client.post(path, content=raw, headers=headers), 400)
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
    world: World, path: str, raw: bytes, content_type: str
) -> None:
    headers = {**world.auth(), "Content-Type": content_type}
    assert_problem(world, world.client.post(path, content=raw, headers=headers), 400, 413)


def test_a_body_over_the_limit_is_413(world: World) -> None:
    body = {"email": MAYA, "name": "x" * 100_000}
    response = world.client.post("/v1/context/lookup", json=body, headers=world.auth())
    assert_problem(world, response, 413)


def test_tool_arguments_nested_too_deeply_are_400(world: World) -> None:
    """The model's ``arguments`` string was decoded without a guard: RecursionError, 500."""
    for arguments in ("[" * 5000 + "]" * 5000, _nested(5000).decode(), "[" * 5000):
        body = {"name": "get_customer_context", "arguments": arguments}
        response = world.client.post("/v1/tools/call", json=body, headers=world.auth())
        assert_problem(world, response, 400)


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
    world: World, bad: str
) -> None:
    client, auth = world.client, world.auth()
    split = {"records": [{"source": "shopify", "kind": "customer", "external_id": "1"}]}
    for response in (
        client.get(f"/v1/profiles/{bad}/audit", headers=auth),
        client.get(f"/v1/profiles/{bad}/export", headers=auth),
        client.post(f"/v1/profiles/{bad}/split", json=split, headers=auth),
        client.delete(f"/v1/profiles/{bad}", headers=auth),
        client.delete(f"/v1/keys/{bad}", headers=auth),
        client.post("/v1/profiles/merge", json={"profile_ids": [world.maya, bad]}, headers=auth),
    ):
        assert_problem(world, response, 400, 404, 405)
        assert "X-Injected" not in response.headers


@pytest.mark.parametrize(
    ("item", "statuses"),
    [
        ("999999", (404,)),
        ("0", (400,)),
        ("-1", (400,)),
        (str(2**63), (400,)),  # was a 500: OverflowError binding it to SQLite
        ("99999999999999999999999", (400,)),
        ("abc", (404,)),
        ("1.5", (404,)),
    ],
)
def test_a_review_item_that_does_not_exist_or_is_malformed_is_a_4xx_problem(
    world: World, item: str, statuses: tuple[int, ...]
) -> None:
    response = world.client.post(
        f"/v1/review/{item}", json={"decision": "accept"}, headers=world.auth()
    )
    assert_problem(world, response, *statuses)


def test_an_erased_or_unknown_profile_never_answers_for_someone_else(world: World) -> None:
    """A malformed id resolves to nobody: never to a real customer's data."""
    for bad in ("prof_", "prof_%25", world.maya[:-1], world.maya + "0", world.maya.lower()):
        response = world.client.get(f"/v1/profiles/{bad}/export", headers=world.auth())
        assert_problem(world, response, 404)
        assert "Patel" not in response.text


# ---------------------------------------------------------------------------------------------
# MCP, webhooks, widget: the routes that are not plain JSON handlers


def test_mcp_get_and_delete_are_405_problems(world: World) -> None:
    for method in ("DELETE", "PUT", "PATCH"):
        response = world.client.request(method, "/mcp", headers={**world.auth(), **ACCEPT_MCP})
        assert_problem(world, response, 405)
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
    asyncio.run(handler.fn({"method": "GET", "headers": headers}, receive, send))
    assert reached == []
    assert sent[0]["status"] == 405
    json_post = [(b"content-type", b"application/json; charset=utf-8")]
    asyncio.run(handler.fn({"method": "POST", "headers": json_post}, receive, send))
    assert reached == ["POST"]


def test_mcp_with_another_content_type_is_415(world: World) -> None:
    """The SDK answered a bare text ``Invalid Content-Type header`` with no content type."""
    headers = {**world.auth(), **ACCEPT_MCP}
    for content_type in ("text/plain", "application/x-www-form-urlencoded", ""):
        response = world.client.post(
            "/mcp",
            content=json.dumps(INITIALIZE),
            headers={**headers, "Content-Type": content_type},
        )
        assert_problem(world, response, 415)
    ok = world.client.post("/mcp", json=INITIALIZE, headers=headers)
    assert ok.status_code == 200


@pytest.mark.parametrize("source", ["stripe", "shopify", "nope", "%00", "a" * 300])
def test_unsigned_webhooks_are_refused_without_echoing_a_secret(world: World, source: str) -> None:
    for raw, headers in (
        (b"{}", {}),
        (b"not json", {"Stripe-Signature": "t=1,v1=00", "X-Shopify-Hmac-Sha256": "AAAA"}),
        (b"[" * 5000, {"Stripe-Signature": "t=99999999999999999999,v1=zz"}),
        (b"{}", {"Stripe-Signature": "garbage", "X-Shopify-Hmac-Sha256": "!!"}),
    ):
        response = world.client.post(f"/v1/webhooks/{source}", content=raw, headers=headers)
        assert_problem(world, response, 401, 404)


@FUZZ
@given(
    pairs=st.lists(
        st.tuples(st.sampled_from(["email", "exp", "sig", "phone", "x"]), hostile_text), max_size=4
    )
)
def test_any_widget_link_is_a_page_never_a_crash(
    world: World, pairs: list[tuple[str, str]]
) -> None:
    """The widget answers an HTML page (400/403 for a bad link, as documented), never a 500."""
    response = world.client.get("/widget", params=pairs)
    assert response.status_code in (400, 403), response.text[:300]
    assert response.headers["content-type"].startswith("text/html")
    assert_clean(world, response.text)


def test_a_raw_utf8_query_value_is_read_as_utf8_not_latin1(world: World) -> None:
    """A client that sends ``é`` unencoded: litestar read the bytes as latin-1 (``Ã©``), so a
    raw ``müller`` was looked up as ``mÃ¼ller``; the bytes are now percent-encoded first."""
    query = f"email={MAYA}&format=t\u00e9xt".encode()
    status, _, body = raw_request(world.client, "GET", "/v1/context", query, world.auth())
    assert status == 400
    detail = json.loads(body)["detail"]
    assert "t\u00e9xt" in detail
    assert "\u00c3" not in detail
    status, _, _ = raw_request(
        world.client, "GET", "/v1/context", f"email={MAYA}&format=text".encode(), world.auth()
    )
    assert status == 200  # an ASCII query goes through untouched
