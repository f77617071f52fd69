"""Every protected endpoint x every scope: the allowed key succeeds, the others get 403, a
revoked key 401. Routes are enumerated from the app itself, so a new route without a declared
scope, or without a sample call here, fails this test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.routes import ASGIRoute, HTTPRoute
from litestar.testing import TestClient

from context_service.api import create_app
from context_service.api.keys import KNOWN
from context_service.store import Store
from context_service.trust import (
    AUTHENTICATED,
    ESCALATIONS_WRITE,
    SCOPES,
    KeySpec,
    create_key,
    revoke_key,
)
from tests.conftest import TEST_KEY, make_settings
from tests.mcp.messages import ACCEPT_MCP, initialize
from tests.trust.helpers import MAYA, copy_demo, make_key

OPEN = {"/health", "/v1/webhooks/{source:str}", "/widget"}
INITIALIZE = initialize("matrix")
Call = Callable[[TestClient[Any], dict[str, str], dict[str, str]], Any]


def _get(path: str, **params: str) -> Call:
    return lambda c, h, ids: c.get(path.format(**ids), params=params, headers=h)


def _post(path: str, body: dict[str, Any]) -> Call:
    return lambda c, h, ids: c.post(path.format(**ids), json=_fill(body, ids), headers=h)


def _delete(path: str) -> Call:
    return lambda c, h, ids: c.delete(path.format(**ids), headers=h)


def _fill(body: Any, ids: dict[str, str]) -> Any:
    if isinstance(body, str):
        return body.format(**ids)
    if isinstance(body, list):
        return [_fill(b, ids) for b in body]
    if isinstance(body, dict):
        return {k: _fill(v, ids) for k, v in body.items()}
    return body


# (method, route path) -> a valid call. Placeholders come from the ``ids`` fixture.
SAMPLES: dict[tuple[str, str], Call] = {
    ("GET", "/metrics"): _get("/metrics"),
    ("GET", "/v1/context"): _get("/v1/context", email=MAYA),
    ("POST", "/v1/context/lookup"): _post("/v1/context/lookup", {"email": MAYA}),
    ("POST", "/v1/escalations"): _post(
        "/v1/escalations", {"customer": {"email": MAYA}, "reason": "wants a person"}
    ),
    ("GET", "/v1/sync"): _get("/v1/sync"),
    ("GET", "/v1/tools/openai"): _get("/v1/tools/openai"),
    ("POST", "/v1/tools/call"): _post(
        "/v1/tools/call", {"name": "find_customer", "arguments": {"email": MAYA}}
    ),
    ("POST", "/v1/widget/url"): _post("/v1/widget/url", {"email": MAYA}),
    ("GET", "/v1/profiles/{profile_id:str}/audit"): _get("/v1/profiles/{maya}/audit"),
    ("POST", "/v1/profiles/merge"): _post(
        "/v1/profiles/merge", {"profile_ids": ["{merge_a}", "{merge_b}"]}
    ),
    ("POST", "/v1/profiles/{profile_id:str}/split"): _post(
        "/v1/profiles/{split_profile}/split",
        {
            "records": [
                {"source": "{split_source}", "kind": "{split_kind}", "external_id": "{split_id}"}
            ]
        },
    ),
    ("GET", "/v1/review"): _get("/v1/review"),
    ("POST", "/v1/review/{item_id:str}"): _post("/v1/review/{review_item}", {"decision": "reject"}),
    ("GET", "/v1/audit/reads"): _get("/v1/audit/reads", profile_id="{maya}"),
    ("DELETE", "/v1/profiles/{profile_id:str}"): _delete("/v1/profiles/{victim}"),
    ("GET", "/v1/profiles/{profile_id:str}/export"): _get("/v1/profiles/{maya}/export"),
    ("GET", "/v1/keys"): _get("/v1/keys"),
    ("POST", "/v1/keys"): _post("/v1/keys", {"name": "made-by-matrix", "scopes": ["admin"]}),
    ("DELETE", "/v1/keys/{name:str}"): _delete("/v1/keys/doomed"),
    ("POST", "/mcp"): lambda c, h, ids: c.post(
        "/mcp", json=INITIALIZE, headers={**h, **ACCEPT_MCP}
    ),
}


def protected_routes(app: Litestar) -> list[tuple[str, str, str | None]]:
    """(method, path, declared scope) of every route behind the API-key guard."""
    found = []
    for route in app.routes:
        if isinstance(route, ASGIRoute):
            found.append(("POST", route.path, route.route_handler.opt.get("scope")))
            continue
        assert isinstance(route, HTTPRoute)
        for handler in route.route_handlers:
            methods = set(handler.http_methods) - {"OPTIONS", "HEAD"}
            if not methods or route.path in OPEN:
                continue
            names = [g.__name__ for g in handler.resolve_guards()]
            assert "require_api_key" in names, f"{route.path} is not behind the key guard"
            found += [(m, route.path, handler.opt.get("scope")) for m in sorted(methods)]
    return found


@pytest.fixture
def world(
    demo_db: Path, tmp_path: Path
) -> Iterator[tuple[TestClient[Any], dict[str, str], dict[str, str]]]:
    db = copy_demo(demo_db, tmp_path)
    # POST /v1/escalations, like the create_escalation tool, needs a trusted-backend key.
    keys = {
        scope: make_key(
            db, scope.replace(":", "-"), [scope], trusted_backend=scope == ESCALATIONS_WRITE
        )
        for scope in SCOPES
    }
    keys["revoked"] = make_key(db, "revoked", list(SCOPES))
    make_key(db, "doomed", ["context:read"])
    store = Store(db)
    revoke_key(store, "revoked", "2026-01-02T00:00:00Z")
    ids = _ids(store)
    store.close()
    with TestClient(app=create_app(make_settings(db))) as client:
        yield client, keys, ids


def _ids(store: Store) -> dict[str, str]:
    conn = store.conn
    maya = conn.execute(
        "SELECT profile_id FROM identifiers i JOIN profile_members m ON m.record_id = i.record_id "
        "WHERE kind = 'email' AND value = ?",
        (MAYA,),
    ).fetchone()[0]
    others = [
        r[0]
        for r in conn.execute(
            "SELECT id FROM profiles WHERE id != ? ORDER BY rowid DESC LIMIT 3", (maya,)
        )
    ]
    split = conn.execute(
        "SELECT m.profile_id, r.source, r.kind, r.external_id FROM profile_members m "
        "JOIN records r ON r.id = m.record_id WHERE m.profile_id IN "
        "(SELECT profile_id FROM profile_members GROUP BY profile_id HAVING count(*) > 1) "
        "AND m.profile_id != ? LIMIT 1",
        (maya,),
    ).fetchone()
    item = conn.execute("SELECT id FROM review_items WHERE status = 'open' LIMIT 1").fetchone()
    return {
        "maya": maya,
        "merge_a": others[0],
        "merge_b": others[1],
        "victim": others[2],
        "split_profile": split[0],
        "split_source": split[1],
        "split_kind": split[2],
        "split_id": split[3],
        "review_item": str(item[0]) if item else "999999",
    }


def test_every_protected_route_declares_a_known_scope_and_has_a_sample(demo_db: Path) -> None:
    app = create_app(make_settings(demo_db))
    for method, path, scope in protected_routes(app):
        if path.startswith("/schema"):
            assert scope == AUTHENTICATED, path
            continue
        assert scope in SCOPES, f"{method} {path} declares no known scope: {scope!r}"
        assert (method, path) in SAMPLES, f"add a sample call for {method} {path} to this test"


def test_matrix_allowed_succeeds_others_403_revoked_401(world: Any) -> None:
    client, keys, ids = world
    routes = [r for r in protected_routes(client.app) if not r[1].startswith("/schema")]
    for method, path, scope in routes:
        call = SAMPLES[(method, path)]
        revoked = call(client, {"Authorization": f"Bearer {keys['revoked']}"}, ids)
        assert revoked.status_code == 401, (method, path)
        for held in SCOPES:
            if held == scope:
                continue
            denied = call(client, {"Authorization": f"Bearer {keys[held]}"}, ids)
            assert denied.status_code == 403, (method, path, held, denied.text)
        allowed = call(client, {"Authorization": f"Bearer {keys[scope]}"}, ids)
        ok = allowed.status_code < 300 or (
            path == "/v1/review/{item_id:str}" and allowed.status_code == 404
        )
        assert ok, (method, path, allowed.status_code, allowed.text)


def test_schema_needs_any_valid_key(world: Any) -> None:
    client, keys, _ = world
    assert client.get("/schema/openapi.json").status_code == 401
    auth = {"Authorization": f"Bearer {keys['revoked']}"}
    assert client.get("/schema/openapi.json", headers=auth).status_code == 401
    for scope in SCOPES:
        auth = {"Authorization": f"Bearer {keys[scope]}"}
        assert client.get("/schema/openapi.json", headers=auth).status_code == 200


def test_options_answers_any_valid_key_and_no_one_else(world: Any) -> None:
    """Litestar's automatic OPTIONS answer lists the route's methods and nothing else: any
    valid key may ask (it used to get a misleading 403), no key or a revoked one gets 401."""
    client, keys, _ = world
    for scope in SCOPES:
        auth = {"Authorization": f"Bearer {keys[scope]}"}
        answer = client.options("/v1/context", headers=auth)
        assert answer.status_code in {200, 204}, answer.text
        assert "GET" in answer.headers["allow"]
    assert client.options("/v1/context").status_code == 401
    revoked = {"Authorization": f"Bearer {keys['revoked']}"}
    assert client.options("/v1/context", headers=revoked).status_code == 401


def test_bootstrap_keys_hold_every_scope(world: Any) -> None:
    client, _, ids = world
    auth = {"Authorization": f"Bearer {TEST_KEY}"}
    for method, path in [("GET", "/v1/keys"), ("GET", "/v1/context"), ("GET", "/v1/sync")]:
        assert SAMPLES[(method, path)](client, auth, ids).status_code == 200


def test_health_stays_open(world: Any) -> None:
    client, _, _ = world
    assert client.get("/health").status_code == 200


def test_a_tool_key_limited_to_other_audiences_cannot_probe_who_exists(
    demo_db: Path, tmp_path: Path
) -> None:
    """get_customer_context renders for the chatbot: a trusted backend key limited to the
    agent audience gets the same 403 for a customer and for nobody."""
    db = copy_demo(demo_db, tmp_path)
    store = Store(db)
    try:
        spec = KeySpec(
            name="agents-only",
            scopes=["context:lookup"],
            audiences=["agent"],
            trusted_backend=True,
        )
        key = create_key(store, spec, "2026-01-01T00:00:00Z", KNOWN).key
    finally:
        store.close()
    headers = {"Authorization": f"Bearer {key}"}
    with TestClient(app=create_app(make_settings(db))) as client:
        for email in (MAYA, "nobody.here@example.com"):
            body = {"name": "get_customer_context", "arguments": {"email": email}}
            answer = client.post("/v1/tools/call", json=body, headers=headers)
            assert answer.status_code == 403, (email, answer.text)
