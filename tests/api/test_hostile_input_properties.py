"""Hostile input against every route of the OpenAPI document.

One property drives each documented operation (and ``/mcp``) with generated hostile input all
at once: a missing, invalid, malformed or wrong-scope key, or a key limited to the chatbot
audience; path ids that are no ids; repeated and unknown query parameters; JSON bodies holding
wrong types, huge numbers, ``NaN``/``Infinity`` literals, control characters, lone surrogates
and keys given twice; empty and non-JSON bodies; wrong content types. Whatever is sent:

- the status is below 500;
- a 4xx is ``application/problem+json`` with a non-empty ``detail`` (the widget's signed link
  answers a small HTML page instead, as documented in ``api/widget.py``);
- nothing sent back quotes a secret: the server's keys and webhook secrets, or the token sent;
- nothing but ``/health`` answers 2xx (or 3xx) without a valid key holding the route's scope;
- a key limited to the chatbot audience never reads another audience.

The explicit cases below the property are the defects it found, each naming its input.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from context_service.trust import AUTHENTICATED
from tests.api.fuzz_world import HOSTILE, PROBLEM
from tests.api.hostile_world import (  # noqa: F401  (hostile_fixture: the fixture)
    CHATBOT_ROUTES,
    HTML_ERRORS,
    OPEN,
    Hostile,
    hostile_fixture,
)
from tests.conftest import TEST_KEY
from tests.mcp.messages import ACCEPT_MCP
from tests.trust.helpers import MAYA

HOSTILE_SETTINGS = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# ---------------------------------------------------------------------------------------------
# What is sent

WEIRD_TEXT = [
    *HOSTILE,
    "\ud800",
    "a\udfffb",
    "\x1b[31m",
    "\u2028\u2029",
    "\ufeff",
    "\U0010ffff",
]
BODY_TEXT = [*WEIRD_TEXT, "x" * 100_000]  # too long for a URL: bodies only
WEIRD_NUMBERS = [
    2**63,
    -(2**63) - 1,
    10**40,
    -1,
    0,
    1e308,
    -0.0,
    math.nan,
    math.inf,
    -math.inf,
]
json_leaf = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from(WEIRD_NUMBERS)
    | st.floats()
    | st.sampled_from(BODY_TEXT)
    | st.text(max_size=20)
)


def json_values(field_names: list[str]) -> st.SearchStrategy[Any]:
    """Nested JSON of hostile leaves, objects keyed mostly by the route's own field names."""
    names = (
        st.sampled_from(field_names) | st.text(max_size=8) if field_names else st.text(max_size=8)
    )
    return st.recursive(
        json_leaf,
        lambda children: (
            st.lists(children, max_size=3) | st.dictionaries(names, children, max_size=4)
        ),
        max_leaves=10,
    )


def encode_json(value: Any) -> str:
    """JSON text as a lax client writes it: ``NaN``/``Infinity`` literals and lone
    surrogates escaped as ``\\udXXX`` are kept."""
    return json.dumps(value, allow_nan=True, ensure_ascii=True)


@st.composite
def json_object_with_duplicates(draw: st.DrawFn, names: list[str]) -> str:
    """A JSON object text (some field possibly given twice) written by hand."""
    pairs = draw(
        st.lists(st.tuples(st.sampled_from(names or ["x"]), json_leaf), min_size=1, max_size=5)
    )
    if draw(st.booleans()):
        pairs.append(pairs[0])
    return "{" + ", ".join(f"{json.dumps(k)}: {encode_json(v)}" for k, v in pairs) + "}"


RAW_BODIES = [
    b"",
    b" ",
    b"null",
    b"not json",
    b"{",
    b'{"a": 1,}',
    b"[]",
    b"0",
    b'"text"',
    b"\xff\xfe\x00",
    b'{"a": "\xff"}',
    b"[" * 3000,
    b'{"a": ' * 3000,
    b"1" * 5000,
    b'{"email": "' + MAYA.encode() + b'"}\x00',
    b"email=maya%40example.com",
    b"--b\r\nContent-Disposition: form-data; name=email\r\n\r\nx\r\n--b--\r\n",
]
CONTENT_TYPES = [
    None,
    "application/json",
    "application/json; charset=latin-1",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=b",
    "multipart/form-data",
    "application/problem+json",
    "garbage",
    "application/json; charset=\x7f",
]
GARBAGE_TOKENS = [
    "nope",
    "hostile-garbage-token-0123456789",
    "x" * 5000,
    "\x7f\x01",
    "ÿþ\xa0",
    TEST_KEY + "x",
    TEST_KEY[:-1],
    " " + TEST_KEY + "\x00",
]


