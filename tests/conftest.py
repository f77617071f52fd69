"""Shared fixtures: a fresh store per test, an ingest helper, and one demo store per session."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from context_service.settings import Settings, load_settings
from context_service.snapshot.links import DashboardLinks
from context_service.store import Store
from context_service.sync import IngestContext, IngestReport, RawPayload, ingest_all, ingest_batch
from context_service.wiring import default_mappers

TEST_KEY = "test-key-0123456789"
DEMO_CUSTOMERS = 300

Ingest = Callable[..., IngestReport]


def make_settings(db: Path | str, **overrides: Any) -> Settings:
    """Settings for tests: no environment, one API key, demo dashboard links."""
    values: dict[str, Any] = {
        "api_keys": [TEST_KEY],
        "shopify_shop": "context-demo",
        "hubspot_portal_id": "4242424",
        "zendesk_subdomain": "context-demo",
    }
    values.update(overrides)
    return load_settings(environ={}, db=str(db), **values)


@pytest.fixture(scope="session")
def blank_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store file with every migration applied, made once per session (per worker): a test's
    ``store`` is a copy of it, which takes a third of the time of migrating a new file. (The
    migrations themselves are tested on new files, in tests/store.)"""
    path = tmp_path_factory.mktemp("blank") / "blank.db"
    Store(path).close()
    return path


@pytest.fixture
def store(tmp_path: Path, blank_store: Path) -> Iterator[Store]:
    the_store = Store(copy_store(blank_store, tmp_path / "test.db"))
    yield the_store
    the_store.close()


@pytest.fixture
def ctx() -> IngestContext:
    return IngestContext(
        mappers=default_mappers(),
        links=DashboardLinks(shopify_shop="context-demo", hubspot_portal_id="4242424"),
    )


@pytest.fixture
def ingest(store: Store, ctx: IngestContext) -> Ingest:
    """Ingest (source, kind, payload) triples into the test store as one batch."""

    def run(*items: tuple[str, str, dict[str, Any]]) -> IngestReport:
        return ingest_batch(store, [RawPayload(*item) for item in items], ctx)

    return run


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo store (personas plus a few hundred synthetic customers), built once per session."""
    from context_service.demo import generate_demo

    path = tmp_path_factory.mktemp("demo") / "demo.db"
    the_store = Store(path)
    ctx = IngestContext(
        mappers=default_mappers(),
        links=DashboardLinks(shopify_shop="context-demo", hubspot_portal_id="4242424"),
    )
    payloads = (RawPayload(p.source, p.kind, p.payload) for p in generate_demo(DEMO_CUSTOMERS))
    report = ingest_all(the_store, payloads, ctx)
    assert report.seen > DEMO_CUSTOMERS
    the_store.close()
    return path


@pytest.fixture(autouse=True)
def _forget_posted_notes(request: pytest.FixtureRequest) -> Iterator[None]:
    """The shared demo store remembers the notes posted on its tickets (``posted_notes``, so a
    retried escalation posts once across workers): a test that escalates for Maya must not find
    the note another test posted. Cleared after each test that used the demo store."""
    yield
    if "demo_db" in request.fixturenames:
        with sqlite3.connect(request.getfixturevalue("demo_db"), timeout=30) as conn:
            conn.execute("DELETE FROM posted_notes")
        conn.close()


@pytest.fixture
def demo_store(demo_db: Path) -> Iterator[Store]:
    the_store = Store(demo_db)
    yield the_store
    the_store.close()


def copy_store(source: Path, target: Path) -> Path:
    """Copy a store through SQLite's backup API, never by copying the file: closing a file
    descriptor of a database this process has open drops every POSIX lock SQLite holds on it,
    so a file copy of a store a test (or a leaked background writer) still has open lets
    another connection checkpoint under it ("disk I/O error" in a later test)."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()
    return target
