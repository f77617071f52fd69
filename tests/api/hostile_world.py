"""The served world of the hostile-input tests (review 14): a copy of the demo store with one
key per scope and a chatbot-only key, the secrets no answer may quote, and what the OpenAPI
document and the route table say of every operation."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from context_service.api import create_app
from context_service.trust import AUTHENTICATED, CONTEXT_LOOKUP, SCOPES
from tests.conftest import TEST_KEY, make_settings
from tests.trust.helpers import copy_demo, make_key

STRIPE_SECRET = "whsec_hostile-stripe-secret-0001"
SHOPIFY_SECRET = "shpss_hostile-shopify-secret-0002"
WIDGET_SECRET = "hostile-widget-secret-0003"
OPEN = "/health"
HTML_ERRORS = "/widget"  # a signed link opened in a browser: errors are HTML pages
CHATBOT_ROUTES = {"/v1/context", "/v1/context/lookup"}


@dataclass(repr=False)
class Hostile:
    """The served demo store copy, its keys and what the schema documents."""

    client: TestClient[Any]
    scoped: dict[str, str]  # scope -> a key holding only that scope
    chatbot_only: str  # every scope, but only the chatbot audience
    secrets: tuple[str, ...]
    operations: list[tuple[str, str, dict[str, Any]]]  # method, path template, operation
    components: dict[str, Any]
    scopes: dict[tuple[str, str], str | None]  # (method, template) -> scope; None: no key


@pytest.fixture(scope="module", name="hostile")
def hostile_fixture(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hostile]:
    """A copy of the demo store (the property writes: merges, erasures, keys) served with one
    key per scope and a chatbot-only key."""
    db = copy_demo(demo_db, tmp_path_factory.mktemp("hostile"))
    scoped = {s: make_key(db, f"hostile-{s.replace(':', '-')}", [s]) for s in SCOPES}
    chatbot_only = make_key(db, "hostile-chatbot", list(SCOPES), audiences=["chatbot"])
    app_settings = make_settings(
        db,
        stripe_webhook_secret=STRIPE_SECRET,
        shopify_webhook_secret=SHOPIFY_SECRET,
        widget_secret=WIDGET_SECRET,
        rate_limit_per_minute=1_000_000,
    )
    secrets = (TEST_KEY, STRIPE_SECRET, SHOPIFY_SECRET, WIDGET_SECRET, chatbot_only)
    with TestClient(app=create_app(app_settings)) as client:
        auth = {"Authorization": f"Bearer {TEST_KEY}"}
        document = client.get("/schema/openapi.json", headers=auth).json()
        operations = [
            (method.upper(), path, operation)
            for path, item in document["paths"].items()
            for method, operation in item.items()
        ]
        operations.append(("POST", "/mcp", {}))
        yield Hostile(
            client,
            scoped,
            chatbot_only,
            secrets + tuple(scoped.values()),
            operations,
            document.get("components", {}),
            route_scopes(client.app),
        )


def route_scopes(app: Any) -> dict[tuple[str, str], str | None]:
    """(method, path template) -> the scope the route's handler declares (``None``: no key)."""
    scopes: dict[tuple[str, str], str | None] = {("POST", "/mcp"): CONTEXT_LOOKUP}
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            for method in getattr(handler, "http_methods", ()):
                guarded = bool(handler.resolve_guards())
                scope = handler.opt.get("scope") if guarded else None
                if guarded and method == "OPTIONS":
                    scope = AUTHENTICATED
                scopes[(method, route.path_format)] = scope
    return scopes