@dataclass
class Call:
    """One request and who it came from."""

    method: str
    template: str
    url: str  # the query string included, percent-encoded by hand
    headers: list[tuple[str, bytes]]  # a name may come twice
    content: bytes | None
    authorized: bool  # a valid key that holds the route's scope
    keyless: bool  # the route takes no key (open, or a signed request)
    chatbot_only: bool
    token: str | None


@st.composite
def auths(draw: st.DrawFn, world: Hostile, scope: str | None) -> tuple[str | None, bool, bool]:
    """(token, authorized for ``scope``, chatbot-only): none, garbage, or a real key."""
    kind = draw(st.sampled_from(["none", "garbage", "bootstrap", "scoped", "chatbot"]))
    if kind == "none":
        return None, False, False
    if kind == "garbage":
        return draw(st.sampled_from(GARBAGE_TOKENS)), False, False
    if scope is None:  # open, or signed: no key makes a request authorized
        token = TEST_KEY if kind == "bootstrap" else world.chatbot_only
        return token, False, False
    if kind == "bootstrap":
        return TEST_KEY, True, False
    if kind == "chatbot":
        return world.chatbot_only, True, True
    held = draw(st.sampled_from(sorted(world.scoped)))
    return world.scoped[held], scope in (held, AUTHENTICATED), False


def _fields_of(operation: dict[str, Any], components: dict[str, Any]) -> list[str]:
    """The property names of an operation's JSON body schema (one ``$ref`` deep)."""
    content: dict[str, Any] = operation.get("requestBody", {}).get("content", {})
    media: dict[str, Any] = next(iter(content.values()), {})
    schema: dict[str, Any] = media.get("schema", {})
    ref = str(schema.get("$ref", ""))
    if ref:
        schema = components.get("schemas", {}).get(ref.rsplit("/", 1)[-1], {})
    return sorted(schema.get("properties", {}))


def encoded(text: str) -> str:
    """``text`` percent-encoded as UTF-8; a lone surrogate becomes the bytes no decoder takes."""
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


hostile_value = st.sampled_from(WEIRD_TEXT) | st.text(max_size=12)


@st.composite
def queries(draw: st.DrawFn, declared: list[str]) -> str:
    """A query string of declared, misspelt and repeated parameters with hostile values."""
    names = st.sampled_from([*declared, "audiance", "x", "email"])
    pairs: list[tuple[str, str]] = draw(st.lists(st.tuples(names, hostile_value), max_size=4))
    repeat: bool = draw(st.booleans())
    if pairs and repeat:
        pairs.append(pairs[0])
    return "&".join(f"{encoded(k)}={encoded(v)}" for k, v in pairs)


@st.composite
def methods(draw: st.DrawFn, documented: str) -> str:
    """Mostly the documented method; sometimes ``OPTIONS`` or one the route does not take."""
    return draw(st.sampled_from([documented] * 6 + ["OPTIONS", "PUT", "PATCH"]))


@st.composite
def calls(draw: st.DrawFn, world: Hostile) -> Call:
    """A hostile request to one documented operation."""
    documented, template, operation = draw(st.sampled_from(world.operations))
    method = draw(methods(documented))
    scope = world.scopes.get((method, template), world.scopes.get((documented, template)))
    token, authorized, chatbot = draw(auths(world, scope))
    path_value = draw(hostile_value)
    url = re.sub(r"\{\w+\}", lambda _: encoded(path_value), template)
    declared = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
    query = draw(queries(declared))
    headers: list[tuple[str, bytes]] = []
    if token is not None:
        scheme = draw(st.sampled_from(["Bearer", "bearer", "Basic", "Token", ""]))
        value = f"{scheme} {token}" if scheme else token
        headers.append(("Authorization", value.encode("latin-1")))
        if scheme.lower() != "bearer" or token != token.strip():
            authorized = chatbot = False
    if token is not None and draw(st.integers(0, 9)) == 0:  # a second key: which counts?
        other = draw(st.sampled_from([TEST_KEY, *GARBAGE_TOKENS[:2]]))
        headers.append(("Authorization", f"Bearer {other}".encode()))
        authorized = chatbot = False
    if template == "/mcp":
        headers += [(k, v.encode()) for k, v in ACCEPT_MCP.items()]
    content_type = draw(st.sampled_from(CONTENT_TYPES))
    if content_type is not None:
        headers.append(("Content-Type", content_type.encode("latin-1")))
    fields = _fields_of(operation, world.components)
    content = draw(
        st.none()
        | st.sampled_from(RAW_BODIES)
        | json_values(fields).map(lambda v: encode_json(v).encode())
        | json_object_with_duplicates(fields).map(str.encode)
    )
    full = f"{url}?{query}" if query else url
    keyless = scope is None
    return Call(method, template, full, headers, content, authorized, keyless, chatbot, token)


