"""HTTP semantics every answer keeps (RFC 9110 and the README's promises):

- an error of a key-protected route is never stored by a cache either: a 409 lists other
  customers' names and profile ids, a 404 repeats the email asked for;
- a 401 names the scheme to authenticate with (``WWW-Authenticate``);
- ``HEAD`` is answered as ``GET`` is, without the body (an uptime check that probes
  ``/health`` with HEAD must see a healthy server);
- a POST without a body says that the body is missing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from context_service.api import create_app
from tests.conftest import TEST_KEY, make_settings
from tests.trust.helpers import MAYA, copy_demo

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
SHARED_MAILBOX = "info@silvacosta.example"  # Ana Silva's and Bruno Costa's


@pytest.fixture
def client(demo_db: Path, tmp_path: Path) -> Iterator[TestClient[Any]]:
    settings = make_settings(copy_demo(demo_db, tmp_path), rate_limit_per_minute=1_000_000)
    with TestClient(app=create_app(settings)) as test_client:
        yield test_client


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("GET", "/v1/context", {"params": {"email": SHARED_MAILBOX}}),  # the stored row's path
        ("GET", "/v1/context", {"params": {"email": SHARED_MAILBOX, "audience": "agent"}}),
        ("POST", "/v1/context/lookup", {"json": {"name": "Ana Silva"}}),
        ("GET", "/v1/context", {"params": {"email": "nobody.here@example.com"}}),
        (
            "POST",
            "/v1/tools/call",
            {"json": {"name": "get_customer_context", "arguments": {"email": SHARED_MAILBOX}}},
        ),
    ],
)
def test_error_answers_of_key_protected_routes_are_not_stored(
    client: TestClient[Any], method: str, path: str, kwargs: dict[str, Any]
) -> None:
    response = client.request(method, path, headers=AUTH, **kwargs)
    assert response.status_code in (404, 409), response.text[:300]
    assert "candidates" in response.text or "nobody.here" in response.text  # customer data
    assert response.headers.get("cache-control") == "no-store", dict(response.headers)


def test_a_401_names_the_scheme_to_use(client: TestClient[Any]) -> None:
    for headers, error in (({}, None), ({"Authorization": "Bearer wrong-key-0000000000"}, True)):
        response = client.get("/v1/context", params={"email": MAYA}, headers=headers)
        assert response.status_code == 401
        challenge = response.headers.get("www-authenticate", "")
        assert challenge.startswith("Bearer realm="), dict(response.headers)
        assert ('error="invalid_token"' in challenge) is bool(error)  # RFC 6750 3.1
        assert response.headers.get("cache-control") == "no-store"


@pytest.mark.parametrize(
    ("path", "headers"),
    [("/health", {}), (f"/v1/context?email={MAYA}", AUTH), ("/v1/sync", AUTH)],
)
def test_head_is_answered_like_get(
    client: TestClient[Any], path: str, headers: dict[str, str]
) -> None:
    get = client.get(path, headers=headers)
    head = client.head(path, headers=headers)
    assert get.status_code == head.status_code == 200, (head.status_code, dict(head.headers))
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    assert head.headers["content-length"] == get.headers["content-length"]


def test_head_keeps_the_routes_rules(client: TestClient[Any]) -> None:
    assert client.head(f"/v1/context?email={MAYA}").status_code == 401  # a key, as for GET
    post_only = client.head("/v1/context/lookup", headers=AUTH)
    assert post_only.status_code == 405
    assert "POST" in post_only.headers["allow"]
    assert post_only.content == b""


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/widget/url"),
        ("PUT", "/v1/escalations"),
        ("GET", "/v1/profiles/merge"),
        ("PATCH", "/v1/keys/sidebar"),
        ("DELETE", "/v1/context"),
        ("HEAD", "/v1/context/lookup"),
    ],
)
def test_a_wrong_method_on_a_protected_route_tells_nothing_without_a_key(
    client: TestClient[Any], method: str, path: str
) -> None:
    """Litestar routes before any guard runs, so a wrong method answered 405 with ``Allow`` to
    anyone, mapping the protected routes and what they take. Without a valid key it is the
    401 the route gives; with one, the 405 as before."""
    for headers in ({}, {"Authorization": "Bearer not-a-key-0123456789"}):
        refused = client.request(method, path, headers=headers)
        assert refused.status_code == 401, (method, path, refused.status_code)
        assert "allow" not in refused.headers
        assert refused.headers["www-authenticate"].startswith("Bearer")
    allowed = client.request(method, path, headers=AUTH)
    assert allowed.status_code == 405
    assert allowed.headers["allow"]


@pytest.mark.parametrize(
    ("method", "path"), [("POST", "/health"), ("DELETE", "/widget"), ("GET", "/v1/webhooks/stripe")]
)
def test_a_wrong_method_on_a_public_route_is_still_a_405(
    client: TestClient[Any], method: str, path: str
) -> None:
    response = client.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"]


@pytest.mark.parametrize(
    "path",
    ["/v1/context/lookup", "/v1/escalations", "/v1/tools/call", "/v1/profiles/merge", "/v1/keys"],
)
def test_a_missing_body_is_a_400_that_says_the_body_is_missing(
    client: TestClient[Any], path: str
) -> None:
    response = client.post(path, headers=AUTH)
    assert response.status_code == 400
    body = response.json()
    assert "missing" in body["detail"], body
    assert "JSON object" in body["detail"], body
    assert body["errors"][0]["source"] == "body"
