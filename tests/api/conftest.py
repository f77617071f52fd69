"""Fixtures shared by the API tests that are split over several modules."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from context_service.api import create_app
from context_service.store import Store
from tests.api.fuzz_world import World, make_world
from tests.api.webhook_deliveries import posting, startup_drain_done
from tests.conftest import make_settings


@pytest.fixture(scope="module")
def fuzz_world(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The fuzz tests' server, store and keys (``tests.api.fuzz_world``), one per module."""
    yield from make_world(demo_db, tmp_path_factory)


@pytest.fixture
def post(store: Store) -> Iterator[Callable[..., Any]]:
    """``post(source, fake, body, headers)``: one webhook delivery through a fresh app on
    ``store`` (``tests.api.webhook_deliveries``)."""
    yield from posting(store)


@pytest.fixture
def client(store: Store) -> Iterator[TestClient[Any]]:
    """A test client of an app serving the test's own ``store``; modules that test against
    the demo store define their own ``client``."""
    app = create_app(make_settings(store.path), store=store)
    with TestClient(app=app) as test_client:
        startup_drain_done()
        yield test_client