# ---------------------------------------------------------------------------------------------
# What every answer must look like


def assert_no_secret(world: Hostile, call: Call, text: str) -> None:
    """No server secret, no token the caller sent (however wrong), no stack trace."""
    for secret in world.secrets:
        assert secret not in text, call
    token = (call.token or "").strip()
    if len(token) >= 8 and token not in unquote(call.url):  # the path may be echoed, not a key
        assert token not in text, call
    assert "Traceback" not in text


def assert_well_answered(world: Hostile, call: Call, response: Any) -> None:
    """The rules of the module docstring, for one request."""
    status = response.status_code
    assert status < 500, (call, response.text[:400])
    assert_no_secret(world, call, response.text)
    if status < 400:
        assert call.template == OPEN or call.authorized or _methods_of_keyless(call, response)
        if call.chatbot_only and call.template in CHATBOT_ROUTES:
            assert _asked_for_chatbot(call), (call, status)
            assert response.headers.get("x-context-audience", "chatbot") == "chatbot", call
        assert not (call.chatbot_only and call.template == "/v1/widget/url"), call  # sidebar
        return
    if call.template == HTML_ERRORS and call.method == "GET":
        assert response.headers["content-type"].startswith("text/html"), call
        return
    if call.template == "/mcp" and call.authorized and status != 401:
        return  # a JSON-RPC error object, the MCP transport's own answer
    assert response.headers.get("content-type") == PROBLEM, (call, status, response.text[:300])
    body = response.json()
    assert body["status"] == status, call
    assert isinstance(body.get("detail"), str), call
    assert body["detail"].strip(), call


def _asked_for_chatbot(call: Call) -> bool:
    """Whether the request names the chatbot audience (a chatbot-only key may read no other)."""
    return "audience=chatbot" in call.url or b'"chatbot"' in (call.content or b"")


def _methods_of_keyless(call: Call, response: Any) -> bool:
    """``OPTIONS`` on a route that takes no key (a signed webhook or widget link) lists the
    route's methods, and nothing else."""
    return call.keyless and call.method == "OPTIONS" and not response.content


def send(world: Hostile, call: Call) -> Any:
    """The request, sent through the app."""
    headers = [(name.encode(), value) for name, value in call.headers]
    return world.client.request(call.method, call.url, headers=headers, content=call.content)


@HOSTILE_SETTINGS
@given(data=st.data())
def test_any_hostile_request_to_any_route_is_answered_without_a_crash_or_a_leak(
    hostile: Hostile, data: st.DataObject
) -> None:
    call = data.draw(calls(hostile))
    assert_well_answered(hostile, call, send(hostile, call))


# ---------------------------------------------------------------------------------------------
# A well-formed request from a key that may make it, with one hostile spot: the input reaches
# the handler instead of stopping at the key guard or the body decoder.

