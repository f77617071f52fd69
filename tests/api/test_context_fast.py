"""The fast path of ``GET /v1/context`` (``api.context_fast``) answers exactly as the full path.

``summary=none`` means the stored row too, but the fast path leaves any parameter besides the
identifiers and ``format`` to the full path, so the same request with and without it compares the
two paths side by side: status, body and headers.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from litestar import Litestar, Router
from litestar.connection import ASGIConnection
from litestar.di import Provide
from litestar.exceptions import PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.testing import TestClient

from context_service.api import context as context_module
from context_service.api import create_app
from context_service.api.auth import require_api_key
from context_service.api.context import get_context
from context_service.api.context_fast import LIMITS, query_pairs, stored_form
from context_service.api.problems import EXCEPTION_HANDLERS
from context_service.errors import ContextServiceError
from context_service.snapshot import lookup
from context_service.store import Store, identifiers
from context_service.trust import Trust
from context_service.trust.audit import reads_of
from tests.conftest import TEST_KEY, make_settings
from tests.trust.helpers import MAYA, MAYA_PHONE, FakeClock, copy_demo, make_key

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}


@pytest.fixture
def world(demo_db: Path, tmp_path: Path) -> Iterator[tuple[TestClient[Any], Store, Path]]:
    db = copy_demo(demo_db, tmp_path)
    settings = make_settings(db, rate_limit_per_minute=1000)
    store = Store(db)
    clock = FakeClock()
    trust = Trust(settings, store, clock=clock, monotonic=clock)
    with TestClient(app=create_app(settings, store=store, trust=trust)) as client:
        yield client, store, db
    store.close()


def _both(client: TestClient[Any], params: dict[str, str], headers: dict[str, str]) -> Any:
    """The fast answer and the full path's answer to the same request."""
    fast = client.get("/v1/context", params=params, headers=headers)
    full = client.get("/v1/context", params={**params, "summary": "none"}, headers=headers)
    assert fast.status_code == full.status_code, (params, fast.text, full.text)
    assert fast.content == full.content, params
    assert dict(fast.headers) == dict(full.headers), params
    return fast


def _maya(client: TestClient[Any]) -> dict[str, str]:
    snap = client.get("/v1/context", params={"email": MAYA}, headers=AUTH).json()
    ticket = next(m for m in snap["members"] if m["kind"] == "ticket")
    return {"profile_id": snap["profile_id"], "ticket": ticket["external_id"]}


