"""The defects the hostile-input properties (``test_hostile_input_properties.py``) found, each as a
plain regression test naming its input: JSON bodies the decoder refuses (a lone surrogate,
``NaN``, a number out of range) are a 400 saying what is wrong, and a request carrying two keys
is a 400 on every path."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from litestar.testing import TestClient

from tests.api.fuzz_world import PROBLEM
from tests.api.fuzz_world import raw_request as fuzz_raw_request
from tests.api.hostile_world import Hostile, hostile_fixture  # noqa: F401  (the fixture)
from tests.conftest import TEST_KEY
from tests.trust.helpers import MAYA

# ---------------------------------------------------------------------------------------------
# Defects found: a JSON body the decoder refuses is a 400 whose detail says what is wrong


def _post_raw(world: Hostile, path: str, raw: bytes) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {TEST_KEY}", "Content-Type": "application/json"}
    response = world.client.post(path, content=raw, headers=headers)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["detail"].strip()
    return body


@pytest.mark.parametrize(
    ("path", "raw"),
    [
        ("/v1/context/lookup", b'{"email": "\\ud800"}'),
        ("/v1/escalations", b'{"customer": {"email": "a@b.co"}, "reason": "\\udbff"}'),
        ("/v1/keys", b'{"name": "k", "scopes": ["admin\\ud800"]}'),
        ("/v1/widget/url", b'{"profile_id": "x\\ud800"}'),
        ("/v1/review/1", b'{"decision": "reject", "note": "\\ud800"}'),
    ],
)
def test_a_lone_surrogate_escape_is_named_not_called_a_truncated_body(
    hostile: Hostile, path: str, raw: bytes
) -> None:
    """``{"email": "\\ud800"}`` (half a UTF-16 pair, what a careless encoder of a cut emoji
    writes) was answered ``Input data was truncated``: the caller looked for a proxy that cut
    the body, when the body was whole."""
    body = _post_raw(hostile, path, raw)
    assert "truncated" not in body["detail"], body["detail"]
    assert "surrogate" in body["detail"], body["detail"]
    assert "\\ud8" in body["detail"] or "\\udb" in body["detail"], body["detail"]


def test_a_body_that_really_is_cut_short_still_says_so(hostile: Hostile) -> None:
    body = _post_raw(hostile, "/v1/context/lookup", b'{"email": "maya')
    assert "ends" in body["detail"] or "truncated" in body["detail"], body["detail"]


@pytest.mark.parametrize(
    ("path", "raw", "shown"),
    [
        ("/v1/keys", b'{"name": "k", "scopes": ["admin"], "rate_per_minute": 1e400}', "1e400"),
        ("/v1/context/lookup", b'{"email": "a@b.co", "max_tokens": -1E999}', "-1E999"),
        (
            "/v1/context/lookup",
            b'{"email": "a@b.co", "max_tokens": 1' + b"0" * 5000 + b"}",
            "5001 digits",
        ),
    ],
)
def test_a_number_out_of_range_is_named_not_placed_at_a_path_of_dots(
    hostile: Hostile, path: str, raw: bytes, shown: str
) -> None:
    """``1e400`` was ``Number out of range - at `$[...]```: msgspec's placeholder path, which
    names no field."""
    body = _post_raw(hostile, path, raw)
    assert "$[...]" not in body["detail"], body["detail"]
    assert shown in body["detail"], body["detail"]
    assert "out of range" in body["detail"], body["detail"]


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity"])
def test_nan_or_infinity_in_a_body_is_named(hostile: Hostile, literal: bytes) -> None:
    """``"max_tokens": NaN`` was ``JSON is malformed: invalid character (byte 37)``."""
    raw = b'{"email": "a@b.co", "max_tokens": ' + literal + b"}"
    body = _post_raw(hostile, "/v1/context/lookup", raw)
    assert literal.decode().lstrip("-") in body["detail"], body["detail"]
    assert "not JSON" in body["detail"] or "not a JSON" in body["detail"], body["detail"]


# ---------------------------------------------------------------------------------------------
# Defect found: a request carrying two keys


def raw_request(
    client: TestClient[Any], method: str, url: str, headers: list[tuple[str, str]]
) -> tuple[int, dict[str, str], bytes]:
    """``fuzz_world.raw_request`` for a URL, with the host line a server would pass."""
    path, _, query = url.partition("?")
    return fuzz_raw_request(
        client, method, path, query.encode(), [("host", "testserver"), *headers]
    )


TWO_KEYS_URLS = [
    "/metrics",
    f"/v1/context?email={quote(MAYA)}&audience=agent",
    "/v1/keys",
    "/v1/sync",
    "/schema/openapi.json",
]


@pytest.mark.parametrize("url", TWO_KEYS_URLS)
def test_two_authorization_headers_are_400_not_the_first_one_wins(
    hostile: Hostile, url: str
) -> None:
    """``Authorization: Bearer <admin key>`` then ``Authorization: Bearer <another>`` was served
    as the first key: a gateway or log that reads the last saw another caller (the defect a
    repeated query parameter or JSON key had)."""
    for first, second in ((TEST_KEY, "hostile-garbage-0"), (TEST_KEY, hostile.chatbot_only)):
        headers = [("Authorization", f"Bearer {first}"), ("Authorization", f"Bearer {second}")]
        status, head, body = raw_request(hostile.client, "GET", url, headers)
        assert status == 400, (url, status, body[:200])
        assert head["content-type"] == PROBLEM
        detail = json.loads(body)["detail"]
        assert "Authorization" in detail, detail
        assert first.encode() not in body
        assert second.encode() not in body


def test_two_keys_joined_in_one_header_say_so(hostile: Hostile) -> None:
    """``httpx`` and some proxies join two headers into ``Bearer a, Bearer b``: that was
    ``invalid or revoked API key``, which sent the caller to check a key that is fine."""
    headers = {"Authorization": f"Bearer {TEST_KEY}, Bearer other-key"}
    response = hostile.client.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    detail = response.json()["detail"]
    assert "one" in detail, detail
    assert "API key" in detail, detail
    assert TEST_KEY not in response.text


def test_one_authorization_header_still_works(hostile: Hostile) -> None:
    for url in TWO_KEYS_URLS:
        status, _, body = raw_request(
            hostile.client, "GET", url, [("Authorization", f"Bearer {TEST_KEY}")]
        )
        assert status == 200, (url, body[:200])


def test_two_authorization_headers_are_400_on_the_stored_context_fast_path(
    hostile: Hostile,
) -> None:
    headers = [("Authorization", f"Bearer {TEST_KEY}"), ("Authorization", "Bearer other")]
    status, _, _ = raw_request(hostile.client, "GET", f"/v1/context?email={quote(MAYA)}", headers)
    assert status == 400