NOBODY = "prof_" + "0" * 26
IDS = {NOBODY, "999999", "nobody-here"}  # the path segments a hostile value replaces
# (method, url, a JSON body that works, its scope)
WELL_FORMED: list[tuple[str, str, Any]] = [
    ("GET", f"/v1/context?email={quote(MAYA)}", None),
    ("GET", f"/v1/context?email={quote(MAYA)}&audience=agent&format=markdown&max_tokens=400", None),
    ("POST", "/v1/context/lookup", {"email": MAYA, "audience": "agent", "format": "text"}),
    ("POST", "/v1/context/lookup", {"name": "Maya Patel", "order_number": "1001"}),
    ("POST", "/v1/context/lookup", {"email": MAYA, "audience": "chatbot", "max_tokens": 300}),
    ("POST", "/v1/escalations", {"customer": {"email": MAYA}, "reason": "wants a person"}),
    (
        "POST",
        "/v1/escalations",
        {
            "customer": {"email": MAYA},
            "reason": "r",
            "transcript": [{"role": "customer", "text": "hi", "at": "2026-01-01T00:00:00Z"}],
        },
    ),
    ("POST", "/v1/tools/call", {"name": "get_customer_context", "arguments": {"email": MAYA}}),
    ("POST", "/v1/tools/call", {"name": "find_customer", "arguments": {"email": MAYA}}),
    ("POST", "/v1/widget/url", {"email": MAYA, "ttl_seconds": 60}),
    ("POST", "/v1/profiles/merge", {"profile_ids": [NOBODY, NOBODY[:-1] + "1"], "note": "n"}),
    (
        "POST",
        f"/v1/profiles/{NOBODY}/split",
        {"records": [{"source": "shopify", "kind": "customer", "external_id": "1"}]},
    ),
    ("POST", "/v1/review/999999", {"decision": "reject", "note": "n"}),
    ("POST", "/v1/keys", {"name": "made-here", "scopes": ["context:read"]}),
    ("GET", "/v1/review?status=open&limit=5&offset=0", None),
    (
        "GET",
        f"/v1/audit/reads?profile_id={NOBODY}&limit=5",
        None,
    ),
    ("GET", f"/v1/profiles/{NOBODY}/audit", None),
    ("GET", f"/v1/profiles/{NOBODY}/export", None),
    ("DELETE", f"/v1/profiles/{NOBODY}?reason=asked", None),
    ("DELETE", "/v1/keys/nobody-here", None),
    ("GET", "/v1/tools/openai?api=responses", None),
    ("GET", "/v1/sync", None),
    ("GET", "/metrics", None),
]


def _spots(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON value (the value itself, each field, each item), as key paths."""
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _spots(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _spots(item, (*path, index))
    return found


def _replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = _replaced(value[path[0]], path[1:], new)
    return copy


@st.composite
def hostile_bodies(draw: st.DrawFn, body: Any) -> bytes:
    """``body`` with one field (or item, or the whole) replaced by hostile JSON."""
    spot = draw(st.sampled_from(_spots(body)))
    names = sorted(body) if isinstance(body, dict) else []
    return encode_json(_replaced(body, spot, draw(json_values(names)))).encode()


@st.composite
def hostile_urls(draw: st.DrawFn, url: str) -> str:
    """``url`` with one path segment or query value replaced by a hostile value."""
    path, _, query = url.partition("?")
    pairs = [pair.partition("=")[::2] for pair in query.split("&")] if query else []
    segments = path.split("/")
    spots = [("query", i) for i in range(len(pairs))] + [
        ("path", i) for i, segment in enumerate(segments) if segment in IDS
    ]
    if not spots:
        return url
    where, index = draw(st.sampled_from(spots))
    value = encoded(draw(hostile_value))
    if where == "path":
        segments[index] = value
    else:
        pairs[index] = (pairs[index][0], value)
    query = "&".join(f"{k}={v}" for k, v in pairs)
    return "/".join(segments) + (f"?{query}" if query else "")


@st.composite
def well_formed_calls(draw: st.DrawFn, world: Hostile) -> Call:
    """An admin-or-better caller's working request, with one hostile spot."""
    method, url, body = draw(st.sampled_from(WELL_FORMED))
    token, chatbot = draw(st.sampled_from([(TEST_KEY, False), (world.chatbot_only, True)]))
    headers = [("Authorization", f"Bearer {token}".encode()), ("Content-Type", b"application/json")]
    content: bytes | None
    if body is not None and draw(st.booleans()):
        content, full = draw(hostile_bodies(body)), url
    else:
        content = None if body is None else encode_json(body).encode()
        full = draw(hostile_urls(url))
    template = url.partition("?")[0]
    template = re.sub(r"prof_0+|999999|nobody-here", "{id}", template)
    return Call(method, template, full, headers, content, True, False, chatbot, token)


@HOSTILE_SETTINGS
@given(data=st.data())
def test_a_working_request_with_one_hostile_value_is_answered_without_a_crash_or_a_leak(
    hostile: Hostile, data: st.DataObject
) -> None:
    call = data.draw(well_formed_calls(hostile))
    assert_well_answered(hostile, call, send(hostile, call))
