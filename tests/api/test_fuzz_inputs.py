"""Hostile input against every HTTP route: keys and query strings.

Whatever a caller sends, the answer is a 2xx the route documents or a 4xx problem details body
(``application/problem+json`` with ``title``, ``status`` and ``detail``), never a 5xx, and no
answer holds a stack trace or a secret (an API key, a webhook or widget secret). The explicit
cases below are defects this suite found: each failed before its fix. JSON bodies, path ids and
the routes that are not plain JSON handlers are in ``test_fuzz_bodies``.
"""

from __future__ import annotations

import json
from typing import Any, cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from context_service.trust import AUTHENTICATED, SCOPES
from tests.api.fuzz_world import (
    FUZZ,
    INITIALIZE,
    PROBLEM,
    TOMAS,
    QueryPairs,
    World,
    assert_answered,
    assert_problem,
    hostile_text,
    raw_request,
)
from tests.api.test_scopes_matrix import protected_routes
from tests.conftest import TEST_KEY
from tests.mcp.messages import ACCEPT_MCP
from tests.trust.helpers import MAYA

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
    ("POST", "/v1/review/{item_id:str}"): ("/v1/review/999999", {"decision": "reject"}, {}),
    ("GET", "/v1/audit/reads"): ("/v1/audit/reads", None, {}),
    ("DELETE", "/v1/profiles/{profile_id:str}"): ("/v1/profiles/prof_nobody", None, {}),
    ("GET", "/v1/profiles/{profile_id:str}/export"): ("/v1/profiles/prof_nobody/export", None, {}),
    ("GET", "/v1/keys"): ("/v1/keys", None, {}),
    ("POST", "/v1/keys"): ("/v1/keys", {"name": "fuzz-never-made", "scopes": ["admin"]}, {}),
    ("DELETE", "/v1/keys/{name:str}"): ("/v1/keys/nobody", None, {}),
    ("POST", "/mcp"): ("/mcp", INITIALIZE, ACCEPT_MCP),
}


def _call(fuzz_world: World, method: str, path: str, headers: dict[str, str]) -> Any:
    url, body, extra = CALLS[(method, path)]
    all_headers = {**extra, **headers}
    if body is None:
        return fuzz_world.client.request(method, url, headers=all_headers)
    return fuzz_world.client.request(method, url, json=body, headers=all_headers)


def test_every_protected_route_refuses_a_missing_invalid_or_wrong_scope_key(
    fuzz_world: World,
) -> None:
    routes = [r for r in protected_routes(fuzz_world.client.app) if not r[1].startswith("/schema")]
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
            body = assert_problem(fuzz_world, _call(fuzz_world, method, path, headers), 401)
            assert "API key" in body["detail"]
        assert scope in SCOPES
        for held in SCOPES:
            if held != scope:
                response = _call(fuzz_world, method, path, fuzz_world.auth(fuzz_world.keys[held]))
                body = assert_problem(fuzz_world, response, 403)
                assert scope in body["detail"], (method, path, body)


def test_the_schema_needs_a_key_and_an_unknown_schema_path_is_a_problem(fuzz_world: World) -> None:
    assert_problem(fuzz_world, fuzz_world.client.get("/schema/openapi.json"), 401)
    for held in SCOPES:  # any valid key may read it
        assert fuzz_world.client.get(
            "/schema/openapi.json", headers=fuzz_world.auth(fuzz_world.keys[held])
        ).is_success
    assert AUTHENTICATED not in SCOPES
    # Was litestar's HTML "Error 404" page.
    assert_problem(
        fuzz_world, fuzz_world.client.get("/schema/no-such-doc", headers=fuzz_world.auth()), 404
    )


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
UNKNOWN_NAMES = ["bogus", "Email", "email[]", "audiance", "_", "max-tokens"]


@FUZZ
@given(data=st.data())
def test_query_strings_get_an_answer_or_a_problem_never_a_crash(
    fuzz_world: World, data: st.DataObject
) -> None:
    path = data.draw(st.sampled_from(sorted(QUERY_ROUTES)))
    declared = QUERY_ROUTES[path]
    names = st.sampled_from([*declared, *UNKNOWN_NAMES])
    pairs = data.draw(st.lists(st.tuples(names, hostile_text), max_size=5))
    response = fuzz_world.client.get(
        path, params=cast(QueryPairs, pairs), headers=fuzz_world.auth()
    )
    assert_answered(fuzz_world, response)
    given_names = [n for n, _ in pairs]
    if any(n not in declared for n in given_names):
        body = assert_problem(fuzz_world, response, 400)
        assert "unknown query parameter" in body["detail"]
    elif len(set(given_names)) < len(given_names):
        body = assert_problem(fuzz_world, response, 400)
        assert "more than once" in body["detail"]


@FUZZ
@given(query=st.binary(max_size=60), path=st.sampled_from(["/v1/context", "/v1/review"]))
def test_raw_query_bytes_get_an_answer_or_a_problem(
    fuzz_world: World, query: bytes, path: str
) -> None:
    status, headers, body = raw_request(fuzz_world.client, "GET", path, query, fuzz_world.auth())
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
    fuzz_world: World, method: str, path: str
) -> None:
    """Litestar builds the request URL by decoding the query as UTF-8: the error handler itself
    raised on ``?email=\\xff`` (500 or an empty answer) before the fix."""
    for query in (b"email=\xff", b"email=ok&audience=\xc3", b"\xff=1", b"reason=%ff\xfe"):
        status, headers, body = raw_request(
            fuzz_world.client, method, path, query, fuzz_world.auth()
        )
        assert 400 <= status < 500, (query, status, body[:300])
        assert headers["content-type"] == PROBLEM
        assert json.loads(body)["status"] == status


