"""The litestar application: ``create_app(settings)`` wires the store and the routes.

This module (and ``cli.py``) are the only places that wire integrations in.
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar, Router, get
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme

from context_service import __version__
from context_service.api.auth import ApiKeys, require_api_key
from context_service.api.context import get_context
from context_service.api.problems import EXCEPTION_HANDLERS
from context_service.settings import Settings, load_settings
from context_service.store import Store


@get("/health", sync_to_thread=False, summary="Liveness and database check")
def health(store: NamedDependency[Store]) -> dict[str, Any]:
    """Open to everyone: says whether the database answers."""
    store.conn.execute("SELECT 1").fetchone()
    return {"status": "ok", "version": __version__}


@get("/metrics", sync_to_thread=False, media_type="text/plain")
def metrics(store: NamedDependency[Store]) -> str:
    """Prometheus-style gauges of the store's size."""
    conn = store.conn
    profiles = conn.execute("SELECT count(*) FROM profiles").fetchone()[0]
    records = conn.execute("SELECT count(*) FROM records").fetchone()[0]
    rejected = conn.execute("SELECT count(*) FROM records WHERE error IS NOT NULL").fetchone()[0]
    return (
        f"context_service_profiles {profiles}\n"
        f"context_service_records {records}\n"
        f"context_service_records_rejected {rejected}\n"
    )


def app_from_env() -> Litestar:
    """App factory for the server process: settings from ``CONTEXT_SERVICE_*`` variables."""
    return create_app(load_settings())


def _protected_routes() -> Router:
    """Everything but ``/health`` needs an API key."""
    return Router("/", route_handlers=[metrics, get_context], guards=[require_api_key])


def create_app(settings: Settings, store: Store | None = None) -> Litestar:
    """Build the HTTP app. ``store`` defaults to the database named in the settings."""
    the_store = store or Store(settings.db)

    def provide_store() -> Store:
        return the_store

    return Litestar(
        route_handlers=[health, _protected_routes()],
        dependencies={"store": Provide(provide_store, use_cache=True, sync_to_thread=False)},
        exception_handlers=EXCEPTION_HANDLERS,
        state=State({"settings": settings, "api_keys": ApiKeys(settings.api_keys)}),
        openapi_config=OpenAPIConfig(
            title="Customer context service",
            version=__version__,
            components=Components(
                security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer")}
            ),
            security=[{"bearer": []}],
            openapi_router=Router("/schema", route_handlers=[], guards=[require_api_key]),
        ),
        on_shutdown=[the_store.close] if store is None else [],
        debug=False,
    )