def test_the_fast_path_answers_as_the_full_path_does(world: Any) -> None:
    client, _, _ = world
    maya = _maya(client)
    ok = [
        {"email": MAYA},
        {"email": MAYA.upper()},
        {"email": MAYA, "format": "text"},
        {"email": MAYA, "format": "json"},
        {"phone": MAYA_PHONE},
        {"phone": "(415) 555-0134"},
        {"profile_id": maya["profile_id"]},
        {"source": "zendesk", "external_id": maya["ticket"]},
    ]
    for params in ok:
        response = _both(client, params, AUTH)
        assert response.status_code == 200, (params, response.text)
        assert response.headers["x-profile-id"] == maya["profile_id"]
        assert response.headers["etag"].startswith(f'"{maya["profile_id"]}.')
        assert response.headers["x-matched-by"] in {"email", "phone", "profile_id", "zendesk id"}
    bad = [
        ({"email": "nobody.here@example.com"}, 404),
        ({"email": "not-an-email"}, 400),
        ({"phone": "call me maybe"}, 400),
        ({"profile_id": "maya"}, 400),
        ({"profile_id": "prof_00000000000000000000000000"}, 404),
        ({}, 400),
        ({"email": MAYA, "phone": MAYA_PHONE}, 400),
        ({"source": "shopify"}, 400),
        ({"email": "info@silvacosta.example"}, 409),
    ]
    for params, status in bad:
        response = _both(client, params, AUTH)
        assert response.status_code == status, (params, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")


def test_keys_scopes_and_field_policy_hold_on_the_fast_path(world: Any) -> None:
    client, _, db = world
    lookup_only = make_key(db, "lookup-only", ["context:lookup"])
    chatbot_only = make_key(db, "chatbot-only", ["context:read"], audiences=["chatbot"])
    no_full = make_key(db, "agents", ["context:read"], audiences=["agent", "chatbot"])
    full = make_key(db, "full-reader", ["context:read"], audiences=["full"])
    # (headers, status for Maya, status for nobody): the key, its scope and the field policy
    # are all checked before the lookup (as on the full path), so a key limited to other
    # audiences gets the same 403 for a customer and for nobody: it cannot probe who exists.
    cases = [
        ({}, 401, 401),
        ({"Authorization": "Bearer wrong-key"}, 401, 401),
        ({"Authorization": f"Basic {TEST_KEY}"}, 401, 401),
        ({"Authorization": "Bearer "}, 401, 401),
        ({"Authorization": f"Bearer {lookup_only}"}, 403, 403),
        ({"Authorization": f"Bearer {chatbot_only}"}, 403, 403),
        ({"Authorization": f"Bearer {no_full}"}, 403, 403),
        ({"Authorization": f"Bearer {full}"}, 200, 404),
    ]
    for headers, for_maya, for_nobody in cases:
        for email, status in ((MAYA, for_maya), ("nobody.here@example.com", for_nobody)):
            response = _both(client, {"email": email}, headers)
            assert response.status_code == status, (headers, email, response.text)
            if status != 200:
                assert "Maya" not in response.text


def test_the_rate_limit_applies_to_fast_reads(demo_db: Path, tmp_path: Path) -> None:
    db = copy_demo(demo_db, tmp_path)
    key = make_key(db, "slow", ["context:read"], rate_per_minute=2)
    store = Store(db)
    clock = FakeClock()
    settings = make_settings(db)
    trust = Trust(settings, store, clock=clock, monotonic=clock)
    with TestClient(app=create_app(settings, store=store, trust=trust)) as client:
        auth = {"Authorization": f"Bearer {key}"}
        codes = [client.get("/v1/context", params={"email": MAYA}, headers=auth) for _ in range(3)]
        assert [c.status_code for c in codes] == [200, 200, 429]
        assert codes[2].headers["Retry-After"] == "30"
        assert codes[2].headers["content-type"].startswith("application/problem+json")
    store.close()


def test_fast_reads_are_audited(world: Any) -> None:
    client, store, _ = world
    maya = _maya(client)
    before = {r.id for r in reads_of(store.conn, limit=1000)}  # the demo copy may hold some
    assert client.get("/v1/context", params={"email": MAYA}, headers=AUTH).status_code == 200
    nobody = client.get("/v1/context", params={"email": "nobody@example.com"}, headers=AUTH)
    assert nobody.status_code == 404
    reads = client.get("/v1/audit/reads", headers=AUTH).json()["reads"]
    new = [r for r in reads if r["id"] not in before]
    assert len(new) == 1  # a 404 reads nobody
    read = new[0]
    assert (read["profile_id"], read["audience"], read["verified"], read["channel"]) == (
        maya["profile_id"],
        "full",
        True,
        "context",
    )
    assert read["key_name"] == "bootstrap-1"


def test_only_the_stored_form_takes_the_fast_path(
    world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, _, _ = world
    handled: list[str] = []
    full_path = context_module.respond

    def spy(*args: Any, **kwargs: Any) -> Any:
        handled.append("full")
        return full_path(*args, **kwargs)

    monkeypatch.setattr(context_module, "respond", spy)
    for params in ({"email": MAYA}, {"email": MAYA, "format": "text"}, {"phone": MAYA_PHONE}):
        assert client.get("/v1/context", params=params, headers=AUTH).status_code == 200
    assert handled == []
    slow = [
        {"email": MAYA, "summary": "none"},
        {"email": MAYA, "format": "markdown"},
        {"email": MAYA, "audience": "agent"},
        {"email": MAYA, "max_tokens": "500"},
    ]
    for params in slow:
        assert client.get("/v1/context", params=params, headers=AUTH).status_code == 200
    assert handled == ["full"] * len(slow)
    # Raw '@' and '+' in the query (no percent-encoding) read the same as encoded ones.
    raw = client.get(f"/v1/context?email={MAYA}&format=text", headers=AUTH)
    assert raw.status_code == 200
    assert raw.headers["content-type"].startswith("text/plain")
    spaced = client.get("/v1/context?phone=%2B1+415+555+0134", headers=AUTH)
    assert spaced.status_code == 200
    assert handled == ["full"] * len(slow)


@pytest.mark.parametrize(
    "query",
    [
        b"",
        b"email=a@b.com",
        b"email=a%40b.com&format=text",
        b"phone=+1+415+555+0134",
        b"phone=%2B14155550134",
        b"email=&format=json",
        b"email",
        b"=x&&email=a@b.com&",
        b"a=1=2",
        b"email=caf\xc3\xa9@example.com",
        b"email=caf%C3%A9@example.com",
        b"email=%ZZ",
        b"external_id=a;b&source=shopify",
    ],
)
def test_query_pairs_read_as_litestar_reads_them(query: bytes) -> None:
    expected = parse_qsl(query.decode("latin-1"), keep_blank_values=True, separator="&")
    assert query_pairs(query) == expected


@pytest.mark.parametrize(
    ("query", "wanted"),
    [
        (b"email=a@b.com", ({"email": "a@b.com"}, "json")),
        (b"format=text&phone=%2B1", ({"phone": "+1"}, "text")),
        (
            b"source=shopify&external_id=1001",
            ({"source": "shopify", "external_id": "1001"}, "json"),
        ),
        (b"", ({}, "json")),
        (b"email=a@b.com&audience=agent", None),
        (b"email=a@b.com&format=markdown", None),
        (b"email=a@b.com&format=xml", None),
        (b"email=a@b.com&email=c@d.com", None),
        (b"email=", None),
        (b"email=a@b.com&user_hash=x", None),
        (b"email=" + b"a" * (LIMITS["email"] + 1), None),
        (b"phone=" + b"1" * (LIMITS["phone"] + 1), None),
    ],
)
def test_stored_form_leaves_everything_else_to_the_full_path(
    query: bytes, wanted: tuple[dict[str, str], str] | None
) -> None:
    assert stored_form(query) == wanted


def test_a_route_with_another_guard_is_left_to_litestar(demo_db: Path) -> None:
    """The fast path never answers past a guard it does not know."""

    def closed(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
        raise PermissionDeniedException("closed for maintenance")

    full = create_app(make_settings(demo_db))
    store = full.state.store
    app = Litestar(
        route_handlers=[
            Router("/", route_handlers=[get_context], guards=[require_api_key, closed])
        ],
        dependencies={"store": Provide(lambda: store, sync_to_thread=False)},
        exception_handlers=EXCEPTION_HANDLERS,
        state=full.state,
    )
    with TestClient(app=app) as client:
        response = client.get("/v1/context", params={"email": MAYA}, headers=AUTH)
        assert response.status_code == 403
        assert "Maya" not in response.text
    store.close()


def test_one_statement_lookups_agree_with_the_two_step_ones(demo_store: Store) -> None:
    """``lookup.by_email``/``by_phone`` read identifier, profile and snapshot in one statement;
    they must name the same profile (or fail the same way) as ``identifiers.profiles_with``."""
    conn = demo_store.conn
    values = conn.execute(
        "SELECT DISTINCT kind, value FROM identifiers WHERE kind IN ('email', 'phone')"
    ).fetchall()
    assert len(values) > 100
    for kind, value in values:
        expected: object
        try:
            ids = identifiers.profiles_with(conn, kind, value)
            expected = lookup._one(conn, ids, f"{kind} {value}")
        except ContextServiceError as exc:
            expected = (type(exc), exc.extra)
        try:
            got: object = lookup._with(conn, kind, value)
        except ContextServiceError as exc:
            got = (type(exc), exc.extra)
        assert got == expected, (kind, value)


def test_a_key_that_hides_fields_never_gets_the_stored_snapshot(world: Any) -> None:
    """The stored row is served as is, so a key whose grant hides fields may not have it, on
    either path; an audience applies its limits instead."""
    client, _, db = world
    hiding = make_key(db, "hides-email", ["context:read"], hide=["identity.emails"])
    headers = {"Authorization": f"Bearer {hiding}"}
    for params in ({"email": MAYA}, {"email": MAYA, "format": "text"}):
        denied = _both(client, params, headers)
        assert denied.status_code == 403
        assert MAYA not in denied.text
    agent = client.get(
        "/v1/context",
        params={"email": MAYA, "audience": "agent", "format": "json"},
        headers=headers,
    )
    assert agent.status_code == 200, agent.text
    assert MAYA not in agent.text
