"""The served app, keys and checks of the hostile-input tests (``test_fuzz_inputs``,
``test_fuzz_bodies``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from litestar.testing import TestClient

from context_service.api import create_app
from context_service.store import Store
from context_service.trust import SCOPES
from tests.conftest import TEST_KEY, make_settings
from tests.mcp.messages import initialize
from tests.trust.helpers import MAYA, copy_demo, make_key

PROBLEM = "application/problem+json"
STRIPE_SECRET = "whsec_fuzz-stripe-secret-0001"
SHOPIFY_SECRET = "shpss_fuzz-shopify-secret-0002"
WIDGET_SECRET = "fuzz-widget-secret-0003"
TOMAS = "tomas.garcia@example.com"
INITIALIZE = initialize("fuzz")
# Query name/value pairs as httpx's ``params=`` is annotated to take them (a list is invariant:
# a ``list[tuple[str, str]]`` is passed through ``cast`` to this).
QueryPairs = list[tuple[str, str | int | float | bool | None]]
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


def make_world(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """A copy of the demo store with one key per scope, served by the app (a test module's
    ``world`` fixture)."""
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
    client: TestClient[Any],
    method: str,
    path: str,
    query: bytes,
    headers: Mapping[str, str] | Sequence[tuple[str, str]],
) -> tuple[int, dict[str, str], bytes]:
    """Call the app with a raw query string (bytes no HTTP client would send unencoded) and
    these header lines as they are, a name given twice included (an HTTP server hands each
    line over; ``httpx`` would join two into one)."""
    lines = headers.items() if isinstance(headers, Mapping) else headers
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
            "headers": [(k.lower().encode(), v.encode()) for k, v in lines],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
            "state": {},
        }

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            messages.append(message)

        await client.app(scope, receive, send)

    with client.portal() as portal:
        portal.call(run)
    start = next(m for m in messages if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    head = {k.decode("latin-1"): v.decode("latin-1") for k, v in start["headers"]}
    return start["status"], head, body


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
