"""The key a test server signs widget links with, for tests that sign links of their own.

Without ``CONTEXT_SERVICE_WIDGET_SECRET`` that is the random secret the store keeps
(``widget.link_keys``), made on first use exactly as the server's first minted link makes it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar.testing import TestClient

from context_service.settings import Settings
from context_service.store import Store
from context_service.widget import link_key


def store_key(db: Path | str) -> bytes:
    """The signing key of the store at ``db`` (no widget secret)."""
    store = Store(db)
    try:
        return link_key(None, store, mint=True)
    finally:
        store.close()


def app_key(client: TestClient[Any]) -> bytes:
    """The key the app under ``client`` signs and checks widget links with."""
    settings: Settings = client.app.state.settings
    store = Store(settings.db)
    try:
        return link_key(settings.widget_secret, store, mint=True)
    finally:
        store.close()