def test_a_repeated_identifier_is_400_not_the_last_one_wins(fuzz_world: World) -> None:
    """``?email=maya&email=tomas`` answered with Tomás's context: whoever checked the first
    value (a proxy, a log reader) saw another customer than the one served."""
    for query in (
        f"email={MAYA}&email={TOMAS}",
        f"email={MAYA}&format=text&format=json",
        f"email={MAYA}&audience=agent&audience=chatbot",
    ):
        response = fuzz_world.client.get(f"/v1/context?{query}", headers=fuzz_world.auth())
        body = assert_problem(fuzz_world, response, 400)
        assert "more than once" in body["detail"]
        assert "García" not in response.text
        assert "Patel" not in response.text
    repeated = fuzz_world.client.get("/v1/review?limit=5&limit=7", headers=fuzz_world.auth())
    assert_problem(fuzz_world, repeated, 400)


def test_an_unknown_query_parameter_is_400_naming_it(fuzz_world: World) -> None:
    """A misspelt ``audiance=chatbot`` returned the full, unmasked snapshot with a 200."""
    response = fuzz_world.client.get(
        "/v1/context", params={"email": MAYA, "audiance": "chatbot"}, headers=fuzz_world.auth()
    )
    body = assert_problem(fuzz_world, response, 400)
    assert "audiance" in body["detail"]
    assert "audience" in body["detail"]
    for path in ("/v1/review?stauts=accepted", "/v1/sync?x=1", "/v1/keys?name=a"):
        assert_problem(fuzz_world, fuzz_world.client.get(path, headers=fuzz_world.auth()), 400)
    erase = fuzz_world.client.delete(
        f"/v1/profiles/{fuzz_world.maya}?resaon=x", headers=fuzz_world.auth()
    )
    assert_problem(fuzz_world, erase, 400)  # and Maya is still there:
    assert (
        fuzz_world.client.get(f"/v1/context?email={MAYA}", headers=fuzz_world.auth()).status_code
        == 200
    )


def test_parameters_are_checked_only_after_the_key(fuzz_world: World) -> None:
    """Without a valid key the answer is 401 whatever the query: nothing about parameters."""
    assert_problem(fuzz_world, fuzz_world.client.get("/v1/context?bogus=1&email=a&email=b"), 401)


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
def test_review_paging_out_of_range_is_400(fuzz_world: World, query: str) -> None:
    """An offset past SQLite's 64-bit integers was a 500 (OverflowError binding it)."""
    assert_problem(
        fuzz_world, fuzz_world.client.get(f"/v1/review?{query}", headers=fuzz_world.auth()), 400
    )


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
    fuzz_world: World, params: dict[str, str], field: str
) -> None:
    response = fuzz_world.client.get(
        "/v1/context", params={"email": MAYA, **params}, headers=fuzz_world.auth()
    )
    body = assert_problem(fuzz_world, response, 400)
    assert field in body["detail"]
    assert any(e["key"] == field for e in body["errors"])


def test_a_validation_problem_does_not_echo_the_query(fuzz_world: World) -> None:
    """The detail was 'Validation failed for GET /v1/context?email=...&user_token=...':
    every value sent, a user's proof token included, came back in the problem."""
    token = "eyJhbGciOiJIUzI1NiJ9.proof-of-the-end-user.signature"
    response = fuzz_world.client.get(
        "/v1/context",
        params={"email": MAYA, "audience": "chatbot", "user_token": token, "max_tokens": "5"},
        headers=fuzz_world.auth(),
    )
    body = assert_problem(fuzz_world, response, 400)
    assert token not in response.text
    assert MAYA not in response.text
    assert "max_tokens" in body["detail"]
    assert body["instance"] == "/v1/context"
    long = fuzz_world.client.get(
        "/v1/context", params={"email": "a" * 50_000}, headers=fuzz_world.auth()
    )
    assert_problem(fuzz_world, long, 400)
    assert len(long.content) < 2_000


def test_a_raw_utf8_query_value_is_read_as_utf8_not_latin1(fuzz_world: World) -> None:
    """A client that sends ``é`` unencoded: litestar read the bytes as latin-1 (``Ã©``), so a
    raw ``müller`` was looked up as ``mÃ¼ller``; the bytes are now percent-encoded first."""
    query = f"email={MAYA}&format=t\u00e9xt".encode()
    status, _, body = raw_request(fuzz_world.client, "GET", "/v1/context", query, fuzz_world.auth())
    assert status == 400
    detail = json.loads(body)["detail"]
    assert "t\u00e9xt" in detail
    assert "\u00c3" not in detail
    status, _, _ = raw_request(
        fuzz_world.client,
        "GET",
        "/v1/context",
        f"email={MAYA}&format=text".encode(),
        fuzz_world.auth(),
    )
    assert status == 200  # an ASCII query goes through untouched
