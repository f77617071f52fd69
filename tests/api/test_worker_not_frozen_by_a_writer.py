"""While another process holds the store's write lock (an import, ``resolve --all``), a request
that would write does not freeze its server worker: a review saw ``/health`` and every other
read of that worker wait up to 30 s behind one read of a queued profile, or one
``GET /v1/audit/reads``. And ``/metrics`` and ``status`` count a deletion's tombstone apart,
not among the records held."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from context_service.api import create_app
from context_service.snapshot import lookup
from context_service.store import Store
from context_service.sync import IngestContext, RawPayload, ingest_batch
from context_service.sync.status import sync_status
from context_service.wiring import default_mappers
from tests.conftest import TEST_KEY, make_settings
from tests.payloads import stripe_customer
from tests.trust.helpers import copy_demo

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}


def test_a_queued_rebuild_on_an_event_loop_waits_briefly_and_on_a_thread_as_writers_do() -> None:
    waits: list[float | None] = []

    def rebuild(_owner: Any, _profile_id: str, _now: str, wait: float | None) -> None:
        waits.append(wait)

    lookup._rebuilt(rebuild, object(), "prof_x", "2026-12-03T00:00:00Z")

    async def on_the_loop() -> None:
        lookup._rebuilt(rebuild, object(), "prof_x", "2026-12-03T00:00:00Z")

    asyncio.run(on_the_loop())
    assert waits == [None, lookup.ON_LOOP_WAIT_S]


@pytest.fixture
def locked(demo_db: Path, tmp_path: Path) -> Iterator[tuple[TestClient[Any], sqlite3.Connection]]:
    """A client of a copy of the demo store with a read buffered for the audit, and another
    connection holding the store's write lock (``rollback`` releases it)."""
    db = copy_demo(demo_db, tmp_path)
    with TestClient(app=create_app(make_settings(db))) as client:
        maya = client.get("/v1/context", params={"email": "maya.patel@example.com"}, headers=AUTH)
        assert maya.status_code == 200
        writer = sqlite3.connect(db, timeout=0)
        writer.execute("BEGIN IMMEDIATE")
        try:
            yield client, writer
        finally:
            writer.rollback()
            writer.close()


def test_the_audit_listing_waits_for_the_lock_off_the_event_loop(locked: Any) -> None:
    client, writer = locked
    answers: dict[str, Any] = {}

    def audit() -> None:
        answers["audit"] = client.get("/v1/audit/reads", headers=AUTH)

    waiting = threading.Thread(target=audit)
    waiting.start()
    waiting.join(0.5)  # it is now waiting for the write lock, to flush the buffered read
    assert waiting.is_alive()
    health = client.get("/health")  # answered meanwhile: the worker's loop is not held
    assert health.status_code == 200
    assert waiting.is_alive()
    writer.rollback()
    waiting.join(60)
    assert answers["audit"].status_code == 200
    assert answers["audit"].json()["reads"]  # the buffered read was flushed and listed


def test_metrics_and_status_count_a_deleted_record_apart(demo_db: Path, tmp_path: Path) -> None:
    db = copy_demo(demo_db, tmp_path)
    store = Store(db)
    ctx = IngestContext(mappers=default_mappers())
    customer = stripe_customer("cus_gone1", "gone@example.com", "Gone Person")
    try:
        ingest_batch(store, [RawPayload(*customer, observed_at="2026-01-01T00:00:00Z")], ctx)
        before = sync_status(store, ["stripe"])["stripe"]["records"]
        gone = RawPayload(*customer, observed_at="2026-01-02T00:00:00Z", deleted=True)
        ingest_batch(store, [gone], ctx)
        assert sync_status(store, ["stripe"])["stripe"]["records"] == before - 1
    finally:
        store.close()
    with TestClient(app=create_app(make_settings(db))) as client:
        text = client.get("/metrics", headers=AUTH).text
    gauges = {name: int(value) for name, value in (line.split(" ") for line in text.splitlines())}
    with sqlite3.connect(db) as conn:
        held, deleted = conn.execute(
            "SELECT count(*) FILTER (WHERE deleted = 0), count(*) FILTER (WHERE deleted <> 0) "
            "FROM records"
        ).fetchone()
    assert gauges["context_service_records"] == held
    assert gauges["context_service_records_deleted"] == deleted >= 1
